"""`telemetry`: the periodic heartbeat.

Modelled on the LwM2M Device object (/3): serial, model, firmware version, battery level and charging,
memory free, error code, current time (`ts`), uptime; plus what a POS fleet watches: paper, printer head
temperature and wear (printed length, cuts), outbox depth, signal and the last reboot's reason.
"""

from protocol.hello import BOOT_REASONS

PAPER = ("ok", "low", "out", "unknown")
_BIG = 2147483647

# The vocabulary, in the order of spec(); tests check that the two agree.
FIELDS = (
    "ts",
    "uptime_s",
    "mem_free",
    "model",
    "fw",
    "battery_pct",
    "charging",
    "error_code",
    "paper",
    "head_temp_c",
    "printed_mm",
    "cutter_count",
    "outbox_depth",
    "rssi_dbm",
    "reboot_reason",
)


def build(serial: str, ts: int, uptime_s: int, mem_free: int, **metrics: object) -> dict:
    """Build a telemetry message; `metrics` are any optional fields of FIELDS (None ones are left out)."""
    msg = {"v": 1, "serial": serial, "ts": ts, "uptime_s": uptime_s, "mem_free": mem_free}
    for name in metrics:
        if name not in FIELDS:
            raise ValueError("unknown telemetry field " + name)
        if metrics[name] is not None:
            msg[name] = metrics[name]
    return msg


def spec() -> tuple:
    """The validation spec (built when asked: a terminal only builds telemetry)."""
    from protocol import schema as s

    return (
        s.TS,
        ("uptime_s", s.INT, True, 0, _BIG),
        ("mem_free", s.INT, True, 0, _BIG),  # bytes of MicroPython heap free
        ("model", s.STR, False, 1, 32),
        ("fw", s.STR, False, 1, 32),
        ("battery_pct", s.INT, False, 0, 100),
        ("charging", s.BOOL, False),
        ("error_code", s.INT, False, 0, 65535),  # 0 = no error, as LwM2M /3/0/11
        ("paper", s.ENUM, False, PAPER),
        ("head_temp_c", s.INT, False, -40, 150),
        ("printed_mm", s.INT, False, 0, _BIG),  # paper fed through the head since manufacture
        ("cutter_count", s.INT, False, 0, _BIG),
        ("outbox_depth", s.INT, False, 0, _BIG),  # journal records not yet acknowledged by the broker
        ("rssi_dbm", s.INT, False, -130, 0),
        ("reboot_reason", s.ENUM, False, BOOT_REASONS),
    )


def validate(msg: dict) -> None:
    """Raise ProtocolError unless `msg` is a valid telemetry body."""
    from protocol import schema as s

    s.check(msg, spec())
