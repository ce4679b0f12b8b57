"""Runs tests/shared on the real MicroPython interpreter (unix port)."""

from tests.firmware_helpers import run_on_micropython


def test_shared_suite_passes_on_real_micropython(micropython):
    # 256K: the suite loads every golden example at once; the firmware's own budget is checked by its tests.
    passed, failed, lines = run_on_micropython(micropython, "tests/shared/run.py", "256K", 120)
    assert failed == 0 and passed >= 15, lines[-20:]
