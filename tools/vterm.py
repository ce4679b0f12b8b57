"""Virtual terminals: N real `micropython` processes running the real firmware on the unix board.

    python -m tools.vterm --broker mqtt://HOST:PORT --count N --sales M [--seed S] [--dir DIR]

Each terminal gets its own serial (VT-<seed>-<n>), flash directory and scripted cashier making M sales
(cash, QRIS confirmed, card, down payments, now and then a void), publishes everything over MQTT, and
exits once the broker has acknowledged every journal record. Exit status 0 when every terminal drained;
otherwise 1, naming the terminals that did not and why.
"""

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tools import terminal


def serial_for(seed: int, index: int) -> str:
    return f"VT-{seed % 10000:04d}-{index:04d}"


def sale_script(rng: random.Random, sales: int, local_qris: bool = True) -> str:
    """A cashier's session of `sales` sales; every one closes (paid, partially paid or voided). A QRIS
    sale is confirmed at the board (`!confirm`, as if the acquirer answered the terminal directly); with
    `local_qris=False` there are none (where a real gateway confirms QRIS, a local one would be a payment
    the acquirer never saw)."""
    steps = []
    for _ in range(sales):
        items = " ".join(f"{rng.randint(1, 3)}*{rng.randint(1, 3)}A" for _ in range(rng.randint(1, 3)))
        kind = rng.choices(["cash", "qris", "card", "down", "void"], weights=[50, 25, 15, 5, 5])[0]
        if kind == "qris" and not local_qris:
            kind = "cash"
        if kind == "cash":
            steps.append(f"{items} B 1#")
        elif kind == "qris":
            steps.append(f"{items} B 2 !confirm=RRN{rng.randrange(10**9):09d}")
        elif kind == "card":
            steps.append(f"{items} B 3")
        elif kind == "down":
            steps.append(f"{items} B 4 5000#")
        else:
            steps.append(f"{items} B C")
    return "\n".join(steps) + "\n"


def provision(
    root: Path, broker: str, seed: int, index: int, extra: dict[str, Any] | None = None, password: str | None = None
) -> Path:
    serial = serial_for(seed, index)
    cfg = {"broker": broker, "heartbeat_s": 5, "receipt_prefix": f"V{index % 100:02d}"}
    cfg.update(extra or {})
    dev = terminal.provision(root / serial, serial, cfg)
    if password is not None:
        (dev / "flash" / "credentials.json").write_text(json.dumps({"password": password}))
    return dev


def start(
    dev: Path, script: str, drain_timeout: int = 120, code: Path | None = None, stay: bool = False
) -> subprocess.Popen[bytes]:
    """Start terminal `dev` on `script`: it exits once drained, or with `stay` keeps running (for commands)."""
    path = dev / "script.txt"
    path.write_text(script)
    argv, env = terminal.command(
        dev, path, clock=None, code=code, drain_timeout=None if stay else drain_timeout, stay=stay
    )
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.vterm", description=__doc__.split("\n")[0])
    parser.add_argument("--broker", required=True, help="mqtt://HOST:PORT")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--sales", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, help="where the terminals' flash lives (default: a temp dir)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds for every outbox to drain")
    args = parser.parse_args(argv)

    root = args.dir or Path(tempfile.mkdtemp(prefix="vterm-"))
    rng = random.Random(args.seed)
    procs = {}
    for i in range(args.count):
        dev = provision(root, args.broker, args.seed, i)
        if (dev / "flash" / "journal").exists():
            shutil.rmtree(dev / "flash" / "journal")
        procs[dev.name] = start(dev, sale_script(rng, args.sales), args.timeout)
    print(f"{args.count} virtual terminals, {args.sales} sales each, broker {args.broker}, flash in {root}")
    deadline = time.monotonic() + args.timeout + 10
    failures = []
    for serial, proc in procs.items():
        try:
            out, _ = proc.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            failures.append(f"{serial}: did not finish in time")
            continue
        if proc.returncode != 0:
            reason = out.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            failures.append(f"{serial}: exit {proc.returncode}: {reason[0]}")
    if failures:
        print("not drained:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"all {args.count} outboxes drained")
    return 0


if __name__ == "__main__":
    sys.exit(main())
