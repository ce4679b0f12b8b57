"""Hardware abstraction: the app gets every piece of hardware from a Board and never imports machine.

A Board has: flash_root, printer_port (write, read_byte), display (show), card_reader (charge) or None,
now(), set_clock(t), battery() -> (percent or None, charging), mem_free(), hw_id(), boot_reason,
random(n), log_exception(e), and run(till): the board's input loop (keypad, or a script on unix).
"""

import time


class Uptime:
    """Seconds since the board started (within a second of boot). ticks_ms wraps (after about 12 days
    where it has 30 bits), so the differences between calls are added up: call it at least once a wrap
    period (the heartbeat does, every minute)."""

    def __init__(self, ticks=time.ticks_ms):
        self._now = ticks
        self._ms = 0
        self._ticks = ticks()

    def seconds(self):
        now = self._now()
        self._ms += time.ticks_diff(now, self._ticks)
        self._ticks = now
        return self._ms // 1000


def tls_context(ca_path):
    """A client TLS context that verifies the broker against the CA certificate (DER) on flash."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_mode = ssl.CERT_REQUIRED  # type: ignore[attr-defined]  # the port has it, the stubs not
    context.load_verify_locations(cafile=ca_path)
    return context


def load():
    """The Board for the hardware this runs on, chosen by which hardware modules exist."""
    try:
        import esp32  # noqa: F401

        kind = "esp32"
    except ImportError:
        try:
            import rp2  # type: ignore[import-not-found]  # noqa: F401  (checked against the ESP32 stubs)

            kind = "rp2"
        except ImportError:
            kind = "unix"
    return __import__("board." + kind, None, None, ("Board",)).Board()
