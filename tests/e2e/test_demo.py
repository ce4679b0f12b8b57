"""The README's run command: `fleet demo` with its defaults (SQLite, the in-process amqtt broker) and
virtual terminals on the real firmware selling over MQTT into the fleet."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)


def test_demo_smoke_runs_terminals_into_the_fleet_and_answers_a_command(tmp_path):
    fleet = Path(sys.executable).parent / "fleet"
    proc = subprocess.run(
        [str(fleet), "demo", "--smoke", "--port", "0"], cwd=tmp_path, capture_output=True, text=True, timeout=240
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "MQTT broker (in-process)" in out and "(MQTT 3.1.1)" in out
    assert "TOTAL" in out and "Terima kasih" in out  # a receipt decoded from the firmware's ESC/POS bytes
    assert "unregistered serials seen: VT-0007-0002" in out  # W4: a sighting, never a device
    assert "through the command queue: acked" in out
    assert "merchant user 'sinar' sees 1 of 2 devices" in out
    assert "smoke check: ok" in out
    assert (tmp_path / "var" / "demo.sqlite3").is_file()
