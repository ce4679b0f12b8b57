"""What the repair service refuses (see fleet/errors.py)."""

from fleet.domain.tickets import TicketError
from fleet.errors import Conflict, Invalid, NotFound, Refusal, TooMany


class NotRegistered(NotFound):
    """W4: the public check found no registered device with this serial and invoice number."""

    type_ = "not-registered"


class TooManyChecks(TooMany):
    """The public warranty check is asked too often from one address."""


class StaleTicket(Conflict):
    """The ticket changed since the caller loaded it (its version differs)."""


class BadSwap(Invalid):
    """A replacement unit that cannot take the old one's place."""

    type_ = "bad-swap"


class TransitionRefused(Refusal):
    """The ticket machine said no: a role that may not (forbidden), a state that does not allow the action
    (conflict), or data the action needs (invalid)."""

    type_ = "transition-refused"

    def __init__(self, error: TicketError, state: str) -> None:
        super().__init__(str(error))
        self.rule, self.extra = error.rule, {"rule": error.rule, "state": state}
        self.kind = {"role": "forbidden", "state": "conflict"}.get(error.reason, "invalid")
