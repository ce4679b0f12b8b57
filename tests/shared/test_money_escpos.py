"""Rupiah formatting, PPN rounding and ESC/POS framing: on CPython and on the real MicroPython."""

import sys

import golden

sys.path.insert(0, golden.ROOT + "/firmware")
import escpos
import money


def test_rupiah_is_formatted_with_dots_for_thousands():
    cases = [
        (0, "Rp 0"),
        (999, "Rp 999"),
        (1000, "Rp 1.000"),
        (15000, "Rp 15.000"),
        (1234567, "Rp 1.234.567"),
        (-2000, "-Rp 2.000"),
        (100000000000, "Rp 100.000.000.000"),
    ]
    for amount, text in cases:
        assert money.rupiah(amount) == text, (amount, money.rupiah(amount))


def test_ppn_exclusive_and_inclusive_round_half_up_to_whole_rupiah():
    assert money.tax(42000, 1100, False) == 4620
    assert money.tax(45, 1100, False) == 5  # 4.95 -> 5
    assert money.tax(4, 1100, False) == 0  # 0.44 -> 0
    assert money.tax(250000, 1100, True) == 24775  # 250000 * 11 / 111 = 24774.77
    assert money.tax(27000, 1100, True) == 2676
    assert money.tax(111, 1100, True) == 11  # exactly 11: the price is 100 + 11 tax
    assert money.tax(1000, 0, False) == 0 and money.tax(0, 1100, True) == 0
    assert money.percent_of(30000, 10) == 3000 and money.percent_of(15, 50) == 8


def test_escpos_qr_native_frames_each_function_with_its_length():
    data = b"00020101021126"
    out = escpos.qr_native(data, 6)
    assert out.startswith(b"\x1d(k\x04\x001A2\x00")  # model 2
    assert b"\x1d(k\x03\x001C\x06" in out and b"\x1d(k\x03\x001E1" in out  # size 6, EC level M
    store = b"\x1d(k" + bytes((len(data) + 3, 0)) + b"1P0" + data
    assert store in out and out.endswith(b"\x1d(k\x03\x001Q0")


def test_escpos_raster_header_text_and_paper_status():
    assert escpos.raster_header(41, 328) == b"\x1dv0\x00)\x00H\x01"
    assert escpos.text("Kopi \u00e9 1") == b"Kopi ? 1"
    assert escpos.paper_status(0x00) == "ok" and escpos.paper_status(0x0C) == "low"
    assert escpos.paper_status(0x60) == "out" and escpos.paper_status(0x6C) == "out"
    assert escpos.cover_open(0x16) and not escpos.cover_open(0x12) and not escpos.cover_open(None)
    assert escpos.paper_status(None) == "unknown"
    assert escpos.size(2, 2) == b"\x1d!\x11" and escpos.align(escpos.CENTER) == b"\x1ba\x01"
