"""What the fleet refuses, in its own terms.

Services raise these, never an HTTP error. Each is one of five kinds; the API answers it as problem+json
with the status its kind maps to (`fleet.api.problems`), the portal as a message on the page
(`fleet.web.refusals`), the CLI as a line on stderr. A feature with refusals of its own names them in its
`exceptions.py`, each a subclass of one kind here with its own `type_` (the problem's type).

    raise NotFound(f"no device {serial!r}")
    raise PayLinkRefused("SMS goes only to Indonesian numbers (+62)", rule="P2")
"""

from typing import Any, ClassVar


class Refusal(Exception):
    """A request the fleet will not carry out; `detail` says why in words a user can act on."""

    kind: str = "invalid"  # not_found, conflict, invalid, forbidden, too_many
    type_: ClassVar[str] = "bad-value"

    def __init__(self, detail: str, *, rule: str | None = None, retry_after: float | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.rule = rule
        self.retry_after = retry_after  # seconds, for too_many
        self.extra = ({"rule": rule} if rule else {}) | extra  # more fields for the problem body


class NotFound(Refusal):
    """No such thing, or not one the caller may see (another merchant's answers the same)."""

    kind = "not_found"
    type_ = "not-found"


class Conflict(Refusal):
    """The thing is not in a state that allows it (already answered, changed meanwhile, exists)."""

    kind = "conflict"
    type_ = "conflict"


class Invalid(Refusal):
    """The request itself is wrong (a value out of its range, a rule it breaks)."""

    kind = "invalid"
    type_ = "bad-value"


class Forbidden(Refusal):
    """The caller's role may not do this."""

    kind = "forbidden"
    type_ = "forbidden"


class TooMany(Refusal):
    """Asked too often; `retry_after` says when to ask again."""

    kind = "too_many"
    type_ = "rate-limited"
