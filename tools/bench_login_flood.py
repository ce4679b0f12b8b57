"""What a login flood does to everybody else: /healthz latency while clients loop wrong passwords.

    python -m tools.bench_login_flood [--clients 6] [--seconds 10]

Starts `fleet serve` on a fresh SQLite file (the in-process broker) and measures /healthz latency
(p50, p95, max over sequential requests) first idle, then while `--clients` threads post wrong passwords
to /auth/token as fast as they are answered, each for accounts of its own (so the per-account throttle
does not end the flood for it; the per-client one may). Prints both, and how the logins were answered.
"""

import argparse
import collections
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tools import mosquitto

FLEET = str(Path(sys.executable).parent / "fleet")


def latency(base: str, seconds: float) -> list[float]:
    out = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        urllib.request.urlopen(base + "/healthz", timeout=30).read()
        out.append((time.monotonic() - started) * 1000)
        time.sleep(0.02)
    return out


def figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50={statistics.median(ordered):.1f}ms p95={p95:.1f}ms max={ordered[-1]:.1f}ms n={len(ordered)}"


def flood(base: str, client: int, stop: threading.Event, answers: collections.Counter[int]) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        form = urllib.parse.urlencode({"username": f"flood{client}-{n % 50}", "password": "wrong-password"})
        try:
            urllib.request.urlopen(base + "/auth/token", data=form.encode(), timeout=30).read()
            answers[200] += 1
        except urllib.error.HTTPError as e:
            answers[e.code] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_login_flood", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        port = mosquitto.free_port()
        env = dict(
            os.environ,
            FLEET_DATABASE_URL=f"sqlite://{tmp}/fleet.sqlite3",
            FLEET_BROKER_URL="",
            FLEET_BROKER_PORT=str(mosquitto.free_port()),
            FLEET_JWT_SECRET=secrets.token_hex(32),
        )
        server = subprocess.Popen(
            [FLEET, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=5)
                    break
                except OSError:
                    time.sleep(0.2)
            idle = latency(base, args.seconds)
            stop = threading.Event()
            answers: collections.Counter[int] = collections.Counter()
            threads = [
                threading.Thread(target=flood, args=(base, i, stop, answers), daemon=True) for i in range(args.clients)
            ]
            for t in threads:
                t.start()
            flooded = latency(base, args.seconds)
            stop.set()
            for t in threads:
                t.join(30)
        finally:
            server.terminate()
            server.wait(30)
    print(f"idle:    {figures(idle)}")
    print(f"flooded: {figures(flooded)} ({args.clients} clients; logins answered {dict(sorted(answers.items()))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
