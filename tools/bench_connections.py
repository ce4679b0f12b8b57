"""10,000 connected terminals: the fleet keeps count while they are there and when they all go at once.

    python -m tools.bench_connections [--terminals 10000] [--workers 2]

Starts a Mosquitto of its own, a fresh PostgreSQL database (127.0.0.1:5432, user postgres) with the
terminals registered, and `fleet serve` against both (its ingest workers as deployed). Then
`tools.load_terminals` holds one MQTT connection per terminal (hello, retained online state, a
heartbeat a minute, an offline will). Measured: the time until every terminal is connected and until the
portal's dashboard counts every one online; the memory (RSS) of the broker, of the fleet (the server and
its workers) and of the load tool; then the load tool is killed (every connection drops at once) and the
time until the dashboard counts none online, which must be within the presence window.
Ends with `RESULT terminals=… connect_s=… online_s=… offline_s=… broker_mb=… fleet_mb=… load_mb=… ok=…`.
"""

import argparse
import asyncio
import http.cookiejar
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from datetime import date
from pathlib import Path

from fleet import db
from fleet.devices.models import Device, Ownership
from fleet.domain.presence import DEFAULT_WINDOW
from tools import bench_ingest, load_terminals, mosquitto

FLEET = str(Path(sys.executable).parent / "fleet")


async def register(url: str, serials: list[str]) -> None:
    await db.migrate(url)
    await db.connect(url)
    try:
        await Device.bulk_create(
            [
                Device(
                    serial=s,
                    model="TKM-58",
                    device_type="mpos",
                    ownership=Ownership.PURCHASED,
                    invoice_number="INV-" + s,
                    invoice_date=date(2026, 1, 1),
                )
                for s in serials
            ],
            batch_size=2000,
        )
    finally:
        await db.disconnect()


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def tree(pid: int) -> list[int]:
    """`pid` and every process under it."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, pending = [], [pid]
    while pending:
        p = pending.pop()
        out.append(p)
        pending += children.get(p, [])
    return out


class Portal:
    """The dashboard as Biz Support sees it: logged in through the login form, its online count read."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(base + "/login", timeout=30).read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf, "no CSRF field on the login page"
        form = urllib.parse.urlencode({"username": username, "password": password, "csrf": csrf.group(1)})
        self.opener.open(base + "/login", data=form.encode(), timeout=30).read()

    def online(self) -> int:
        page = self.opener.open(self.base + "/portal/dashboard", timeout=120).read().decode()
        found = re.search(r'id="online-count">(\d+)<', page)
        assert found, "the dashboard shows no online count (not logged in?)"
        return int(found.group(1))


def wait_for(check, wanted: int, timeout: float) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    seen = check()
    while seen != wanted and time.monotonic() - started < timeout:
        time.sleep(0.5)
        seen = check()
    return time.monotonic() - started, seen


def run(terminals: int, workers: int) -> dict[str, float]:
    load_terminals.raise_open_files()  # the broker, started from here, needs a descriptor per terminal
    name = f"fleet_conn_{uuid.uuid4().hex[:10]}"
    url = f"{bench_ingest.POSTGRES}/{name}"
    prefix = "LD" + uuid.uuid4().hex[:4].upper()
    serials = [f"{prefix}-{i:06d}" for i in range(terminals)]
    asyncio.run(bench_ingest.admin(f'CREATE DATABASE "{name}"'))
    server = load = None
    try:
        asyncio.run(register(url, serials))
        with tempfile.TemporaryDirectory() as tmp, mosquitto.Mosquitto(Path(tmp) / "broker") as broker:
            port = mosquitto.free_port()
            env = dict(
                os.environ,
                FLEET_DATABASE_URL=url,
                FLEET_BROKER_URL=broker.url,
                FLEET_INGEST_WORKERS=str(workers),
                FLEET_JWT_SECRET=secrets.token_hex(32),
            )
            password = secrets.token_urlsafe(12)
            made = subprocess.run(
                [FLEET, "create-user", "support", "--role", "biz_support"],
                env=dict(env, FLEET_NEW_USER_PASSWORD=password),
                capture_output=True,
                text=True,
            )
            assert made.returncode == 0, made.stderr
            log = Path(tmp) / "serve.log"
            with log.open("wb") as out:
                server = subprocess.Popen([FLEET, "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if urllib.request.urlopen(base + "/healthz", timeout=5).status == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise RuntimeError("fleet serve did not come up: " + log.read_text()[-2000:])
            portal = Portal(base, "support", password)
            started = time.monotonic()
            load = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tools.load_terminals",
                    "--broker",
                    broker.url,
                    "--count",
                    str(terminals),
                    "--prefix",
                    prefix,
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert load.stdout is not None
            line = load.stdout.readline()
            connect_s = time.monotonic() - started
            print(line.strip(), flush=True)
            online_s, online = wait_for(portal.online, terminals, 300)
            online_s += connect_s
            assert broker.proc is not None
            figures = {
                "terminals": terminals,
                "connect_s": connect_s,
                "online_s": online_s,
                "online_seen": online,
                "broker_mb": rss_mb([broker.proc.pid]),
                "fleet_mb": rss_mb(tree(server.pid)),
                "load_mb": rss_mb([load.pid]),
            }
            load.send_signal(signal.SIGKILL)  # every connection drops at once
            load.wait()
            offline_s, still = wait_for(portal.online, 0, DEFAULT_WINDOW.total_seconds() + 60)
            figures |= {"offline_s": offline_s, "online_after_kill": still}
            figures["ok"] = float(online == terminals and still == 0 and offline_s <= DEFAULT_WINDOW.total_seconds())
            return figures
    finally:
        for proc in (load, server):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(30)
        asyncio.run(bench_ingest.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_connections", description=__doc__.split("\n")[0])
    parser.add_argument("--terminals", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    f = run(args.terminals, args.workers)
    print(
        f"RESULT terminals={f['terminals']:.0f} connect_s={f['connect_s']:.1f} online_s={f['online_s']:.1f} "
        f"offline_s={f['offline_s']:.1f} broker_mb={f['broker_mb']:.0f} fleet_mb={f['fleet_mb']:.0f} "
        f"load_mb={f['load_mb']:.0f} online_seen={f['online_seen']:.0f} online_after_kill={f['online_after_kill']:.0f} "
        f"ok={'yes' if f['ok'] else 'no'}",
        flush=True,
    )
    return 0 if f["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
