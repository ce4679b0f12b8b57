"""`event`: a business event from the terminal's journal (sales, payments, receipts, faults).

Every event carries the journal id `jid` (8 hex digits, drawn when the terminal's journal was created) and a
sequence number `seq` that never repeats within that journal, across reboots included. Together with the
serial they form the idempotency key: the fleet stores an event once however often it is delivered, and a
terminal whose flash was wiped starts a new journal id instead of reusing old keys.
"""

OPEN = "open"
SALE = "sale"
VOID = "void"
REFUND = "refund"
PAYMENT = "payment"
RECEIPT = "receipt"
FAULT = "fault"
PAYLINK = "paylink"  # the cashier asks the fleet to send a pay link for an order's outstanding amount (P1-P2)

METHODS = ("cash", "qris", "card", "paylater", "paylink", "custom")
PAID = "paid"
PARTIALLY_PAID = "partially_paid"
UNPAID = "unpaid"
FAULTS = (
    "paper_out",
    "paper_low",
    "cover_open",
    "printer_error",
    "low_battery",
    "crash_reboot",
    "outbox_full",
    "flash_full",
)

TYPES = (OPEN, SALE, VOID, REFUND, PAYMENT, RECEIPT, FAULT, PAYLINK)


def build(serial: str, ts: int, jid: str, seq: int, kind: str, data: dict) -> dict:
    """Build an event of type `kind` (SALE, VOID, ...) with its `data` object."""
    return {"v": 1, "serial": serial, "ts": ts, "jid": jid, "seq": seq, "type": kind, "data": data}


def idempotency_key(msg: dict) -> str:
    """The key the fleet deduplicates on: serial, journal id and sequence number."""
    return "%s/%s/%d" % (msg["serial"], msg["jid"], msg["seq"])


def validate(msg: dict) -> None:
    """Raise ProtocolError unless `msg` is a valid event body; sale totals must add up."""
    from protocol import event_spec  # the tables load on first use: a terminal never needs them

    event_spec.validate(msg)
