"""`ack`: a terminal's answer to one command, carrying the command's correlation id."""

from protocol import schema as s

# Error codes a terminal acks with.
MALFORMED = "malformed"
UNKNOWN_COMMAND = "unknown_command"
REJECTED = "rejected"  # well-formed but refused in the terminal's state (no such receipt, sale not pending...)
EXPIRED = "expired"
FAILED = "failed"

SPEC = (
    s.TS,
    ("id", s.STR, True, 1, 40),
    ("ok", s.BOOL, True),
    ("error", s.ENUM, False, (MALFORMED, UNKNOWN_COMMAND, REJECTED, EXPIRED, FAILED)),
    ("detail", s.STR, False, 1, 200),
    ("result", s.MAP, False, 32),
)


def build(
    serial: str,
    ts: int,
    cmd_id: str,
    ok: bool,
    error: str | None = None,
    detail: str | None = None,
    result: dict | None = None,
) -> dict:
    """Build an ack; a failed one names an error code and a detail."""
    msg = {"v": 1, "serial": serial, "ts": ts, "id": cmd_id, "ok": ok}
    if error is not None:
        msg["error"] = error
    if detail is not None:
        msg["detail"] = detail[:200]
    if result is not None:
        msg["result"] = result
    return msg


def validate(msg: dict) -> None:
    """Raise ProtocolError unless `msg` is a valid ack body; a failed ack must say why."""
    s.check(msg, SPEC)
    if not msg["ok"] and msg.get("error") is None:
        s.fail("error", "is required when ok is false")
