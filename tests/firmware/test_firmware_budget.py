"""BRIEF §5: the whole sale + print flow, loaded as .mpy, completes in `micropython -X heapsize=128K`,
and the data it allocates beyond its code stays under 32 KB.

Figures (min heap by bisection, code heap, data peak, receipt size, render time) come from
`python -m tools.bench_firmware`; this test only proves the budget holds.
"""

from tests.firmware_helpers import new_terminal, of_type, sell
from tools import bench_firmware, mosquitto, terminal


def test_the_whole_flow_completes_within_the_heap_budget(tmp_path, firmware_mpy):
    dev = new_terminal(tmp_path)
    evs = sell(dev, bench_firmware.FLOW, code=firmware_mpy, heap=str(bench_firmware.BUDGET))
    assert len(of_type(evs, "sale")) == 2 and len(of_type(evs, "refund")) == 1
    assert len(of_type(evs, "receipt")) == 4


def test_till_and_link_together_fit_the_budget_against_a_real_broker(tmp_path, firmware_mpy):
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        dev = new_terminal(tmp_path, {"broker": broker.url})
        # Done only when the broker has acknowledged every journal record (--drain).
        evs = sell(dev, bench_firmware.FLOW, code=firmware_mpy, heap=str(bench_firmware.BUDGET), drain_timeout=30)
    assert len(of_type(evs, "sale")) == 2 and len(of_type(evs, "refund")) == 1
    assert (dev / "flash" / "journal" / "cursor").read_text() == str(evs[-1]["seq"])


def test_the_heap_limit_is_real(tmp_path, firmware_mpy):
    # The same flow in a heap far below the code's own size must fail: the limit above is in force.
    dev = new_terminal(tmp_path)
    proc = terminal.run(dev, bench_firmware.FLOW, code=firmware_mpy, heap="32K")
    assert proc.returncode != 0 and "MemoryError" in proc.stdout + proc.stderr


def test_the_data_beyond_the_code_fits_in_32_kb(tmp_path, firmware_mpy):
    # Every module the flow can load is imported first (module by module, as tools.bench_firmware
    # measures it), so the heap beyond that code is the room left for data: 32 KB must do for till and
    # link together, and far less must not.
    code = bench_firmware.preload(firmware_mpy, tmp_path / "preloaded", bench_firmware.EVERY_MODULE)
    all_code = bench_firmware.code_heap(firmware_mpy, bench_firmware.EVERY_MODULE)
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        dev = new_terminal(tmp_path, {"broker": broker.url}, name="ok")
        heap = str(all_code + bench_firmware.DATA_BUDGET)
        evs = sell(dev, bench_firmware.FLOW, code=code, heap=heap, drain_timeout=30)
        assert len(of_type(evs, "sale")) == 2 and len(of_type(evs, "refund")) == 1
        assert (dev / "flash" / "journal" / "cursor").read_text() == str(evs[-1]["seq"])
        starved = new_terminal(tmp_path, {"broker": broker.url}, name="starved")
        proc = terminal.run(starved, bench_firmware.FLOW, code=code, heap=str(all_code + 8 * 1024), drain_timeout=30)
        assert "MemoryError" in proc.stdout + proc.stderr
