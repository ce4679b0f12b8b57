"""`fleet demo`: the fleet with its defaults (SQLite, in-process broker), the sandbox payment gateway
and virtual terminals selling.

The terminals are real `micropython` processes running the real firmware (tools.vterm). Their
sales travel over MQTT into the database; the demo prints the URL, logins for each role, and what
arrived. The sandbox gateway (tools.sandbox_gateway, its own HTTP service with keys made for this run)
takes the payments: card sales are authorized at its card host and captured by the fleet, and the
first terminal's last sale is a QRIS that the demo pays as the customer would, at the gateway, so the
payment travels webhook → fleet → `pay_confirm` → terminal, which prints the receipt; pay links can be
sent from the portal (the SMS land in the gateway's log). With --smoke it also sends a ping through the
command queue, waits for the terminal's ack, checks every journal record was stored once, and stops.
"""

import asyncio
import contextlib
import json
import random
import secrets
import shutil
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import uvicorn
from tqdm import tqdm

from fleet.app import create_app
from fleet.auth import passwords
from fleet.auth.models import Role
from fleet.auth.service import create_user
from fleet.broker import port_or_free
from fleet.devices.models import Device, DeviceType, Merchant, Ownership
from fleet.ingest.models import Event
from fleet.payments.gateway import SandboxGateway
from fleet.service import Service
from tools import escpos_decode, sandbox_gateway, terminal, vterm

SEED = 7
MERCHANTS = ("Toko Sinar Jaya", "Warung Bu Tini")


class Api:
    """A tiny HTTP client for the demo's own checks (urllib, in a thread)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""

    def _call(self, method: str, path: str, body: bytes | None = None, ctype: str = "application/json") -> Any:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        if body is not None:
            request.add_header("Content-Type", ctype)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    async def login(self, username: str, password: str) -> None:
        form = urllib.parse.urlencode({"username": username, "password": password}).encode()
        answer = await asyncio.to_thread(self._call, "POST", "/auth/token", form, "application/x-www-form-urlencoded")
        self.token = answer["access_token"]

    async def get(self, path: str) -> Any:
        return await asyncio.to_thread(self._call, "GET", path)

    async def post(self, path: str, data: dict[str, Any]) -> Any:
        return await asyncio.to_thread(self._call, "POST", path, json.dumps(data).encode())


async def _seed(terminals: int) -> dict[str, str]:
    """Merchants, the registered terminals (the last one stays unregistered: W4) and a user per role."""
    merchants = [await Merchant.create(name=name) for name in MERCHANTS]
    for index in range(max(1, terminals - 1)):
        rented = index % 2 == 1
        await Device.create(
            serial=vterm.serial_for(SEED, index),
            model="TKM-58",
            device_type=DeviceType.MPOS,
            merchant=merchants[index % len(merchants)],
            ownership=Ownership.RENTED if rented else Ownership.PURCHASED,
            invoice_number=None if rented else f"INV/2026/{1000 + index}",
            invoice_date=None if rented else date(2026, 3, 2),
            rental_start=date(2026, 6, 1) if rented else None,
            rental_end=date(2027, 5, 31) if rented else None,
        )
    logins = {}
    for username, role, merchant in (
        ("admin", Role.ADMIN, None),
        ("support", Role.BIZ_SUPPORT, None),
        ("sinar", Role.MERCHANT, merchants[0]),
    ):
        password = passwords.new_device_password()  # random per run, printed below
        await create_user(
            by="demo",
            now=datetime.now(UTC),
            username=username,
            password=password,
            role=role,
            merchant_id=merchant.id if merchant else None,
        )
        logins[username] = password
    return logins


def _receipts(dev: Path) -> None:
    pages = escpos_decode.split_receipts(terminal.printed(dev))
    print(f"the first receipt {dev.name} printed (decoded from the ESC/POS bytes the firmware sent):")
    for page in pages[:1]:
        print("    ." + "-" * 32 + ".")
        for line in page.lines:
            print(f"    |{line:<32}|")
        if page.rasters:
            print(f"    |{'[QRIS code, raster image]':^32}|")
        print("    '" + "-" * 32 + "'")


def _journal_size(devs: list[Path]) -> int:
    total = 0
    for dev in devs:
        try:
            total += len(terminal.journal_records(dev))
        except (OSError, ValueError):
            pass  # being written: counted on the next look
    return total


async def run(host: str, port: int, terminals: int, sales: int, smoke: bool, jwt_secret: str) -> int:
    var = Path("var")
    var.mkdir(exist_ok=True)
    database = var / "demo.sqlite3"
    for stale in var.glob("demo.sqlite3*"):
        stale.unlink()
    port = port_or_free(host, port)
    base = f"http://{host}:{port}"
    # The payment gateway as its own service, with an API key and a webhook secret made for this run.
    api_key, webhook_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    gateway = sandbox_gateway.Process(
        api_key, f"{base}/payments/webhooks/sandbox", webhook_secret, var / "demo-gateway.log"
    )
    try:
        await asyncio.to_thread(gateway.start)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    acquirer = SandboxGateway(gateway.url, api_key, webhook_secret)
    service = Service(f"sqlite://{database}", "", acquirer=acquirer, secret=jwt_secret)
    app = create_app(jwt_secret, lifespan=service.lifespan, acquirer=acquirer)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False))
    # Ctrl-C and SIGTERM end the demo through its own cleanup (terminals stopped), not uvicorn's.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            gateway.stop()
            serving.result()
            return 1
        await asyncio.sleep(0.05)
    assert service.broker is not None
    logins = await _seed(terminals)
    print(f"open the portal: {base}/portal   public warranty check: {base}/warranty")
    print(f"fleet service API: {base}/docs   database: {database}")
    print(f"MQTT broker (in-process): {service.broker.public_url}")
    print(f"payment gateway (sandbox, its own service): {gateway.url}   its SMS log: {gateway.url}/sandbox/sms")
    print("logins (the portal, or POST /auth/token and the Authorize button in /docs):")
    for username, password in logins.items():
        print(f"    {username:<8} {password}")

    root = var / "demo-terminals"
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(SEED)
    config = {"heartbeat_s": 5, "qris_timeout_s": 600}
    devs = [vterm.provision(root, service.broker.public_url, SEED, i, config) for i in range(terminals)]
    scripts = [vterm.sale_script(rng, sales, local_qris=False) for _ in devs]
    scripts[0] += "1A 2A B 2\n"  # a QRIS sale: the terminal shows the code and waits for the gateway
    for dev in devs:
        (dev / "card_host.txt").write_text(gateway.url)  # the card reader authorizes at the acquirer
    procs = [vterm.start(dev, script, stay=True) for dev, script in zip(devs, scripts, strict=True)]
    print(f"{terminals} virtual terminals (real firmware, MicroPython unix port) making {sales} sales each;")
    print(f"{devs[-1].name} is not registered: the fleet records it as a sighting, never a device (W4)")
    code = 0
    try:
        code = await _follow(devs, procs, smoke)
        if code == 0:
            code = await _qris(base, logins, gateway, devs[0])
        if code == 0:
            code = await _show(base, logins, devs, smoke)
        if not smoke and code == 0:
            print("terminals stay online for commands. Ctrl-C to stop.")
            while not server.should_exit and all(p.poll() is None for p in procs):
                await asyncio.sleep(0.5)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 10)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.should_exit = True
        await serving
        gateway.stop()
    return code


async def _follow(devs: list[Path], procs: list[subprocess.Popen[bytes]], smoke: bool) -> int:
    """A progress bar of events stored against events journaled, until the two meet and stay met."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 180
    steady = 0
    with tqdm(total=0, unit="event", desc="stored in the fleet", disable=None, file=sys.stdout) as bar:
        while loop.time() < deadline:
            journaled = _journal_size(devs)
            stored = await Event.all().count()
            bar.total = journaled
            bar.n = stored
            bar.refresh()
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                output = dead[0].stdout.read().decode(errors="replace") if dead[0].stdout else ""
                print(f"a terminal stopped: {output[-500:]}", file=sys.stderr)
                return 1
            steady = steady + 1 if journaled and stored == journaled else 0
            if steady >= 6:  # three seconds with nothing new: every sale made and stored
                return 0
            await asyncio.sleep(0.5)
    print("the terminals' events did not all arrive in time", file=sys.stderr)
    return 1


async def _qris(base: str, logins: dict[str, str], gateway: sandbox_gateway.Process, dev: Path) -> int:
    """The customer scans the first terminal's QRIS and pays at the gateway; the terminal completes the
    sale and prints when the fleet tells it (webhook → fleet → pay_confirm)."""
    loop = asyncio.get_running_loop()
    api = Api(base)
    await api.login("support", logins["support"])
    charge = None
    for _ in range(60):
        pending = [c for c in await api.get("/payments/charges") if c["method"] == "qris" and c["status"] == "pending"]
        if pending:
            charge = pending[0]
            break
        await asyncio.sleep(0.5)
    if charge is None:
        print("the terminal's QRIS did not reach the gateway", file=sys.stderr)
        return 1
    started = loop.time()
    paid = await asyncio.to_thread(gateway.pay, charge["provider_ref"])
    for _ in range(120):
        sales = [m["data"] for _, m in terminal.journal_records(dev) if m["type"] == "sale"]
        if sales and any(p.get("ref") == paid["rrn"] for p in sales[-1]["payments"]):
            print(
                f"QRIS: the customer paid Rp {paid['amount']:,} at the gateway (RRN {paid['rrn']}); the terminal "
                f"completed and printed receipt {sales[-1]['receipt']} {loop.time() - started:.1f} s later".replace(
                    ",", "."
                )
            )
            return 0
        await asyncio.sleep(0.25)
    print("the QRIS payment did not reach the terminal", file=sys.stderr)
    return 1


async def _show(base: str, logins: dict[str, str], devs: list[Path], smoke: bool) -> int:
    _receipts(devs[0])
    api = Api(base)
    await api.login("support", logins["support"])
    page = await api.get("/devices")
    for item in page["items"]:
        sales = await api.get(f"/devices/{item['serial']}/transactions?type=sale&limit=1")
        state = "online" if item["online"] else "offline"
        print(
            f"    {item['serial']}  {item['ownership']:<9}  {state:<7}  fw {item['firmware']}  {sales['total']} sales"
        )
    sightings = await api.get("/sightings")
    print("unregistered serials seen: " + ", ".join(s["serial"] for s in sightings))
    serial = page["items"][0]["serial"]
    cmd = await api.post(f"/devices/{serial}/commands", {"name": "ping"})
    for _ in range(60):
        cmd = await api.get(f"/commands/{cmd['id']}")
        if cmd["status"] not in ("pending", "sent"):
            break
        await asyncio.sleep(0.5)
    print(f"ping to {serial} through the command queue: {cmd['status']} after {cmd['attempts']} attempt(s)")
    merchant = Api(base)
    await merchant.login("sinar", logins["sinar"])
    own = await merchant.get("/devices")
    print(f"merchant user 'sinar' sees {own['total']} of {page['total']} devices (its own)")
    if not smoke:
        return 0
    journaled = _journal_size(devs)
    stored = await Event.all().count()
    ok = cmd["status"] == "acked" and stored == journaled and len(sightings) == 1 and own["total"] < page["total"]
    print(f"smoke check: {'ok' if ok else 'FAILED'} ({stored} of {journaled} events stored)")
    return 0 if ok else 1
