"""The firmware's QR encoder (firmware/qr.py) produces symbols a real reader (zxing-cpp) decodes:
every version it may pick, both EC levels, multi-block layouts and version information (v7+)."""

import sys

import numpy as np
import pytest
import zxingcpp

from tests.paths import ROOT

sys.path.insert(0, str(ROOT / "firmware"))
import qr


def image(symbol: "qr.QR", scale: int = 4) -> np.ndarray:
    size = symbol.size
    pixels = np.full((size + 8, size + 8), 255, dtype=np.uint8)
    for y in range(size):
        for x in range(size):
            if symbol.dark(x, y):
                pixels[y + 4, x + 4] = 0
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))


@pytest.mark.parametrize("ecl", ["L", "M"])
@pytest.mark.parametrize("length", [1, 17, 40, 100, 150, 228, 300, 500, 600])
def test_symbols_decode_to_their_data(ecl, length):
    data = "".join(chr(48 + (i * 7) % 43) for i in range(length))
    symbol = qr.QR(data, ecl)
    assert symbol.size == symbol.version * 4 + 17
    [found] = zxingcpp.read_barcodes(image(symbol))
    assert found.text == data


def test_raster_rows_match_the_matrix():
    symbol = qr.QR("HELLO", "M")
    width, height = symbol.raster_size(3)
    rows = [bytes(row) for row in symbol.raster_rows(3)]
    assert len(rows) == height and all(len(r) == width for r in rows)
    bits = np.unpackbits(np.frombuffer(b"".join(rows), dtype=np.uint8)).reshape(height, width * 8)
    assert bits[12 + 1, 12 + 1] == symbol.dark(0, 0) == 1  # quiet zone of 4 modules x 3 dots


def test_data_too_long_is_refused():
    with pytest.raises(ValueError):
        qr.QR("x" * 2000, "M")
