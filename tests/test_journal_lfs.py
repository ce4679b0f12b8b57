"""The journal on real littlefs (vfs.VfsLfs2) in the real MicroPython, power failing at every operation."""

import subprocess


def test_journal_survives_a_power_cut_at_every_flash_operation(micropython, root):
    proc = subprocess.run(
        [micropython, "-X", "heapsize=256M", "tests/mpy/journal_lfs_power_cut.py", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    total = int(lines[-2].split(":")[1])
    passed, failed = (int(part.split()[0]) for part in lines[-1].split(","))
    assert failed == 0 and passed == total + 1 and total > 150, lines[-2:]
