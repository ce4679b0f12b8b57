"""What the user service refuses (see fleet/errors.py)."""

from fleet.errors import Invalid


class BadUser(Invalid):
    """A user whose role and merchant do not go together."""

    type_ = "bad-user"
