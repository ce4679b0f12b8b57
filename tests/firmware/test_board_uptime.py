"""The terminal's uptime on the real MicroPython: ticks_ms wraps (2**30 ms, about 12.4 days, on this port
as on the ESP32), and the uptime a heartbeat reports went back to zero with it."""

import subprocess

from tests.paths import ROOT

SCRIPT = """
import sys
sys.path.insert(0, "firmware")
import time
from board import Uptime

clock = [time.ticks_add(0, -90_000)]  # 90 s before the wrap
uptime = Uptime(lambda: clock[0])
seen = []
for _ in range(4):  # a heartbeat a minute, across the wrap
    clock[0] = time.ticks_add(clock[0], 60_000)
    seen.append(uptime.seconds())
print("wrapped", clock[0] < 200_000, "uptimes", seen)
"""


def test_uptime_keeps_counting_across_the_ticks_wrap(micropython):
    out = subprocess.run([micropython, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "wrapped True uptimes [60, 120, 180, 240]", out.stdout
