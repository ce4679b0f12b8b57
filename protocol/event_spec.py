"""Validation tables and cross-field rules of `event` messages.

Kept apart from protocol/event.py so that a terminal, which only builds events, never loads them: on
MicroPython the code of an imported module lives in the small heap (BRIEF §5).
"""

from protocol import schema as s
from protocol.event import (
    FAULT,
    FAULTS,
    METHODS,
    OPEN,
    PAID,
    PARTIALLY_PAID,
    PAYLINK,
    PAYMENT,
    RECEIPT,
    REFUND,
    SALE,
    TYPES,
    UNPAID,
    VOID,
)

_MONEY = (0, s.MONEY_MAX)

ITEM = (
    ("name", s.STR, True, 1, 48),
    ("sku", s.STR, False, 1, 32),
    ("qty", s.INT, True, 1, 9999),
    ("unit_price", s.INT, True) + _MONEY,
    ("discount", s.INT, False) + _MONEY,
)

# Card data: a token, the last 4 digits and the approval code from the external reader, never a card number.
PAYMENT_LINE = (
    ("method", s.ENUM, True, METHODS),
    ("amount", s.INT, True, 1, s.MONEY_MAX),
    ("tendered", s.INT, False) + _MONEY,
    ("change", s.INT, False) + _MONEY,
    ("ref", s.STR, False, 1, 64),
    ("token", s.STR, False, 1, 64),
    ("last4", s.STR, False, 4, 4),
    ("approval", s.STR, False, 1, 12),
    ("tenor", s.INT, False, 1, 60),  # PayLater: the instalment months the customer chose (P4)
)

# A sale's cart and totals: journaled when the cashier moves to payment (OPEN), and again with the
# payments when it closes (SALE). An OPEN without a SALE or VOID after it is a sale in flight.
_TOTALS = (
    s.RECEIPT,
    ("items", s.LIST, True, 200, ITEM),
    ("subtotal", s.INT, True) + _MONEY,
    ("discount", s.INT, True) + _MONEY,
    ("tax", s.INT, True) + _MONEY,
    ("tax_rate_bp", s.INT, True, 0, 10000),  # basis points: PPN 11% = 1100
    ("tax_inclusive", s.BOOL, True),
    ("total", s.INT, True) + _MONEY,
)

DATA = {
    OPEN: _TOTALS,
    SALE: _TOTALS
    + (
        ("payments", s.LIST, True, 8, PAYMENT_LINE),
        ("paid", s.INT, True) + _MONEY,
        ("outstanding", s.INT, True) + _MONEY,
        ("status", s.ENUM, True, (PAID, PARTIALLY_PAID, UNPAID)),
    ),
    VOID: (s.RECEIPT, ("total", s.INT, True) + _MONEY, ("reason", s.STR, False, 1, 64)),
    REFUND: (
        s.RECEIPT,
        ("original", s.STR, True, 1, 24),
        ("amount", s.INT, True, 1, s.MONEY_MAX),
        ("method", s.ENUM, True, METHODS),
        ("reason", s.STR, False, 1, 64),
        ("ref", s.STR, False, 1, 40),  # RF5: the fleet approved it from the balance (the request's ref)
    ),
    # One payment attempt on an open sale: a QRIS shown (pending) then confirmed, expired or cancelled;
    # cash and card are confirmed at once.
    PAYMENT: (s.RECEIPT,)
    + PAYMENT_LINE
    + (
        ("status", s.ENUM, True, ("pending", "confirmed", "expired", "cancelled")),
        ("qr", s.STR, False, 1, 512),
    ),
    RECEIPT: (
        s.RECEIPT,
        ("copy", s.BOOL, True),
        ("of", s.ENUM, True, (SALE, VOID, REFUND, "final")),
        ("bytes", s.INT, True, 0, 1048576),
    ),
    PAYLINK: (
        s.RECEIPT,
        ("phone", s.STR, True, 10, 16),  # +62…: SMS goes to Indonesian numbers only (P2)
        ("methods", s.STRS, True, 3, 12),  # the methods the cashier allows (P2)
    ),
    FAULT: (
        ("code", s.ENUM, True, FAULTS),
        ("active", s.BOOL, True),  # raised (true) or cleared (false)
        ("detail", s.STR, False, 1, 120),
    ),
}

SPEC = (
    s.TS,
    ("jid", s.STR, True, 8, 8),
    ("seq", s.INT, True, 1, 9007199254740991),  # 2**53-1: exact in every JSON reader
    ("type", s.ENUM, True, TYPES),
    ("data", s.MAP, True, 32),
)


def _digits(text: str) -> bool:
    for ch in text:
        if not "0" <= ch <= "9":
            return False
    return len(text) > 0


def validate(msg: dict) -> None:
    """Raise ProtocolError unless `msg` is a valid event body; sale totals must add up."""
    s.check(msg, SPEC)
    for ch in msg["jid"]:
        if ch not in "0123456789abcdef":
            s.fail("jid", "must be 8 lowercase hex digits")
    kind = msg["type"]
    data = s.check(msg["data"], DATA[kind], "data")
    if kind == OPEN or kind == SALE:
        _check_totals(data)
    if kind == SALE:
        _check_payments(data)
    elif kind == PAYMENT:
        _check_card(data, "data")


def _check_totals(data: dict) -> None:
    subtotal = 0
    for item in data["items"]:
        subtotal += item["qty"] * item["unit_price"] - item.get("discount", 0)
    if subtotal != data["subtotal"]:
        s.fail("data.subtotal", "does not equal the sum of the items")
    expected = data["subtotal"] - data["discount"] + (0 if data["tax_inclusive"] else data["tax"])
    if expected != data["total"]:
        s.fail("data.total", "does not equal subtotal - discount (+ tax when exclusive)")


def _check_card(line: dict, where: str) -> None:
    last4 = line.get("last4")
    if last4 is not None and not _digits(last4):
        s.fail(where + ".last4", "must be 4 digits")
    token = line.get("token")
    if token is not None and len(token) >= 12 and _digits(token):
        s.fail(where + ".token", "looks like a card number; only a token may be sent")


def _check_payments(data: dict) -> None:
    paid = 0
    for i, line in enumerate(data["payments"]):
        paid += line["amount"]
        _check_card(line, "data.payments[%d]" % i)
    if paid != data["paid"]:
        s.fail("data.paid", "does not equal the sum of the payments")
    if data["paid"] + data["outstanding"] != data["total"]:
        s.fail("data.outstanding", "paid + outstanding must equal total")
    status = PAID if data["outstanding"] == 0 else (UNPAID if data["paid"] == 0 else PARTIALLY_PAID)
    if status != data["status"]:
        s.fail("data.status", "must be " + status + " for these amounts")
