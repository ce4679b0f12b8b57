"""Run the real firmware on the real MicroPython unix port, as a simulated terminal.

One terminal is a directory: flash/ (identity.json, config.json, journal/), printer.bin, display.log.
Tests, benchmarks and virtual terminals all start terminals through here.
"""

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

from tools import binaries

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
CLOCK = 1795000000  # 2026-11-18 18:06 WIB: fixed, so receipts are reproducible
QRIS_STATIC = (ROOT / "protocol" / "examples" / "qris_static.txt").read_text().strip()

DEFAULT_CONFIG: dict[str, Any] = {
    "merchant": "TOKO MAJU JAYA",
    "address": ["Jl. Sudirman 1", "Jakarta Pusat"],
    "receipt_prefix": "A1",
    "products": [
        {"plu": 1, "name": "Kopi Susu", "price": 15000},
        {"plu": 2, "name": "Roti Bakar", "price": 12000},
        {"plu": 3, "name": "Teh Manis", "price": 8000},
    ],
    "qris_static": QRIS_STATIC,
}


def micropython() -> str:
    """The micropython binary (the real unix port) installed with the project."""
    return binaries.find("micropython")


def provision(dev: Path, serial: str, config: dict[str, Any] | None = None, model: str = "TKM-58") -> Path:
    """Create a terminal directory with a factory identity and a configuration."""
    flash = dev / "flash"
    flash.mkdir(parents=True, exist_ok=True)
    (flash / "identity.json").write_text(json.dumps({"serial": serial, "model": model, "hw_rev": "B2"}))
    cfg = dict(DEFAULT_CONFIG)
    cfg.update(config or {})
    (flash / "config.json").write_text(json.dumps(cfg))
    return dev


def command(
    dev: Path,
    script: Path | None = None,
    *,
    clock: int | None = CLOCK,
    heap: str = "1M",
    code: Path | None = None,
    stay: bool = False,
    cut_after_seq: int = 0,
    drain_timeout: int | None = None,
) -> tuple[list[str], dict[str, str]]:
    """argv and environment that run terminal `dev` from source, or from `code` (a tools.build_firmware dir)."""
    code_path = str(code) if code else f"{FIRMWARE}{os.pathsep}{ROOT}"
    env = dict(os.environ, MICROPYPATH=f".frozen{os.pathsep}{code_path}")
    argv = [micropython(), "-X", f"heapsize={heap}", str((code or FIRMWARE) / "main.py"), "--dev", str(dev)]
    if script is not None:
        argv += ["--script", str(script)]
    if clock is not None:
        argv += ["--clock", str(clock)]
    if stay:
        argv.append("--stay")
    if cut_after_seq:
        argv += ["--cut-after-seq", str(cut_after_seq)]
    if drain_timeout is not None:  # exit once the broker acknowledged every journal record
        argv += ["--drain", "--drain-timeout", str(drain_timeout)]
    return argv, env


def run(dev: Path, script: str, *, timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the terminal through a cashier script until the script is done."""
    path = dev / "script.txt"
    path.write_text(script)
    argv, env = command(dev, path, **kwargs)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def spawn(dev: Path, script: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start the terminal through a cashier script without waiting for it (to kill it, or let it run)."""
    path = dev / "script.txt"
    path.write_text(script)
    argv, env = command(dev, path, **kwargs)
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _firmware_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"firmware_{name}", FIRMWARE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def journal_records(dev: Path) -> list[tuple[int, dict[str, Any]]]:
    """(seq, event message) of every record in the terminal's journal, read with the firmware's own code."""
    journal = _firmware_module("journal").Journal(str(dev / "flash" / "journal"))
    journal.open(lambda: "00000000", readonly=True)
    try:
        return [(seq, json.loads(payload)) for seq, payload in journal.records()]
    finally:
        journal.close()


def journal_damage(dev: Path) -> int:
    """Bytes of torn or corrupt records the journal holds now (0 after a clean recovery)."""
    journal = _firmware_module("journal").Journal(str(dev / "flash" / "journal"))
    journal.open(lambda: "00000000", readonly=True)
    journal.close()
    damage: int = journal.repaired
    return damage


def printed(dev: Path) -> bytes:
    path = dev / "printer.bin"
    return path.read_bytes() if path.exists() else b""


def display(dev: Path) -> list[str]:
    path = dev / "display.log"
    return path.read_text().splitlines() if path.exists() else []
