"""Paper runs out in the middle of a receipt, the cover is open (real firmware, simulated printer with a
paper sensor and a cover switch).

The simulated printer keeps only 512 bytes while its paper is out and loses the rest, as cheap printers
do: a driver that kept sending would produce a broken receipt, and these tests would see it.
"""

import signal
import time

from tests.firmware_helpers import events, new_terminal, of_type, pages, sell
from tools import terminal

SALE = "2*1A 2A 3A B 1 100000#"


def test_paper_out_mid_receipt_stops_tells_the_cashier_and_completes_once(tmp_path):
    reference = new_terminal(tmp_path, name="reference")
    sell(reference, SALE)
    dev = new_terminal(tmp_path)
    evs = sell(dev, f"!paper_after=300 {SALE} !sleep=700 !paper=ok")
    shown = terminal.display(dev)
    assert "KERTAS HABIS | Isi kertas printer" in shown
    assert shown.index("KERTAS HABIS | Isi kertas printer") < shown.index("Kertas OK | Mencetak...")
    assert [(f["code"], f["active"]) for f in of_type(evs, "fault")] == [("paper_out", True), ("paper_out", False)]
    assert len(of_type(evs, "receipt", copy=False)) == 1
    assert len(of_type(evs, "sale")) == 1
    [page] = pages(dev)
    [expected] = pages(reference)
    assert page.lines == expected.lines and page.barcodes == expected.barcodes
    assert terminal.printed(dev) == terminal.printed(reference)


def test_paper_out_before_a_sale_holds_the_receipt_until_paper_is_loaded(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, f"!paper=out {SALE} !sleep=500 !paper=ok")
    assert "KERTAS HABIS | Isi kertas printer" in terminal.display(dev)
    assert len(of_type(evs, "receipt", copy=False)) == 1
    assert "TOTAL" in pages(dev)[0].text


def test_power_cut_while_waiting_for_paper_loses_nothing(tmp_path):
    dev = new_terminal(tmp_path)
    proc = terminal.spawn(dev, f"!paper=out {SALE}")
    deadline = time.monotonic() + 20
    while not of_type(events(dev), "sale") and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the till is now waiting for paper
    assert proc.poll() is None, "the terminal must wait for paper, not give up"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    evs = events(dev)
    assert len(of_type(evs, "sale")) == 1 and not of_type(evs, "receipt")
    # Next boot, with paper: recovery prints the receipt that was never printed, once.
    evs = sell(dev, "")
    assert len(of_type(evs, "receipt", copy=False)) == 1


def test_printer_errors_after_a_job_are_reported_once_when_they_appear_and_clear(tmp_path):
    """DLE EOT 3 after each receipt: a cutter error is a fault event (for the fleet's repair suggestions)."""
    dev = new_terminal(tmp_path)
    evs = sell(dev, f"{SALE} !printer_error=cutter {SALE} {SALE} !printer_error=none {SALE}")
    faults = [(f["code"], f["active"], f.get("detail")) for f in of_type(evs, "fault")]
    assert faults == [("printer_error", True, "cutter"), ("printer_error", False, None)]
    assert "PRINTER ERROR | cutter" in terminal.display(dev)
    assert len(of_type(evs, "sale")) == 4


def test_an_open_cover_holds_the_receipt_tells_the_cashier_and_the_fleet(tmp_path):
    """#4 telemetry: "cover open" is a fault event the moment the printer reports it (DLE EOT 2); the
    receipt waits and prints whole once the cover is closed."""
    reference = new_terminal(tmp_path, name="reference")
    sell(reference, SALE)
    dev = new_terminal(tmp_path)
    evs = sell(dev, f"!cover=open {SALE} !sleep=500 !cover=closed")
    shown = terminal.display(dev)
    assert shown.index("PRINTER TERBUKA | Tutup printer") < shown.index("Printer OK | Mencetak...")
    assert [(f["code"], f["active"]) for f in of_type(evs, "fault")] == [("cover_open", True), ("cover_open", False)]
    assert len(of_type(evs, "receipt", copy=False)) == 1
    assert terminal.printed(dev) == terminal.printed(reference)


def test_a_cover_closed_on_an_empty_roll_turns_into_paper_out(tmp_path):
    dev = new_terminal(tmp_path)
    evs = sell(dev, f"!cover=open !paper=out {SALE} !sleep=500 !cover=closed !sleep=500 !paper=ok")
    faults = [(f["code"], f["active"]) for f in of_type(evs, "fault")]
    assert faults == [("cover_open", True), ("cover_open", False), ("paper_out", True), ("paper_out", False)]
    assert len(of_type(evs, "receipt", copy=False)) == 1 and "TOTAL" in pages(dev)[0].text


def test_a_printer_that_does_not_answer_the_cover_query_is_asked_once(tmp_path):
    """Each unanswered DLE EOT 2 would hold the till 100 ms every 256 bytes: the driver stops asking."""
    asking = new_terminal(tmp_path, name="asking")
    sell(asking, f"{SALE} {SALE}")
    assert int((asking / "printer_queries.txt").read_text()) > 2  # before every 256 bytes of each receipt
    mute = new_terminal(tmp_path, name="mute")
    evs = sell(mute, f"!cover_status=none {SALE} {SALE}")
    assert int((mute / "printer_queries.txt").read_text()) == 1
    assert len(of_type(evs, "receipt", copy=False)) == 2 and not of_type(evs, "fault")
