"""`cmd`: a command from the fleet to one terminal; the terminal answers on `ack` with the same `id`."""

from protocol import schema as s
from protocol.errors import BAD_VALUE, ProtocolError

CONFIG = "config"
REPRINT = "reprint"
PING = "ping"
LOCK = "lock"
UNLOCK = "unlock"
PAY_CONFIRM = "pay_confirm"
SET_CLOCK = "set_clock"
REPLACEMENT = "replacement"  # FP1: a replacement order for a payment that has none (custom method)
PAYLATER = "paylater"  # the fleet's answer to a terminal's PayLater request (`req`), by the request's ref
REFUND_ANSWER = "refund_answer"  # RF5: the fleet's answer to a terminal's refund request, by its ref

# The steps of a PayLater answer.
PL_OTP = "otp"  # the code went to the customer's phone: the cashier types it
PL_WRONG = "wrong"  # the code was wrong; `left` tries remain
PL_OFFER = "offer"  # the customer may borrow: `financed` in one of `plans`, after a `down` payment
PL_REFUSED = "refused"  # no credit for this customer (P4: a bad history); `detail` says why
PL_CHARGED = "charged"  # the tenor is taken; the payment follows as pay_confirm (method paylater)
PL_FAILED = "failed"  # anything else (expired or locked code, a foreign number, the window passed)
PL_STEPS = (PL_OTP, PL_WRONG, PL_OFFER, PL_REFUSED, PL_CHARGED, PL_FAILED)

ARGS = {
    CONFIG: (("config", s.MAP, True, 64),),
    REPRINT: (s.RECEIPT,),
    PING: (),
    LOCK: (("reason", s.STR, False, 1, 64),),
    UNLOCK: (),
    PAY_CONFIRM: (
        s.RECEIPT,
        ("method", s.ENUM, True, ("qris", "paylink", "paylater")),
        ("amount", s.INT, True, 1, s.MONEY_MAX),
        ("ref", s.STR, True, 1, 64),
    ),
    SET_CLOCK: (("time", s.INT, True, 0, s.TS_MAX),),
    REPLACEMENT: (
        ("original", s.STR, False, 1, 24),  # the receipt whose sale the payment was for, when known
        ("amount", s.INT, True, 1, s.MONEY_MAX),
        ("ref", s.STR, True, 1, 64),  # the payment's RRN or reference
    ),
    PAYLATER: (
        ("ref", s.STR, True, 1, 40),
        ("step", s.ENUM, True, PL_STEPS),
        ("detail", s.STR, False, 1, 80),
        ("left", s.INT, False, 0, 9),
        ("down", s.INT, False, 0, s.MONEY_MAX),
        ("financed", s.INT, False, 1, s.MONEY_MAX),
        ("plans", s.LIST, False, 8, (("tenor", s.INT, True, 1, 60), ("instalment", s.INT, True, 1, s.MONEY_MAX))),
    ),
    REFUND_ANSWER: (("ref", s.STR, True, 1, 40), ("ok", s.BOOL, True), ("detail", s.STR, False, 1, 80)),
}

NAMES = tuple(ARGS)

SPEC = (
    s.TS,
    ("id", s.STR, True, 1, 40),
    ("cmd", s.STR, True, 1, 24),
    ("args", s.MAP, False, 64),
    ("expires", s.INT, False, 0, s.TS_MAX),  # the terminal refuses the command after this time
)


def build(serial: str, ts: int, cmd_id: str, name: str, args: dict | None = None, expires: int | None = None) -> dict:
    """Build a command; `cmd_id` is the correlation id the ack will carry."""
    msg = {"v": 1, "serial": serial, "ts": ts, "id": cmd_id, "cmd": name, "args": args or {}}
    if expires is not None:
        msg["expires"] = expires
    return msg


def validate(msg: dict) -> None:
    """Raise ProtocolError unless `msg` is a valid command body with the arguments its name needs."""
    s.check(msg, SPEC)
    name = msg["cmd"]
    if name not in ARGS:
        raise ProtocolError(BAD_VALUE, "cmd", "unknown command " + repr(name))
    args = msg.get("args") or {}
    s.check(args, ARGS[name], "args")
    if name == PAYLATER and args["step"] == PL_OFFER and (args.get("financed") is None or not args.get("plans")):
        s.fail("args.plans", "an offer names the financed amount and at least one plan")
