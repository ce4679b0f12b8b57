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
    s.check(msg.get("args") or {}, ARGS[name], "args")
