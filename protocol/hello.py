"""`hello`: the birth message a terminal publishes on every connect (identity, firmware, capabilities)."""

BOOT_REASONS = ("power_on", "hard_reset", "watchdog", "crash", "deep_sleep", "soft_reset", "update", "unknown")
CAPABILITIES = (
    "printer58",
    "printer80",
    "qr_native",
    "qr_raster",
    "cash_drawer",
    "card_reader",
    "keypad",
    "display",
    "battery",
    "qris",
    "paylater",
    "paylink",
)


def build(serial: str, ts: int, model: str, hw_rev: str, hw_id: str, fw: str, boot_reason: str, caps: list) -> dict:
    """Build a hello message."""
    return {
        "v": 1,
        "serial": serial,
        "ts": ts,
        "model": model,
        "hw_rev": hw_rev,
        "hw_id": hw_id,
        "fw": fw,
        "boot_reason": boot_reason,
        "caps": caps,
    }


def spec() -> tuple:
    """The validation spec (built when asked: a terminal only builds hellos)."""
    from protocol import schema as s

    return (
        s.TS,
        ("model", s.STR, True, 1, 32),
        ("hw_rev", s.STR, True, 1, 16),
        ("hw_id", s.STR, True, 1, 64),
        ("fw", s.STR, True, 1, 32),
        ("boot_reason", s.ENUM, True, BOOT_REASONS),
        ("caps", s.STRS, True, 24, 24),
    )


def validate(msg: dict) -> None:
    """Raise ProtocolError unless `msg` is a valid hello body (the envelope is checked by the codec)."""
    from protocol import schema as s

    s.check(msg, spec())
    for i, cap in enumerate(msg["caps"]):
        if cap not in CAPABILITIES:
            s.fail("caps[" + str(i) + "]", "unknown capability " + repr(cap))
