"""`state`: retained online/offline presence. The offline form is also the MQTT last will."""

ONLINE = "online"
OFFLINE = "offline"


def build(serial: str, state: str, ts: int | None = None) -> dict:
    """Build a state message; leave `ts` out for the last will."""
    msg = {"v": 1, "serial": serial, "state": state}
    if ts is not None:
        msg["ts"] = ts
    return msg


def validate(msg: dict) -> None:
    """Raise ProtocolError unless `msg` is a valid state body."""
    from protocol import schema as s  # here, not at the top: a terminal only builds state messages

    # ts is optional: the last will is registered at connect time, so it cannot know when it will be sent.
    s.check(msg, (s.TS_OPTIONAL, ("state", s.ENUM, True, (ONLINE, OFFLINE))))
