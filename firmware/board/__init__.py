"""Hardware abstraction: the app gets every piece of hardware from a Board and never imports machine.

A Board has: flash_root, printer_port (write, read_byte), display (show), card_reader (charge) or None,
now(), set_clock(t), battery() -> (percent or None, charging), mem_free(), hw_id(), boot_reason,
random(n), log_exception(e), and run(till): the board's input loop (keypad, or a script on unix).
"""


def tls_context(ca_path):
    """A client TLS context that verifies the broker against the CA certificate (DER) on flash."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=ca_path)
    return context


def load():
    """The Board for the hardware this runs on, chosen by which hardware modules exist."""
    try:
        import esp32  # noqa: F401

        kind = "esp32"
    except ImportError:
        try:
            import rp2  # noqa: F401

            kind = "rp2"
        except ImportError:
            kind = "unix"
    if kind == "esp32":
        from board.esp32 import Board
    elif kind == "rp2":
        from board.rp2 import Board
    else:
        from board.unix import Board
    return Board()
