"""The journal on real littlefs (vfs.VfsLfs2) in the real MicroPython, power failing at every operation."""

from tests.firmware_helpers import run_on_micropython


def test_journal_survives_a_power_cut_at_every_flash_operation(micropython):
    passed, failed, lines = run_on_micropython(micropython, "tests/mpy/journal_lfs_power_cut.py", "256M", 300)
    total = int(lines[-2].split(":")[1])
    assert failed == 0 and passed == total + 1 and total > 150, lines[-2:]
