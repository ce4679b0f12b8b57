"""What the command service refuses (see fleet/errors.py)."""

from fleet.errors import Invalid


class BadCommand(Invalid):
    """A command the protocol would refuse, or a time to live out of its range."""

    type_ = "bad-command"
