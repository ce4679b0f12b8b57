"""A service's refusal as the portal shows it: the one mapping from `fleet.errors` to pages (the API's is
`fleet.api.problems.STATUS`, whose statuses the pages answer with too).

A refusal whose kind the portal words itself (not found, too many) shows those words in the reader's
language; any other shows the service's own detail, which names what to change.
"""

from fleet.api.problems import STATUS
from fleet.errors import Refusal

# i18n keys by the refusal's type, then by its kind.
_WORDS = {"not-registered": "not_registered", "not_found": "not_found", "too_many": "too_many"}


def status(e: Refusal) -> int:
    """The HTTP status of the page that shows `e`."""
    return STATUS[e.kind]


def words(e: Refusal) -> str:
    """What the page says: an i18n key (the templates translate it) or the refusal's own detail."""
    return _WORDS.get(e.type_) or _WORDS.get(e.kind) or e.detail
