"""Topic registry: every topic of the contract is built and parsed here and nowhere else.

    pos/v1/{serial}/{kind}

Terminal -> fleet: hello, state, telemetry, event, ack, req.  Fleet -> terminal: cmd.
The serial sits before the kind so that one broker ACL line (`pattern readwrite pos/v1/%u/#`) confines a
terminal to its own subtree, and a terminal subscribes to exactly one topic (`pos/v1/{serial}/cmd`).
"""

PREFIX = "pos/v1"

HELLO = "hello"
STATE = "state"
TELEMETRY = "telemetry"
EVENT = "event"
CMD = "cmd"
ACK = "ack"
REQ = "req"

# kind -> (direction, QoS, retained)
KINDS = {
    HELLO: ("up", 1, False),
    STATE: ("up", 1, True),
    TELEMETRY: ("up", 0, False),
    EVENT: ("up", 1, False),
    CMD: ("down", 1, False),
    ACK: ("up", 1, False),
    REQ: ("up", 1, False),
}

SERIAL_MIN = 4
SERIAL_MAX = 32


def valid_serial(serial: str) -> bool:
    """True when `serial` is 4-32 characters of A-Z, 0-9 and '-' (no MQTT wildcards, no slashes)."""
    if type(serial) is not str or not SERIAL_MIN <= len(serial) <= SERIAL_MAX:
        return False
    for ch in serial:
        if not ("A" <= ch <= "Z" or "0" <= ch <= "9" or ch == "-"):
            return False
    return True


def topic(serial: str, kind: str) -> str:
    """Build the topic for `kind` of terminal `serial`; ValueError for an unknown kind or bad serial."""
    if kind not in KINDS:
        raise ValueError("unknown topic kind " + repr(kind))
    if not valid_serial(serial):
        raise ValueError("invalid serial " + repr(serial))
    return PREFIX + "/" + serial + "/" + kind


def parse(name: bytes | str) -> tuple[str, str]:
    """Split a topic (bytes or str) into (serial, kind); ProtocolError(bad_topic) when it is not ours."""
    from protocol.errors import BAD_TOPIC, ProtocolError  # only parsing can fail: builders never load it

    if type(name) is bytes:
        try:
            name = name.decode()
        except Exception:
            raise ProtocolError(BAD_TOPIC, "topic", "not UTF-8") from None
    if type(name) is not str:
        raise ProtocolError(BAD_TOPIC, "topic", "not a string")
    parts = name.split("/")
    if len(parts) != 4 or parts[0] + "/" + parts[1] != PREFIX:
        raise ProtocolError(BAD_TOPIC, "topic", "expected " + PREFIX + "/{serial}/{kind}")
    if not valid_serial(parts[2]):
        raise ProtocolError(BAD_TOPIC, "topic", "invalid serial in topic")
    if parts[3] not in KINDS:
        raise ProtocolError(BAD_TOPIC, "topic", "unknown kind " + repr(parts[3]))
    return parts[2], parts[3]


def qos(kind: str) -> int:
    """The QoS a message of `kind` is published with."""
    return KINDS[kind][1]


def retained(kind: str) -> bool:
    """Whether a message of `kind` is published retained."""
    return KINDS[kind][2]


def subscription(kind: str, serial: str = "+") -> str:
    """Topic filter for `kind` of one terminal, or of every terminal with the default '+'."""
    if kind not in KINDS:
        raise ValueError("unknown topic kind " + repr(kind))
    if serial != "+" and not valid_serial(serial):
        raise ValueError("invalid serial " + repr(serial))
    return PREFIX + "/" + serial + "/" + kind


def shared_subscription(group: str, kind: str) -> str:
    """MQTT v5 shared subscription for `kind` of every terminal: several consumers split the load."""
    return "$share/" + group + "/" + subscription(kind)
