"""Helpers for tests that run the real firmware on the real MicroPython unix port."""

import json
import subprocess
from pathlib import Path
from typing import Any

from protocol import codec, topics
from tests.gateway_helpers import wait
from tests.paths import ROOT
from tools import escpos_decode, terminal

SERIAL = "TKM-58-000123"


def new_terminal(tmp_path: Path, config: dict[str, Any] | None = None, name: str = "dev") -> Path:
    return terminal.provision(tmp_path / name, SERIAL, config)


def sell(dev: Path, script: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Run a cashier script to its end; return every journaled event, each checked against the contract."""
    proc = terminal.run(dev, script, **kwargs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return events(dev)


def events(dev: Path) -> list[dict[str, Any]]:
    records = terminal.journal_records(dev)
    seqs = [seq for seq, _ in records]
    assert seqs == sorted(set(seqs)), "journal sequence numbers must be unique and increasing"
    serial = json.loads((dev / "flash" / "identity.json").read_text())["serial"]
    out = []
    for seq, msg in records:
        codec.validate(topics.EVENT, msg, serial)
        assert msg["seq"] == seq
        out.append(msg)
    return out


def of_type(evs: list[dict[str, Any]], kind: str, **match: Any) -> list[dict[str, Any]]:
    return [e["data"] for e in evs if e["type"] == kind and all(e["data"].get(k) == v for k, v in match.items())]


def pages(dev: Path) -> list[escpos_decode.Printout]:
    return escpos_decode.split_receipts(terminal.printed(dev))


def run_on_micropython(micropython: str, script: str, heap: str, timeout: float) -> tuple[int, int, list[str]]:
    """Run a test script of ours on the real interpreter; (passed, failed, output lines) from its last line."""
    proc = subprocess.run(
        [micropython, "-X", f"heapsize={heap}", script, str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert proc.returncode == 0, "\n".join(lines[-60:])
    passed, failed = (int(part.split()[0]) for part in lines[-1].split(","))
    return passed, failed, lines


def type_keys(dev: Path, keys: str) -> None:
    """Hand the scripted cashier (waiting in `!await_keys`) the next keys, once it took the last ones."""
    path = dev / "keys.txt"
    wait(lambda: not path.exists(), what="the cashier to take the previous keys")
    tmp = dev / "keys.tmp"
    tmp.write_text(keys)
    tmp.rename(path)


def display(dev: Path) -> str:
    return (dev / "display.log").read_text()
