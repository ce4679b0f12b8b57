"""What the payment services refuse (see fleet/errors.py)."""

from fleet.errors import Conflict, Invalid, TooMany


class PayLinkConflict(Conflict):
    """P1: the order is not one a pay link is for now (paid, or one already open)."""

    type_ = "paylink"


class BadPayLink(Invalid):
    """P2: no address to send to, a foreign number, methods not offered."""

    type_ = "paylink"


class RefundConflict(Conflict):
    """The order or the request is not in a state the refund asks for (unpaid, already answered)."""

    type_ = "refund"


class BadRefund(Invalid):
    """RF1-RF5: amounts and reasons the refund rules refuse."""

    type_ = "refund"


class PayLaterConflict(Conflict):
    """P4: the session is past the step asked for, or the auto-cancel window has passed."""

    type_ = "paylater"


class BadPayLater(Invalid):
    """P4: a foreign number, a tenor not offered."""

    type_ = "paylater"


class TooManyCodes(TooMany):
    """P4: too many OTPs asked for one number."""


class BadCase(Invalid):
    """FP1: a fix-payment case that cannot be resolved this way."""

    type_ = "bad-case"


class BadSettlement(Invalid):
    """The acquirer's settlement report, and the first line of it that is wrong."""

    type_ = "bad-file"
