"""`req`: a terminal asks the fleet something that needs a server now (a PayLater step, a refund).

Unlike `event`, a request is not journaled: it only makes sense while the cashier waits, so a terminal
sends one only when connected, and a request that gets no answer in time is given up at the terminal.
The fleet answers with a `cmd` (`paylater`, `refund_answer`) carrying the request's `ref`; a repeated
request `id` (QoS 1 may deliver twice) gets the same answer again and changes nothing.
"""

from protocol import schema as s
from protocol.errors import BAD_VALUE, ProtocolError

PAYLATER_START = "paylater_start"  # P4: the customer's phone; the fleet sends an OTP to it by SMS
PAYLATER_OTP = "paylater_otp"  # the code the customer read out; the fleet answers with the offer
PAYLATER_TENOR = "paylater_tenor"  # the tenor the customer chose: the fleet makes the charge
PAYLATER_CANCEL = "paylater_cancel"  # the cashier gave up
REFUND = "refund"  # RF5: a refund of an earlier day's sale, which the merchant's balance may have to pay

_REF = ("ref", s.STR, True, 1, 40)  # the terminal's name for this attempt, e.g. "A1-000045/P1", "A1-000042/R1"

ARGS = {
    PAYLATER_START: (
        _REF,
        s.RECEIPT,
        ("amount", s.INT, True, 1, s.MONEY_MAX),
        ("phone", s.STR, True, 9, 16),
    ),
    PAYLATER_OTP: (_REF, ("code", s.STR, True, 4, 8)),
    PAYLATER_TENOR: (_REF, ("tenor", s.INT, True, 1, 60)),
    PAYLATER_CANCEL: (_REF,),
    REFUND: (_REF, ("original", s.STR, True, 1, 24), ("amount", s.INT, True, 1, s.MONEY_MAX)),
}

SPEC = (
    s.TS,
    ("id", s.STR, True, 1, 40),
    ("req", s.STR, True, 1, 24),
    ("args", s.MAP, True, 16),
)


def build(serial: str, ts: int, req_id: str, name: str, args: dict) -> dict:
    return {"v": 1, "serial": serial, "ts": ts, "id": req_id, "req": name, "args": args}


def validate(msg: dict) -> None:
    """Raise ProtocolError unless `msg` is a valid request with the arguments its name needs."""
    s.check(msg, SPEC)
    name = msg["req"]
    if name not in ARGS:
        raise ProtocolError(BAD_VALUE, "req", "unknown request " + repr(name))
    s.check(msg["args"], ARGS[name], "args")
    if name == PAYLATER_START:
        phone = msg["args"]["phone"]
        if phone[0] != "+" or not phone[1:].isdigit():
            raise ProtocolError(BAD_VALUE, "args.phone", "must be + and digits (E.164)")
    elif name == PAYLATER_OTP and not msg["args"]["code"].isdigit():
        raise ProtocolError(BAD_VALUE, "args.code", "must be digits")
