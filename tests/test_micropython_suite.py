"""Runs tests/shared on the real MicroPython interpreter (unix port), with a device-sized heap."""

import subprocess


def test_shared_suite_passes_on_real_micropython(micropython, root):
    # 256K: the suite loads every golden example at once; the firmware's own budget is checked by its tests.
    proc = subprocess.run(
        [micropython, "-X", "heapsize=256K", "tests/shared/run.py", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    last = out.strip().splitlines()[-1]
    passed, failed = (int(part.split()[0]) for part in last.split(","))
    assert failed == 0 and passed >= 15, out
