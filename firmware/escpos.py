"""ESC/POS command encoder: bytes for the thermal printer. Pure functions, no I/O."""

ESC = 0x1B
GS = 0x1D
DLE = 0x10

INIT = b"\x1b@"
LF = b"\n"
STATUS_PAPER = b"\x10\x04\x04"  # DLE EOT 4: real-time roll paper sensor status
STATUS_OFFLINE = b"\x10\x04\x02"  # DLE EOT 2: real-time offline status (cover open, ...)
STATUS_ERROR = b"\x10\x04\x03"  # DLE EOT 3: real-time error status (cutter, unrecoverable, auto-recoverable)
CUT = b"\x1dVB\x00"  # GS V 66 0: feed to the cutter, then partial cut
LEFT = 0
CENTER = 1
RIGHT = 2

# Code page PC437 (n=0) covers what a receipt in Indonesian needs (Latin letters, no accents).
CODEPAGE_PC437 = b"\x1bt\x00"


def align(where):
    return bytes((ESC, 0x61, where))


def bold(on):
    return bytes((ESC, 0x45, 1 if on else 0))


def size(width, height):
    """Character magnification 1..8 in each direction (GS !)."""
    return bytes((GS, 0x21, ((width - 1) << 4) | (height - 1)))


def feed(lines):
    return bytes((ESC, 0x64, lines))


def drawer_kick(pin=0):
    """Pulse the cash drawer connector (ESC p): 50 ms on, 500 ms off."""
    return bytes((ESC, 0x70, pin, 25, 250))


def text(line):
    """A str as printer bytes: printable ASCII kept, anything else becomes '?'."""
    out = bytearray(len(line))
    for i, ch in enumerate(line):
        code = ord(ch)
        out[i] = code if 32 <= code < 127 else 63
    return bytes(out)


def barcode128(data):
    """CODE128 barcode (code set B) with human-readable text below."""
    body = b"{B" + text(data)
    return b"\x1dH\x02" + b"\x1dh\x50" + b"\x1dw\x02" + bytes((GS, 0x6B, 73, len(body))) + body


def _qr_fn(fn, payload):
    n = len(payload) + 2
    return bytes((GS, 0x28, 0x6B, n & 0xFF, n >> 8, 0x31, fn)) + payload


def qr_native(data, module_dots=6, ec=b"1"):
    """QR with the printer's own encoder (GS ( k): model 2, module size, EC level M, store, print."""
    body = data.encode() if isinstance(data, str) else data
    return (
        _qr_fn(0x41, b"2\x00")
        + _qr_fn(0x43, bytes((module_dots,)))
        + _qr_fn(0x45, ec)
        + _qr_fn(0x50, b"0" + body)
        + _qr_fn(0x51, b"0")
    )


def raster_header(width_bytes, height):
    """GS v 0 header for a 1-bit image `width_bytes` * 8 dots wide and `height` dots high; rows follow."""
    return bytes((GS, 0x76, 0x30, 0, width_bytes & 0xFF, width_bytes >> 8, height & 0xFF, height >> 8))


def error_status(response):
    """Decode the DLE EOT 3 answer byte: None (no error, or no answer), 'cutter', 'unrecoverable' or
    'overheat' (an auto-recoverable error: the head is too hot)."""
    if response is None:
        return None
    if response & 0x08:
        return "cutter"
    if response & 0x20:
        return "unrecoverable"
    if response & 0x40:
        return "overheat"
    return None


def cover_open(response):
    """Decode the DLE EOT 2 answer byte: True when the cover is open (bit 2); False for no answer too."""
    return response is not None and bool(response & 0x04)


def paper_status(response):
    """Decode the DLE EOT 4 answer byte: 'out', 'low' or 'ok' (None for no answer: 'unknown')."""
    if response is None:
        return "unknown"
    if response & 0x60:
        return "out"
    if response & 0x0C:
        return "low"
    return "ok"
