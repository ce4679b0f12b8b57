"""Encode and decode messages: the one path every consumer of the wire goes through.

`decode(topic, payload)` checks, in order: the topic, the payload size, JSON, the envelope (version and
serial, which must equal the topic's), storable text and nesting (`schema.check_storable`), then the
body of that kind. Each failure is a ProtocolError with a
reason code (for counting) and the field at fault.
"""

import json

from protocol import topics

VERSION = 1

# The module of each kind, imported when a message of that kind is first validated: a terminal that only
# decodes commands never loads the other validators.
MODULES = {
    topics.HELLO: "hello",
    topics.STATE: "state",
    topics.TELEMETRY: "telemetry",
    topics.EVENT: "event",
    topics.CMD: "command",
    topics.ACK: "ack",
    topics.REQ: "request",
}


def _validator(kind: str):  # type: ignore[no-untyped-def]
    module = __import__("protocol." + MODULES[kind], None, None, ("validate",))
    return module.validate


# Largest payload accepted per kind, in bytes. An event holds a sale of up to 200 items.
MAX_BYTES = {
    topics.HELLO: 1024,
    topics.STATE: 256,
    topics.TELEMETRY: 1024,
    topics.EVENT: 16384,
    topics.CMD: 4096,
    topics.ACK: 2048,
    topics.REQ: 1024,
}


def encode(msg: dict) -> bytes:
    """Compact JSON bytes for a message."""
    return json.dumps(msg, separators=(",", ":")).encode()


def validate(kind: str, msg: object, serial: str | None = None, storable: bool = False) -> dict:
    """Check a decoded message of `kind`; with `serial`, its serial must be that one. Returns the message.
    `storable`: its raw bytes showed it holds nothing check_storable could refuse (schema.plainly_storable)."""
    from protocol.errors import BAD_VERSION, SERIAL_MISMATCH, WRONG_TYPE, ProtocolError

    if type(msg) is not dict:
        raise ProtocolError(WRONG_TYPE, "", "message must be a JSON object")
    version = msg.get("v")
    if type(version) is not int or version != VERSION:
        raise ProtocolError(BAD_VERSION, "v", "must be %d" % VERSION)
    own = msg.get("serial")
    if not topics.valid_serial(own):  # type: ignore[arg-type]
        raise ProtocolError(
            WRONG_TYPE if type(own) is not str else SERIAL_MISMATCH,
            "serial",
            "must be 4-32 characters of A-Z, 0-9 and '-'",
        )
    if serial is not None and own != serial:
        raise ProtocolError(SERIAL_MISMATCH, "serial", "differs from the topic's serial")
    if not storable:
        from protocol.schema import check_storable

        check_storable(msg)  # before the kind's spec: unknown fields are stored as sent, so they count too
    _validator(kind)(msg)
    return msg


def decode(name: bytes | str, payload: bytes | str) -> tuple[str, str, dict]:
    """Parse and validate one MQTT message; return (serial, kind, message) or raise ProtocolError."""
    from protocol.errors import BAD_JSON, TOO_LARGE, ProtocolError  # encoding alone never loads it
    from protocol.schema import plainly_storable

    serial, kind = topics.parse(name)
    if len(payload) > MAX_BYTES[kind]:
        raise ProtocolError(TOO_LARGE, "", "payload over %d bytes" % MAX_BYTES[kind])
    try:
        msg = json.loads(payload)
    except Exception:  # ValueError, UnicodeError, RecursionError, MemoryError: all mean "not our JSON"
        raise ProtocolError(BAD_JSON, "", "payload is not valid JSON") from None
    return serial, kind, validate(kind, msg, serial, type(payload) is bytes and plainly_storable(payload))
