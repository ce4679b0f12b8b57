"""`fleet` command line: serve the API, and run the demo."""

import argparse
import asyncio
import json
import shutil
import socket
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import uvicorn

from fleet import db
from fleet.app import create_app
from fleet.ingest.worker import IngestWorker
from fleet.settings import get_settings


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


async def _serve(host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(create_app(), host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    return server


def _get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        data: dict[str, object] = json.loads(response.read())
        return data


def _terminal_demo(workdir: Path) -> None:
    """A simulated terminal on the real firmware (MicroPython unix port): two sales, receipts as text."""
    from tools import escpos_decode, terminal

    dev = workdir / "demo-terminal"
    if dev.exists():
        shutil.rmtree(dev)
    terminal.provision(dev, "TKM-58-DEMO01")
    script = "2*1A 2A B 1 50000#  3A B 2 !confirm=RRN-DEMO-1"
    print(f"terminal TKM-58-DEMO01 (real firmware on MicroPython) runs the cashier script: {script}")
    proc = terminal.run(dev, script, clock=None)  # the terminal keeps this machine's time
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr, file=sys.stderr)
        return
    for page in escpos_decode.split_receipts(terminal.printed(dev)):
        print("    ." + "-" * 32 + ".")
        for line in page.lines:
            print(f"    |{line:<32}|")
        if page.rasters:
            print(f"    |{'[QRIS code, raster image]':^32}|")
        print("    '" + "-" * 32 + "'")
    kinds = [msg["type"] for _, msg in terminal.journal_records(dev)]
    print(f"journal on the terminal's flash ({dev / 'flash' / 'journal'}): {len(kinds)} events: {' '.join(kinds)}")


async def _demo(host: str, port: int, smoke: bool) -> int:
    server = await _serve(host, port)
    base = f"http://{host}:{port}"
    health = await asyncio.to_thread(_get_json, base + "/healthz")
    print(f"fleet service up at {base}  (API docs: {base}/docs)  health: {health}")
    await asyncio.to_thread(_terminal_demo, Path("var"))
    if smoke:
        server.should_exit = True
        await asyncio.sleep(0.2)
        return 0 if health.get("status") == "ok" else 1
    print("Ctrl-C to stop.")
    while not server.should_exit:
        await asyncio.sleep(0.5)
    return 0


async def _ingest(broker_url: str, group: str, worker_id: str) -> int:
    parsed = urllib.parse.urlsplit(broker_url)
    if parsed.scheme != "mqtt" or not parsed.hostname:
        print("fleet ingest: --broker mqtt://host:port (or FLEET_BROKER_URL) is needed", file=sys.stderr)
        return 2
    await db.connect(get_settings().database_url)
    worker = IngestWorker(
        parsed.hostname,
        parsed.port or 1883,
        group=group,
        username=parsed.username,
        password=parsed.password,
        client_id=f"fleet-ingest-{group}-{worker_id}",
    )
    print(f"ingest worker {worker_id} of group {group} on {broker_url}", flush=True)
    try:
        await worker.run()
    finally:
        await db.disconnect()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fleet` console script."""
    parser = argparse.ArgumentParser(prog="fleet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    sub.add_parser("migrate", help="apply the committed database migrations (FLEET_DATABASE_URL)")
    ingest = sub.add_parser("ingest", help="consume terminals' MQTT messages into the database")
    ingest.add_argument("--broker", help="mqtt://[user:password@]host:port (default FLEET_BROKER_URL)")
    ingest.add_argument("--group", default="fleet", help="shared-subscription group of the workers")
    ingest.add_argument(
        "--id",
        default="1",
        help="this worker's stable id: after a crash it resumes its own "
        "broker session, and the broker redelivers what it had not acknowledged",
    )
    demo = sub.add_parser("demo", help="run the product locally with its defaults and print where to look")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=0, help="0: a free port")
    demo.add_argument("--smoke", action="store_true", help="start, check health, stop")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        Path("var").mkdir(exist_ok=True)
        asyncio.run(db.migrate(get_settings().database_url))
        print(f"migrated {get_settings().database_url}")
        return 0
    if args.command == "ingest":
        return asyncio.run(_ingest(args.broker or get_settings().broker_url, args.group, args.id))
    if args.command == "serve":
        if get_settings().jwt_secret is None:
            print("fleet serve: set FLEET_JWT_SECRET (a long random string); there is no default.", file=sys.stderr)
            return 2
        uvicorn.run(create_app(), host=args.host, port=args.port)
        return 0
    Path("var").mkdir(exist_ok=True)
    port = args.port or _free_port(args.host)
    try:
        return asyncio.run(_demo(args.host, port, args.smoke))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
