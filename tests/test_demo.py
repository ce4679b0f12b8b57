"""The README's run command: `fleet demo --smoke` starts the service and runs a terminal on real firmware."""

import subprocess
import sys
from pathlib import Path


def test_demo_smoke_serves_and_prints_receipts_from_the_real_firmware(tmp_path):
    fleet = Path(sys.executable).parent / "fleet"
    proc = subprocess.run([str(fleet), "demo", "--smoke"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "'status': 'ok'" in proc.stdout
    assert proc.stdout.count("TOTAL") == 3 and "Kembali                 Rp 3.380" in proc.stdout
    assert "9 events: open payment sale receipt open payment payment sale receipt" in proc.stdout
    assert (tmp_path / "var" / "demo-terminal" / "flash" / "journal").is_dir()
