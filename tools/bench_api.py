"""The fleet's API and portal at fleet scale on PostgreSQL: build a database, serve it, time the requests.

    python -m tools.bench_api [--devices 1000000 --events 5000000 …] [--requests 200] [--clients 8]
                              [--database postgres://…/bench_api] [--reuse]

1. Builds a database of the given sizes in the migrated schema (default the sizes #23 measured: 1,000
   merchants, 1,000,000 devices, 5,000,000 sale events over 50,000 devices, 2,000,000 telemetry samples,
   50,000 repair tickets in all states, 200,000 commands). Rows are made by the server itself
   (`INSERT … SELECT … FROM generate_series`: no row crosses the wire, faster than COPY), then ANALYZE.
   `--reuse` keeps a database an earlier run built.
2. Starts `fleet serve` against it (its ingest worker, its jobs process and all) and an admin user.
3. Times each request of the mix `--requests` times one after the other, then the same with `--clients`
   clients at once, and prints p50 / p95 / p99 / max in ms and the failures per request; and the resident
   memory of `fleet serve` (with its children) sampled all along: at the start, its peak, at the end.

No assertion: the figures go in docs/benchmarks.md with the date and the machine.
"""

import argparse
import asyncio
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx

from fleet import db
from fleet.broker import free_port

PASSWORD = "bench-admin-password-1"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _sql(sizes: argparse.Namespace) -> list[tuple[str, str]]:
    """(what, statement) to fill the schema, in order."""
    m, d, e, ed = sizes.merchants, sizes.devices, sizes.events, sizes.event_devices
    return [
        (
            f"{m:,} merchants",
            "INSERT INTO merchant (name, created_at, auto_cancel_minutes, time_zone, business_hours,"
            " offline_alert_minutes) SELECT 'Toko ' || g, now(), 60, 'Asia/Jakarta', '08:00-21:00', 30"
            f" FROM generate_series(1, {m}) g",
        ),
        (
            f"{d:,} devices",
            "INSERT INTO device (serial, model, device_type, ownership, online, capabilities, created_at, config,"
            " sales_locked, service_plan, merchant_id, invoice_number, invoice_date, rental_start, rental_end,"
            " last_seen, paper, battery_pct, printed_mm)"
            " SELECT 'TKM-' || lpad(g::text, 8, '0'), CASE WHEN g % 4 = 0 THEN 'TKM-80' ELSE 'TKM-58' END,"
            " 'mpos', CASE WHEN g % 20 < 7 THEN 'rented' ELSE 'purchased' END, g % 3 = 0, '[]', now(), '{}',"
            f" false, 'basic', 1 + g % {m}, 'INV-' || g, DATE '2025-06-01' + g % 500,"
            " CASE WHEN g % 20 < 7 THEN DATE '2025-06-01' END,"
            " CASE WHEN g % 20 < 7 THEN DATE '2026-06-01' + g % 900 END,"
            " now() - (g % 5000) * INTERVAL '1 minute', CASE WHEN g % 997 = 0 THEN 'out' ELSE 'ok' END,"
            f" g % 100, g % 60000000 FROM generate_series(1, {d}) g",
        ),
        (
            f"{e:,} sale events over {ed:,} devices",
            "INSERT INTO event (key, serial, jid, seq, type, device_time, received_at, data, merchant_id)"
            f" SELECT s || '/j1/' || g, s, 'j1', g, 'sale', TIMESTAMPTZ '2026-01-01' + g * INTERVAL '5 second',"
            " now(), jsonb_build_object('receipt', 'V00-' || g, 'total', 25000, 'paid', 25000, 'outstanding', 0,"
            f" 'status', 'paid'), 1 + (g % {ed}) % {m}"
            f" FROM (SELECT g, 'TKM-' || lpad((1 + g % {ed})::text, 8, '0') AS s FROM generate_series(1, {e}) g) x",
        ),
        (
            f"{sizes.telemetry:,} telemetry samples",
            "INSERT INTO telemetry_sample (serial, device_time, received_at, uptime_s, mem_free, battery_pct,"
            " rssi_dbm, paper, printed_mm) SELECT 'TKM-' || lpad((1 + g % " + str(ed) + ")::text, 8, '0'),"
            " TIMESTAMPTZ '2026-01-01' + g * INTERVAL '10 second', now(), g, 60000, g % 100, -60, 'ok', g"
            f" FROM generate_series(1, {sizes.telemetry}) g",
        ),
        (
            f"{sizes.tickets:,} repair tickets",
            "INSERT INTO ticket (state, problem, opened_by, opened_at, updated_at, detail, version, device_id,"
            " merchant_id, received_on, due_earliest, due_latest, finished_on)"
            " SELECT (ARRAY['opened','received','repairing','waiting_parts','repaired','closed','cancelled'])"
            "[1 + g % 7],"
            " 'printer jams', 'bench', now(), now(), '{}', 1, 1 + g % " + str(d) + ", 1 + (g % " + str(d) + ")"
            f" % {m}, DATE '2026-01-01' + g % 300, DATE '2026-01-04' + g % 300, DATE '2026-01-08' + g % 300,"
            " CASE WHEN g % 7 IN (5, 6) THEN DATE '2026-01-06' + g % 300 END"
            f" FROM generate_series(1, {sizes.tickets}) g",
        ),
        (
            f"{sizes.commands:,} commands",
            "INSERT INTO command (cmd_id, name, args, status, created_at, expires_at, attempts, requested_by,"
            " device_id) SELECT 'c' || g, 'ping', '{}', (ARRAY['pending','sent','acked','failed'])[1 + g % 4],"
            f" now(), now() + INTERVAL '1 day', 1, 'bench', 1 + g % {d} FROM generate_series(1, {sizes.commands}) g",
        ),
    ]


async def build(url: str, sizes: argparse.Namespace) -> None:
    admin_url, name = url.rsplit("/", 1)
    conn = await asyncpg.connect(admin_url + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await db.migrate(url)
    conn = await asyncpg.connect(url)
    try:
        for what, statement in _sql(sizes):
            began = time.monotonic()
            await conn.execute(statement)
            print(f"built {what} in {time.monotonic() - began:.1f} s", flush=True)
        began = time.monotonic()
        await conn.execute("ANALYZE")
        print(f"analyzed in {time.monotonic() - began:.1f} s", flush=True)
    finally:
        await conn.close()


def _rss_kb(pid: int) -> int:
    """Resident memory of `pid` and its descendants, in KiB (0 when gone)."""
    total = 0
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        total += sum(_rss_kb(int(child)) for child in children)
    except (OSError, ValueError):
        pass
    return total


class Memory(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, [], threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.samples.append(_rss_kb(self.pid))


def _requests(serials: list[str], merchant: int) -> list[tuple[str, Callable[[int], str], bool]]:
    """(name, path of the n-th request, is a portal page)."""
    s = serials
    return [
        ("GET /devices/{serial}/warranty", lambda n: f"/devices/{s[n % len(s)]}/warranty", False),
        ("GET /devices/{serial}", lambda n: f"/devices/{s[n % len(s)]}", False),
        ("GET /devices/{serial}/transactions", lambda n: f"/devices/{s[n % len(s)]}/transactions", False),
        ("GET /devices?q= (serial part)", lambda n: f"/devices?q=TKM-{n % 90 + 10:02d}{n % 7}", False),
        ("GET /devices?merchant_id=", lambda n: f"/devices?merchant_id={1 + n % merchant}", False),
        ("GET /merchants/{id}/transactions", lambda n: f"/merchants/{1 + n % merchant}/transactions", False),
        ("GET /tickets?overdue=true", lambda n: "/tickets?overdue=true", False),
        ("portal dashboard", lambda n: "/portal/dashboard", True),
        ("portal device list", lambda n: "/portal/devices", True),
        ("portal device page", lambda n: f"/portal/devices/{s[n % len(s)]}", True),
    ]


def _figures(ms: list[float]) -> str:
    ms = sorted(ms)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return f"p50 {q[49]:7.0f}  p95 {q[94]:7.0f}  p99 {q[98]:7.0f}  max {ms[-1]:7.0f}"


async def _login(base: str) -> tuple[dict[str, str], httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        token = (await client.post("/auth/token", data={"username": "bench", "password": PASSWORD})).json()
    portal = httpx.AsyncClient(base_url=base, timeout=120)
    csrf = CSRF.search((await portal.get("/login")).text)
    assert csrf, "the login form"
    form = {"username": "bench", "password": PASSWORD, "csrf": csrf[1], "next": "/portal"}
    assert (await portal.post("/login", data=form)).status_code == 303
    return {"Authorization": "Bearer " + token["access_token"]}, portal


async def measure(base: str, url: str, count: int, clients: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        serials = [r[0] for r in await conn.fetch("SELECT serial FROM device ORDER BY random() LIMIT 500")]
        merchants = int(await conn.fetchval("SELECT count(*) FROM merchant"))
    finally:
        await conn.close()
    headers, portal = await _login(base)
    api = httpx.AsyncClient(base_url=base, timeout=120, headers=headers)
    print(f"{'request':38} {'sequential (ms)':45} | {clients} clients at once (ms)")
    try:
        for name, path, page in _requests(serials, merchants):
            client = portal if page else api
            failures = 0

            async def one(n: int, client: httpx.AsyncClient = client, path: Callable[[int], str] = path) -> float:
                nonlocal failures
                began = time.perf_counter()
                try:
                    answer = await client.get(path(n))
                    failures += answer.status_code != 200
                except httpx.HTTPError:
                    failures += 1
                return (time.perf_counter() - began) * 1000

            sequential = [await one(n) for n in range(count)]

            async def worker(k: int) -> list[float]:
                return [await one(n) for n in range(k, count, clients)]

            together = [ms for part in await asyncio.gather(*(worker(k) for k in range(clients))) for ms in part]
            print(f"{name:38} {_figures(sequential)} | {_figures(together)}  failures {failures}", flush=True)
    finally:
        await api.aclose()
        await portal.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_api")
    parser.add_argument("--reuse", action="store_true", help="keep the database an earlier run built")
    for name, default in (
        ("merchants", 1_000),
        ("devices", 1_000_000),
        ("events", 5_000_000),
        ("event-devices", 50_000),
        ("telemetry", 2_000_000),
        ("tickets", 50_000),
        ("commands", 200_000),
    ):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--requests", type=int, default=200, help="per request of the mix, each way")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    args.event_devices = min(args.event_devices, args.devices)
    if not args.reuse:
        began = time.monotonic()
        asyncio.run(build(args.database, args))
        print(f"database built in {time.monotonic() - began:.0f} s", flush=True)
    env = dict(
        os.environ, FLEET_DATABASE_URL=args.database, FLEET_BROKER_URL="", FLEET_JWT_SECRET=secrets.token_hex(32)
    )
    fleet = str(Path(sys.executable).parent / "fleet")
    made = subprocess.run(
        [fleet, "create-user", "bench", "--role", "admin"],
        env=dict(env, FLEET_NEW_USER_PASSWORD=PASSWORD),
        capture_output=True,
        text=True,
    )
    if made.returncode != 0 and "exists" not in made.stderr + made.stdout:
        raise SystemExit(made.stderr)
    port = free_port()
    log = Path(tempfile.gettempdir()) / "bench-api-serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen([fleet, "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
    print(f"fleet serve's output: {log}", flush=True)
    base = f"http://127.0.0.1:{port}"
    memory = Memory(serve.pid)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=5).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or serve.poll() is not None:
                raise SystemExit("fleet serve did not start")
            time.sleep(0.5)
        start_kb = _rss_kb(serve.pid)
        memory.start()
        asyncio.run(measure(base, args.database, args.requests, args.clients))
        memory.done.set()
        peak = max(memory.samples, default=start_kb)
        end = memory.samples[-1] if memory.samples else start_kb
        print(f"fleet serve memory (with its children): start {start_kb // 1024} MiB, peak {peak // 1024} MiB, "
              f"end {end // 1024} MiB")  # fmt: skip
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
