"""Firmware memory and speed on the real MicroPython binary, from .mpy files as a board runs them.

    python -m tools.bench_firmware

Prints name=value lines and ends with one line
    RESULT min_heapsize_bytes=… code_heap_bytes=… data_peak_bytes=… receipt_bytes=… render_ms=…
- min_heapsize_bytes: the smallest `-X heapsize` at which the scripted flow (a QRIS sale whose slip
  carries a raster QR, a cash sale, a reprint and a refund, each with its receipt) completes: bisection.
- code_heap_bytes: heap taken by all the firmware code the flow can load (resident_code_heap_bytes: the
  part that stays loaded; the rest is loaded for a moment by transient.py).
- data_peak_bytes: the data the flow allocates beyond its code: the smallest heap for the same flow with
  every module imported first (so no code comes and goes), minus code_heap_bytes. The modules are
  imported one at a time with a collection after each, so that the garbage of loading code (module dicts
  outgrown as they fill, the loader's buffers) is gone before the next module loads. Imported in one
  chain, that garbage stays as hundreds of small holes between pieces of code (code_load_holes_bytes,
  measured after a chained import and a collection); the flow's data cannot use most of them, so they
  count as data although the flow never allocated them: data_peak_chained_bytes is the figure measured
  that way, printed for comparison. Either way the data's own fragmentation counts as data.
- receipt_bytes: ESC/POS bytes of the typical cash receipt; render_ms: time to render it.
The firmware as it ships runs the till and its MQTT link together: the RESULT line is for that, the flow
counting as done only when a real broker (a Mosquitto of this run's own) has acknowledged every journal
record. The same figures for the till alone (no broker configured) come first, prefixed offline_.
Baseline in the same run: the smallest heap an empty asyncio program needs (baseline_heapsize_bytes).
Budget (BRIEF §5): min heapsize <= 128 KB (goal 96 KB), data peak <= 32 KB.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import build_firmware, mosquitto, terminal

FLOW = "2*1A 2A B 2 !confirm=RRN1 1A 3A B 1 50000# D 1 # D 2 1#"
MODULES = (
    # asyncio loads these submodules on first use: library code, counted with ours.
    "asyncio.event",
    "asyncio.funcs",
    "asyncio.lock",
    "app",
    "board.unix",
    "till",
    "sale",
    "journal",
    "receipt",
    "printer",
    "escpos",
    "money",
    "config",
    "identity",
    "transient",
    "protocol.event",
)
# Modules loaded for a moment and dropped (qr, protocol.qris, recovery, aftersale, session, commands, the
# hello/telemetry/ack builders) are not in these lists: they count in the data peak, as they occupy the
# heap only while in use.
LINK_MODULES = ("asyncio.stream", "link", "mqtt", "protocol.codec", "protocol.state", "protocol.topics")
# Loaded for a moment and dropped (transient.py): resident only while in use.
TRANSIENT = ("qr", "protocol.qris", "recovery", "aftersale", "menu", "card")
LINK_TRANSIENT = (
    "session",
    "refund_ask",
    "commands",
    "protocol.hello",
    "protocol.telemetry",
    "protocol.ack",
    "protocol.command",
    "protocol.schema",
    "protocol.errors",
)
EVERY_MODULE = MODULES + LINK_MODULES + TRANSIENT + LINK_TRANSIENT
BUDGET = 128 * 1024
GOAL = 96 * 1024
DATA_BUDGET = 32 * 1024


def _flow_ok(code: Path, work: Path, heap: int, broker: str = "") -> bool:
    dev = work / f"dev-{heap}-{bool(broker)}-{code.name}"
    terminal.provision(dev, "TKM-58-000001", {"broker": broker})
    try:
        proc = terminal.run(dev, FLOW, heap=str(heap), code=code, timeout=120, drain_timeout=30 if broker else None)
    except subprocess.TimeoutExpired:
        return False
    if proc.returncode != 0 or "Error" in proc.stdout + proc.stderr:
        return False
    kinds = [msg["type"] for _, msg in terminal.journal_records(dev)]
    return kinds.count("sale") == 2 and kinds.count("refund") == 1 and kinds.count("receipt") == 4


def _bisect(ok, low: int, high: int, step: int = 1024) -> int:
    """Smallest value in [low, high] (to `step`) for which ok() holds; ok must be monotonic."""
    if not ok(high):
        raise SystemExit(f"the flow fails even with a {high}-byte heap")
    while high - low > step:
        mid = (low + high) // 2 // step * step
        if ok(mid):
            high = mid
        else:
            low = mid
    return high


def _output(code: Path, source: str, heap: int | str = "1M") -> str:
    """What MicroPython prints running `source` with the built firmware `code` on its path."""
    argv, env = terminal.command(Path("unused"), code=code)
    proc = subprocess.run(
        [argv[0], "-X", f"heapsize={heap}", "-c", source], env=env, capture_output=True, text=True, timeout=60
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    return proc.stdout


def _probe(code: Path, source: str) -> str:
    return _output(code, source).strip().splitlines()[-1]


def _baseline_ok(code: Path, heap: int) -> bool:
    argv, env = terminal.command(Path("unused"), code=code)
    program = "import asyncio\nasync def f():\n    await asyncio.sleep_ms(1)\nasyncio.run(f())\nprint('ok')"
    proc = subprocess.run(
        [argv[0], "-X", f"heapsize={heap}", "-c", program], env=env, capture_output=True, text=True, timeout=30
    )
    return proc.returncode == 0 and proc.stdout.strip() == "ok"


def preload(code: Path, out: Path, modules: tuple[str, ...], chained: bool = False) -> Path:
    """A copy of the built firmware `code` whose main.py imports `modules` before it starts: one at a
    time with a collection after each, or (`chained`) all in one go."""
    shutil.copytree(code, out)
    between = "" if chained else "gc.collect()\n"
    imports = "".join(f"import {m}\n{between}" for m in modules)
    (out / "main.py").write_text("import gc\n" + imports + "import app\napp.main()\n")
    return out


def code_heap(code: Path, modules: tuple[str, ...]) -> int:
    """Heap taken by importing `modules` (at a heap so large that nothing but their own code stays)."""
    imports = "\n".join(f"import {m}" for m in modules)
    return int(
        _probe(code, f"import gc\ngc.collect()\nb=gc.mem_alloc()\n{imports}\ngc.collect()\nprint(gc.mem_alloc()-b)")
    )


def _measure(
    code: Path, work: Path, broker: str, resident: tuple[str, ...], transient: tuple[str, ...]
) -> dict[str, int]:
    """Heap figures of the flow, with the link to `broker` when one is given.

    min_heap: as the firmware ships (transient code loaded and dropped). For the data peak the same flow
    runs with every module it can load imported first, so that no code comes and goes: the smallest heap
    it then needs, minus the heap all that code takes, is the data it allocates beyond its code (with
    the modules imported one at a time, and again in one chain: see the module's docstring).
    """
    min_heap = _bisect(lambda h: _flow_ok(code, work, h, broker), 32 * 1024, 512 * 1024)
    all_code = code_heap(code, resident + transient)
    figures = {
        "min_heapsize_bytes": min_heap,
        "resident_code_heap_bytes": code_heap(code, resident),
        "code_heap_bytes": all_code,
    }
    for name, chained in (("data_peak_bytes", False), ("data_peak_chained_bytes", True)):
        preloaded = preload(
            code, work / f"{code.name}-preloaded-{bool(broker)}-{chained}", resident + transient, chained
        )
        heap = _bisect(lambda h, p=preloaded: _flow_ok(p, work, h, broker), 32 * 1024, 512 * 1024)
        figures[name] = heap - all_code
        if chained:
            figures["code_load_holes_bytes"] = _code_load_holes(code, resident + transient, heap)
    return figures


def _code_load_holes(code: Path, modules: tuple[str, ...], heap: int) -> int:
    """Free bytes left between pieces of code by importing `modules` in one chain into a `heap`-byte heap
    and collecting: the layout the chained data figure's flow starts from."""
    imports = "".join(f"import {m}\n" for m in modules)
    source = f"import gc, micropython\n{imports}gc.collect()\nmicropython.mem_info(1)"
    # `heap` is the least the flow needed, found by bisection; compiling this script and printing the map
    # may need a little more than that: grow it a block at a time rather than fail the whole run.
    for extra in range(0, 16 * 1024 + 1, 1024):
        try:
            output = _output(code, source, heap + extra)
            break
        except SystemExit as e:
            if "MemoryError" not in str(e) or extra == 16 * 1024:
                raise
    total = used = 0
    cells = []
    for line in output.splitlines():
        if line.startswith("GC: total:"):  # GC: total: 1048128, used: 123456, free: ...
            total, used = (int(part.split(":")[1]) for part in line[len("GC: ") :].split(",")[:2])
        elif len(line) > 10 and line[8:10] == ": " and all(c in "0123456789abcdef" for c in line[:8]):
            cells.append(line[10:])
        elif line.strip().startswith("(") and "lines all free" in line:
            cells.append("." * 64 * int(line.strip()[1:].split()[0]))
    blocks = "".join(cells)
    if not total or not blocks:
        raise SystemExit("no heap map from micropython.mem_info(1):\n" + output)
    block_bytes = total // len(blocks)
    top = len(blocks.rstrip("."))
    return top * block_bytes - used


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        code = build_firmware.build(work / "code")
        mpy_bytes = sum(p.stat().st_size for p in code.rglob("*.mpy"))
        print(f"mpy_files_bytes={mpy_bytes}")
        baseline = _bisect(lambda h: _baseline_ok(code, h), 2048, 64 * 1024, 512)
        print(f"baseline_heapsize_bytes={baseline}")
        offline = _measure(code, work, "", MODULES, TRANSIENT)
        for name, value in offline.items():
            print(f"offline_{name}={value}")
        with mosquitto.Mosquitto(work / "broker") as broker:
            online = _measure(code, work, broker.url, MODULES + LINK_MODULES, TRANSIENT + LINK_TRANSIENT)
        dev = terminal.provision(work / "typical", "TKM-58-000001")
        terminal.run(dev, "2*1A 2A B 1 50000#", code=code)
        sale = next(m["data"] for _, m in terminal.journal_records(dev) if m["type"] == "sale")
        receipt_bytes = next(m["data"]["bytes"] for _, m in terminal.journal_records(dev) if m["type"] == "receipt")
        cfg = json.loads((dev / "flash" / "config.json").read_text())
        render = (
            "import time, config, receipt, json\n"
            f"cfg = config.DEFAULTS.copy(); cfg.update(json.loads({json.dumps(json.dumps(cfg))}))\n"
            f"sale = json.loads({json.dumps(json.dumps(sale))})\n"
            "n = 200\nt = time.ticks_us()\n"
            "for _ in range(n):\n    for chunk in receipt.sale(cfg, sale, 1795000000):\n        pass\n"
            "print(time.ticks_diff(time.ticks_us(), t) / n / 1000)"
        )
        render_ms = float(_probe(code, render))
    min_heap, code_heap, data_peak = (online[k] for k in ("min_heapsize_bytes", "code_heap_bytes", "data_peak_bytes"))
    for name, value in online.items():
        print(f"{name}={value}")
    print(f"heap_ratio_to_baseline={min_heap / baseline:.2f}")
    print(f"receipt_bytes={receipt_bytes}")
    print(f"render_ms={render_ms:.3f}")
    for label, figures in (("offline", offline), ("with_link", online)):
        heap_ok = "ok" if figures["min_heapsize_bytes"] <= BUDGET else "OVER"
        goal = "met" if figures["min_heapsize_bytes"] <= GOAL else "not met"
        data_ok = "ok" if figures["data_peak_bytes"] <= DATA_BUDGET else "OVER"
        print(
            f"budget_{label}: min_heapsize {heap_ok} (<= {BUDGET}; goal {GOAL} {goal}), "
            f"data_peak {data_ok} (<= {DATA_BUDGET})"
        )
    print(
        f"RESULT min_heapsize_bytes={min_heap} code_heap_bytes={code_heap} data_peak_bytes={data_peak} "
        f"receipt_bytes={receipt_bytes} render_ms={render_ms:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
