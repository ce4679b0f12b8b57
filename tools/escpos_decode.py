"""Decode an ESC/POS byte stream back into what a person would see: text lines, QR payloads, images.

Used by the tests (is the receipt right?) and by the virtual terminals (show a receipt as text).
"""

from dataclasses import dataclass, field


@dataclass
class Printout:
    lines: list[str] = field(default_factory=list)
    qr_native: list[bytes] = field(default_factory=list)  # payloads printed with GS ( k
    rasters: list[tuple[int, int, bytes]] = field(default_factory=list)  # (width bytes, height dots, bits)
    barcodes: list[bytes] = field(default_factory=list)
    cuts: int = 0
    drawer_kicks: int = 0
    pages: list["Printout"] = field(default_factory=list)  # what came out between cuts

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class DecodeError(ValueError):
    pass


def _need(data: bytes, i: int, n: int) -> None:
    if i + n > len(data):
        raise DecodeError(f"command at {i} truncated")


def decode(data: bytes) -> Printout:
    """Parse a whole stream; DecodeError for a command cut short or one this firmware never sends."""
    out = Printout()
    page = Printout()
    line = bytearray()
    stored_qr = b""
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x0A:
            for target in (out, page):
                target.lines.append(line.decode("ascii", "replace"))
            line = bytearray()
            i += 1
        elif b == 0x1B:
            _need(data, i, 2)
            cmd = data[i + 1]
            sizes = {0x40: 2, 0x74: 3, 0x61: 3, 0x45: 3, 0x64: 3, 0x70: 5}
            if cmd not in sizes:
                raise DecodeError(f"unknown ESC {cmd:#x} at {i}")
            _need(data, i, sizes[cmd])
            if cmd == 0x70:
                out.drawer_kicks += 1
                page.drawer_kicks += 1
            i += sizes[cmd]
        elif b == 0x1D:
            _need(data, i, 3)
            cmd = data[i + 1]
            if cmd in (0x21, 0x48, 0x68, 0x77):
                i += 3
            elif cmd == 0x56:
                out.cuts += 1
                page.cuts = 1
                if line:
                    page.lines.append(line.decode("ascii", "replace"))
                    out.lines.append(line.decode("ascii", "replace"))
                    line = bytearray()
                out.pages.append(page)
                page = Printout()
                i += 4 if data[i + 2] in (65, 66) else 3
            elif cmd == 0x6B:
                _need(data, i, 4)
                n = data[i + 3]
                _need(data, i, 4 + n)
                for target in (out, page):
                    target.barcodes.append(bytes(data[i + 4 : i + 4 + n]))
                i += 4 + n
            elif cmd == 0x28 and data[i + 2] == 0x6B:
                _need(data, i, 7)
                length = data[i + 3] | data[i + 4] << 8
                _need(data, i, 5 + length)
                fn = data[i + 6]
                if fn == 0x50:
                    stored_qr = bytes(data[i + 8 : i + 5 + length])
                elif fn == 0x51:
                    out.qr_native.append(stored_qr)
                    page.qr_native.append(stored_qr)
                i += 5 + length
            elif cmd == 0x76 and data[i + 2] == 0x30:
                _need(data, i, 8)
                width = data[i + 4] | data[i + 5] << 8
                height = data[i + 6] | data[i + 7] << 8
                _need(data, i, 8 + width * height)
                for target in (out, page):
                    target.rasters.append((width, height, bytes(data[i + 8 : i + 8 + width * height])))
                i += 8 + width * height
            else:
                raise DecodeError(f"unknown GS {cmd:#x} at {i}")
        elif b == 0x10:
            _need(data, i, 3)
            i += 3  # DLE EOT n: a status query, nothing printed
        else:
            line.append(b)
            i += 1
    if line:
        for target in (out, page):
            target.lines.append(line.decode("ascii", "replace"))
    if page.lines or page.rasters or page.qr_native or page.barcodes:
        out.pages.append(page)
    return out


def split_receipts(data: bytes) -> list[Printout]:
    """One Printout per paper cut, as the parser meets the cut commands (the uncut rest too, if any)."""
    return decode(data).pages


def raster_to_array(raster: tuple[int, int, bytes]):  # type: ignore[no-untyped-def]
    """A raster as a numpy image (0 black, 255 white) for a barcode reader."""
    import numpy as np

    width, height, bits = raster
    pixels = np.unpackbits(np.frombuffer(bits, dtype=np.uint8)).reshape(height, width * 8)
    return ((1 - pixels) * 255).astype(np.uint8)
