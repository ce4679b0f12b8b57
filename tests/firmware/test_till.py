"""The cashier's till on the real MicroPython interpreter: scripted sessions, journal and printed bytes.

Rules: P1 (payment status, outstanding amount for a pay link), Q1 (dynamic QRIS).
"""

import zxingcpp

from protocol import codec, event, qris, topics
from tests.firmware_helpers import SERIAL, events, new_terminal, of_type, pages, sell
from tools import escpos_decode, terminal


def test_cash_sale_journals_before_printing_and_prints_the_receipt(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "2*1A 2A B 1 50000#")
    assert [e["type"] for e in evs] == ["open", "payment", "sale", "receipt"]
    sale = of_type(evs, "sale")[0]
    assert sale["receipt"] == "A1-000001"
    assert (sale["subtotal"], sale["tax"], sale["total"]) == (42000, 4620, 46620)  # PPN 11% exclusive
    assert sale["payments"] == [{"method": "cash", "amount": 46620, "tendered": 50000, "change": 3380}]
    assert sale["status"] == event.PAID and sale["outstanding"] == 0
    [printed] = of_type(evs, "receipt")
    assert printed == {"receipt": "A1-000001", "copy": False, "of": "sale", "bytes": printed["bytes"]}
    assert len(terminal.printed(dev)) == printed["bytes"] + len(b"\x1bp\x00\x19\xfa")  # + the drawer kick
    [page] = pages(dev)
    text = page.text
    for expected in (
        "TOKO MAJU JAYA",
        "A1-000001",
        "18/11/2026 18:06",
        "Kopi Susu",
        "2 x Rp 15.000",
        "Rp 30.000",
        "Subtotal               Rp 42.000",
        "PPN 11%                 Rp 4.620",
        "TOTAL                  Rp 46.620",
        "Tunai                  Rp 50.000",
        "Kembali                 Rp 3.380",
        "Terima kasih",
    ):
        assert expected in text, expected
    assert all(len(line) <= 32 for line in page.lines)
    assert page.cuts == 1 and page.drawer_kicks == 1 and page.barcodes == [b"{BA1-000001"]


def test_cash_tendered_below_the_total_is_refused(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "1A B 1 10000# 20000#")
    assert [p["tendered"] for p in of_type(evs, "payment")] == [20000]
    assert "Uang kurang | Rp 16.650" in terminal.display(dev)


def test_q1_qris_sale_shows_a_dynamic_qr_for_the_total_and_completes_on_confirmation(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "1A 3A B 2 !confirm=RRN240915000123")
    pending, confirmed = of_type(evs, "payment")
    assert pending["status"] == "pending" and confirmed["status"] == "confirmed"
    payload = pending["qr"]
    assert qris.amount(payload) == 25530 and qris.parse(payload)["01"] == qris.POI_DYNAMIC
    sale = of_type(evs, "sale")[0]
    assert sale["payments"] == [{"method": "qris", "amount": 25530, "ref": "RRN240915000123"}]
    slip, receipt = pages(dev)
    assert "BAYAR DENGAN QRIS" in slip.text and "Rp 25.530" in slip.text
    # The slip's QR is a raster image (GS v 0) a phone can scan: decode it back.
    [raster] = slip.rasters
    [found] = zxingcpp.read_barcodes(escpos_decode.raster_to_array(raster))
    assert found.text == payload
    assert "Ref            RRN240915000123" in receipt.text


def test_qris_on_a_printer_with_native_qr_uses_gs_paren_k(tmp_path):
    dev = new_terminal(tmp_path, {"qr_mode": "native"})
    evs = sell(dev, "1A B 2 !confirm")
    payload = of_type(evs, "payment", status="pending")[0]["qr"]
    slip = pages(dev)[0]
    assert slip.qr_native == [payload.encode()] and not slip.rasters


def test_qris_timeout_expires_the_payment_and_the_sale_waits_for_another_method(tmp_path):
    dev = new_terminal(tmp_path, {"qris_timeout_s": 1})
    evs = sell(dev, "1A B 2 !sleep=1600 1#")
    statuses = [(p["method"], p["status"]) for p in of_type(evs, "payment")]
    assert statuses == [("qris", "pending"), ("qris", "expired"), ("cash", "confirmed")]
    assert "QRIS kedaluwarsa | Pilih cara bayar" in terminal.display(dev)
    assert of_type(evs, "sale")[0]["payments"][0]["method"] == "cash"


def test_cashier_cancels_a_qris_then_voids_the_sale(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "1A B 2 C C")
    assert [p["status"] for p in of_type(evs, "payment")] == ["pending", "cancelled"]
    assert of_type(evs, "void") == [{"receipt": "A1-000001", "total": 16650, "reason": "dibatalkan kasir"}]
    assert not of_type(evs, "sale")
    assert "DIBATALKAN / VOID" in pages(dev)[-1].text


def test_a_confirmation_with_nothing_pending_is_refused_not_booked(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "1A B 2 C !confirm=LATE 1#")
    assert [p.get("ref") for p in of_type(evs, "payment", status="confirmed")] == [None]
    assert of_type(evs, "sale")[0]["payments"][0]["method"] == "cash"


def test_card_keeps_only_token_last4_and_approval(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "!card=decline !card=approve 1A B 3 3")
    [line] = of_type(evs, "sale")[0]["payments"]
    assert set(line) == {"method", "amount", "token", "last4", "approval"}
    assert line["last4"] == "4242" and line["token"].startswith("tok_")
    assert "Kartu ditolak | Pilih cara bayar" in terminal.display(dev)
    assert "Kartu **4242" in pages(dev)[0].text


def test_p1_down_payment_closes_partially_paid_with_the_outstanding_amount(tmp_path):
    dev = new_terminal(tmp_path, {"tax_rate_bp": 0})
    evs = sell(dev, "10*1A B 4 200000# 50000#")
    sale = of_type(evs, "sale")[0]
    assert sale["total"] == 150000
    assert (sale["paid"], sale["outstanding"], sale["status"]) == (50000, 100000, event.PARTIALLY_PAID)
    assert "DP harus < total | Rp 150.000" in terminal.display(dev)
    text = pages(dev)[0].text
    assert "SISA TAGIHAN          Rp 100.000" in text and "Dibayar sebagian" in text


def test_void_before_payment_prints_a_void_slip(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "1A B C")
    assert [e["type"] for e in evs] == ["open", "void", "receipt"]
    assert of_type(evs, "receipt")[0]["of"] == "void"


def test_emptying_the_cart_before_payment_journals_nothing(tmp_path):
    dev = new_terminal(tmp_path)
    assert sell(dev, "1A 2A C") == []


def test_refund_by_receipt_number_prints_its_own_receipt_once(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "1A B 1# D 2 1# D 2 1#")
    [refund] = of_type(evs, "refund")
    assert refund["original"] == "A1-000001" and refund["amount"] == 16650 and refund["method"] == "cash"
    assert refund["receipt"] != "A1-000001"
    assert "Sudah direfund | A1-000001" in terminal.display(dev)
    refund_page = pages(dev)[-1]
    assert "PENGEMBALIAN / REFUND" in refund_page.text and "Struk asal             A1-000001" in refund_page.text
    assert refund_page.drawer_kicks == 1


def test_reprint_is_marked_as_a_copy(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "1A B 1# D 1 # D 1 99#")
    assert [(r["receipt"], r["copy"]) for r in of_type(evs, "receipt")] == [("A1-000001", False), ("A1-000001", True)]
    original, copy = pages(dev)
    assert "SALINAN / COPY" in copy.text and "SALINAN" not in original.text
    assert copy.lines[5:] == original.lines[4:]
    assert "Struk tidak ada | A1-000099" in terminal.display(dev)


def test_discounts_and_inclusive_tax_on_an_80mm_printer(tmp_path):
    dev = new_terminal(tmp_path, {"cols": 48, "tax_inclusive": True})
    evs = sell(dev, "2*1A D 4 10# B 1#")
    sale = of_type(evs, "sale")[0]
    assert (sale["subtotal"], sale["discount"], sale["total"]) == (30000, 3000, 27000)
    assert sale["tax"] == 2676  # 27000 * 11 / 111, rounded: PPN inside the price
    page = pages(dev)[0]
    assert max(len(line) for line in page.lines) == 48
    assert "PPN 11% (termasuk)" in page.text and "Diskon" in page.text


def test_sequence_numbers_and_receipt_numbers_never_repeat_across_reboots(tmp_path):
    dev = new_terminal(tmp_path)
    sell(dev, "1A B 1#")
    sell(dev, "2A B 1#")
    evs = sell(dev, "3A B 1#")
    assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
    receipts = [s["receipt"] for s in of_type(evs, "sale")]
    assert len(set(receipts)) == 3
    assert len({e["jid"] for e in evs}) == 1


def test_every_event_carries_the_terminal_serial(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "1A B 1#")
    assert {e["serial"] for e in evs} == {SERIAL}


def test_p2_cashier_asks_for_a_pay_link_for_the_rest_of_a_partly_paid_sale(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, "2A B 4 5000#  D 5 081234567890# 12#  1A B 1#  D 5 0812# #")
    [partial] = of_type(evs, "sale", status="partially_paid")
    # The phone typed as Indonesians write it becomes +62; only the methods picked (1 QRIS, 2 card).
    assert of_type(evs, "paylink") == [
        {"receipt": partial["receipt"], "phone": "+6281234567890", "methods": ["qris", "card"]}
    ]
    assert "Tagihan dikirim" in " ".join(terminal.display(dev))
    assert "Tidak ada tagihan" in " ".join(terminal.display(dev))  # the last sale was paid in full


def test_p4_paylater_needs_the_fleet_and_a_terminal_without_a_connection_says_so(tmp_path):
    # PayLater's steps are answered by the fleet (tests/test_paylater_e2e.py): offline, the cashier is
    # told at once, nothing is journaled, and the sale is paid another way.
    dev = new_terminal(tmp_path)
    evs = sell(dev, "1A B 5 081234567899# 1#")
    assert "PayLater perlu | koneksi online" in terminal.display(dev)
    assert [p["method"] for p in of_type(evs, "payment")] == ["cash"]
    assert of_type(evs, "sale")[0]["status"] == "paid"


def test_the_till_refuses_a_line_that_would_overflow_the_largest_event_the_wire_takes(tmp_path):
    """An event over the contract's size is refused by the broker and the fleet alike and would stall the
    outbox behind it (#15 item 7): the cart stops short of it and says so; the sale closes and fits."""
    name = "Kopi Susu Gula Aren Ekstra Besar Dengan Es Batu"[:48]
    dev = new_terminal(tmp_path, {"products": [{"plu": 7, "name": name, "price": 1_000_000_000}]})
    evs = sell(dev, "7A " * 199 + "B 1 #")
    [sale] = [e for e in evs if e["type"] == "sale"]
    size = len(codec.encode(sale))
    assert size <= codec.MAX_BYTES[topics.EVENT], size
    assert 50 < len(sale["data"]["items"]) < 199
    assert "Keranjang penuh | Bayar dulu" in terminal.display(dev)
    assert sale["data"]["status"] == event.PAID


def test_rf5_a_sale_of_today_is_refunded_at_once_and_an_earlier_days_asks_the_fleet(tmp_path):
    """RF5 at the terminal: a sale of the terminal's own day is refunded at once (not settled yet); a QRIS
    or card sale of an earlier day may be settled, so the refund asks the fleet first and, with no
    connection to ask, is refused with nothing journaled; cash always comes back from the drawer."""
    dev = new_terminal(tmp_path)
    today = sell(dev, "1A B 2 !confirm=RRN1 D 2 1#")
    [at_once] = of_type(today, "refund")
    assert at_once["method"] == "qris" and at_once["amount"] == 16650 and "ref" not in at_once

    sell(dev, "1A B 2 !confirm=RRN2 1A B 1#")
    qris_sale, cash_sale = of_type(events(dev), "sale")[1:]
    assert [qris_sale["payments"][0]["method"], cash_sale["payments"][0]["method"]] == ["qris", "cash"]
    number = lambda sale: int(sale["receipt"][-6:])  # noqa: E731
    later = sell(dev, f"!clock=+90000 D 2 {number(qris_sale)}# D 2 {number(cash_sale)}#")
    refunds = of_type(later, "refund")
    assert [r["original"] for r in refunds] == ["A1-000001", cash_sale["receipt"]]
    assert "Refund perlu | koneksi online" in terminal.display(dev)
    assert refunds[1]["method"] == "cash" and "ref" not in refunds[1]
