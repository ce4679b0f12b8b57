"""Receipt layouts for 32 columns (58 mm) and 48 columns (80 mm), as generators of ESC/POS chunks."""

import time

import escpos
from money import rupiah
from transient import Transient

_METHOD_NAMES = {
    "cash": "Tunai",
    "qris": "QRIS",
    "card": "Kartu",
    "paylater": "PayLater",
    "paylink": "Link bayar",
    "custom": "Lainnya",
}
_DOTS = {32: 384, 48: 576}


def pair(left, right, cols):
    """`left` and `right` on one line of `cols` characters; on two lines when they do not fit."""
    gap = cols - len(left) - len(right)
    if gap >= 1:
        return left + " " * gap + right
    return left[:cols] + "\n" + " " * max(0, cols - len(right)) + right


def when(ts, tz_offset_s):
    t = time.gmtime(ts + tz_offset_s)
    return "%02d/%02d/%04d %02d:%02d" % (t[2], t[1], t[0], t[3], t[4])


def _line(text):
    return escpos.text(text) + escpos.LF


def _header(cfg, title, copy):
    cols = cfg["cols"]
    yield escpos.INIT + escpos.CODEPAGE_PC437 + escpos.align(escpos.CENTER)
    yield escpos.bold(True) + escpos.size(1, 2) + _line(cfg["merchant"][:cols]) + escpos.size(1, 1)
    yield escpos.bold(False)
    for text in cfg["address"]:
        yield _line(text[:cols])
    if title:
        yield escpos.bold(True) + _line(title) + escpos.bold(False)
    if copy:
        yield escpos.bold(True) + _line("*** SALINAN / COPY ***") + escpos.bold(False)
    yield escpos.align(escpos.LEFT) + _line("-" * cols)


def _meta(cfg, number, ts):
    cols = cfg["cols"]
    yield _line(pair("No", number, cols))
    yield _line(pair("Tanggal", when(ts, cfg["tz_offset_s"]), cols))
    yield _line("-" * cols)


def _footer(cfg, number):
    yield escpos.align(escpos.CENTER) + escpos.barcode128(number) + escpos.LF
    if cfg["footer"]:
        yield _line(cfg["footer"][: cfg["cols"]])
    yield escpos.feed(3) + escpos.CUT


def qr_chunks(cfg, payload):
    """A centred QR: the printer's own encoder, or a raster image for printers without one."""
    yield escpos.align(escpos.CENTER)
    if cfg["qr_mode"] == "native":
        yield escpos.qr_native(payload, 6 if cfg["cols"] == 32 else 8)
        yield escpos.LF
        return
    with Transient("qr") as qr:  # the encoder's code is in the heap only while a QR is printed
        symbol = qr.QR(payload, "M")
    dots = _DOTS.get(cfg["cols"], 384)
    scale = max(1, min(8, dots // (symbol.size + 8)))
    width, height = symbol.raster_size(scale)
    yield escpos.raster_header(width, height)
    # One reused row buffer: the printer driver writes each row before the next is drawn.
    yield from symbol.raster_rows(scale)
    yield escpos.LF


def sale(cfg, data, ts, copy=False):
    """The customer's receipt of a closed sale (`data` as in the protocol's sale event)."""
    cols = cfg["cols"]
    yield from _header(cfg, "", copy)
    yield from _meta(cfg, data["receipt"], ts)
    for item in data["items"]:
        yield _line(item["name"][:cols])
        amount = item["qty"] * item["unit_price"]
        yield _line(pair("  %d x %s" % (item["qty"], rupiah(item["unit_price"])), rupiah(amount), cols))
        if item.get("discount"):
            yield _line(pair("  Diskon", rupiah(-item["discount"]), cols))
    yield _line("-" * cols)
    yield _line(pair("Subtotal", rupiah(data["subtotal"]), cols))
    if data["discount"]:
        yield _line(pair("Diskon", rupiah(-data["discount"]), cols))
    if data["tax_rate_bp"]:
        rate = data["tax_rate_bp"]
        label = "PPN %d%%" % (rate // 100) if rate % 100 == 0 else "PPN %d.%02d%%" % (rate // 100, rate % 100)
        if data["tax_inclusive"]:
            label += " (termasuk)"
        yield _line(pair(label, rupiah(data["tax"]), cols))
    yield escpos.bold(True) + _line(pair("TOTAL", rupiah(data["total"]), cols)) + escpos.bold(False)
    for p in data["payments"]:
        name = _METHOD_NAMES.get(p["method"], p["method"])
        if p.get("last4"):
            name += " **" + p["last4"]
        if p.get("tenor"):
            name += " %dbln" % p["tenor"]
        yield _line(pair(name, rupiah(p.get("tendered") or p["amount"]), cols))
        if p.get("change"):
            yield _line(pair("Kembali", rupiah(p["change"]), cols))
        if p.get("approval"):
            yield _line(pair("  Approval", p["approval"], cols))
        if p.get("ref") and p["method"] != "cash":
            yield _line(pair("  Ref", p["ref"][-(cols - 8) :], cols))
    if data["outstanding"]:
        yield _line("-" * cols)
        yield _line(pair("Dibayar (DP)", rupiah(data["paid"]), cols))
        yield escpos.bold(True) + _line(pair("SISA TAGIHAN", rupiah(data["outstanding"]), cols))
        yield escpos.bold(False) + _line("Status: Dibayar sebagian")
    yield from _footer(cfg, data["receipt"])


def refund(cfg, data, ts, copy=False):
    cols = cfg["cols"]
    yield from _header(cfg, "PENGEMBALIAN / REFUND", copy)
    yield from _meta(cfg, data["receipt"], ts)
    yield _line(pair("Struk asal", data["original"], cols))
    if data.get("reason"):
        yield _line(pair("Alasan", data["reason"][: cols - 8], cols))
    name = _METHOD_NAMES.get(data["method"], data["method"])
    yield escpos.bold(True) + _line(pair("REFUND " + name, rupiah(data["amount"]), cols)) + escpos.bold(False)
    yield from _footer(cfg, data["receipt"])


def void(cfg, data, ts, copy=False):
    cols = cfg["cols"]
    yield from _header(cfg, "DIBATALKAN / VOID", copy)
    yield from _meta(cfg, data["receipt"], ts)
    yield _line(pair("Total batal", rupiah(data["total"]), cols))
    if data.get("reason"):
        yield _line(pair("Alasan", data["reason"][: cols - 8], cols))
    yield escpos.feed(3) + escpos.CUT


def qris_slip(cfg, receipt_no, amount, payload, ts, timeout_s):
    """The slip the customer scans: amount, the dynamic QRIS, and until when it is valid."""
    cols = cfg["cols"]
    yield from _header(cfg, "BAYAR DENGAN QRIS", False)
    yield from _meta(cfg, receipt_no, ts)
    yield escpos.bold(True) + _line(pair("TOTAL", rupiah(amount), cols)) + escpos.bold(False)
    yield from qr_chunks(cfg, payload)
    yield escpos.align(escpos.CENTER) + _line("Berlaku s/d " + when(ts + timeout_s, cfg["tz_offset_s"])[-5:])
    yield escpos.feed(3) + escpos.CUT


LAYOUTS = {"sale": sale, "refund": refund, "void": void}
