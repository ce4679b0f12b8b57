"""`fleet`: run the service, its ingest workers, the demo, and the operator's jobs."""

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import secrets
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from fleet import db
from fleet.auth import keys
from fleet.broker import BrokerAddress, fleet_client_id
from fleet.payments.gateway import SandboxGateway
from fleet.repairs import cli as repairs_cli
from fleet.settings import get_settings


def _serve_app(args: argparse.Namespace) -> int:
    from fleet.app import create_app
    from fleet.service import Service

    settings = get_settings()
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    weak = keys.weakness(secret)
    if weak:
        print(
            f"fleet serve: FLEET_JWT_SECRET will not do: {weak}. Set it to a random string, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`; there is no default.",
            file=sys.stderr,
        )
        return 2
    _var_dir(settings.database_url)
    acquirer = _acquirer()
    service = Service(
        settings.database_url,
        settings.broker_url,
        ingest_workers=settings.ingest_workers,
        broker_port=settings.broker_port,
        housekeeping_every=settings.housekeeping_s,
        acquirer=acquirer,
        secret=secret,
    )
    app = create_app(secret, lifespan=service.lifespan, acquirer=acquirer)
    # proxy_headers off: uvicorn would take X-Forwarded-For from any local peer; the app decides whose
    # forwarded address counts (FLEET_TRUSTED_PROXIES, fleet.api.ratelimit.client_address).
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", proxy_headers=False)
    return 0


def _acquirer() -> SandboxGateway | None:
    """The payment gateway adapter from the settings; None when FLEET_GATEWAY_URL is not set."""
    settings = get_settings()
    if not settings.gateway_url:
        return None
    if settings.gateway_api_key is None or settings.gateway_webhook_secret is None:
        raise SystemExit("FLEET_GATEWAY_URL needs FLEET_GATEWAY_API_KEY and FLEET_GATEWAY_WEBHOOK_SECRET")
    return SandboxGateway(
        settings.gateway_url,
        settings.gateway_api_key.get_secret_value(),
        settings.gateway_webhook_secret.get_secret_value(),
        settings.webhook_window_s,
    )


def _var_dir(database_url: str) -> None:
    """A SQLite file's folder is made when missing (the default is var/fleet.sqlite3)."""
    if database_url.startswith("sqlite://") and not database_url.endswith(":memory:"):
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)


async def _ingest(broker_url: str, group: str, worker_id: str, mqtt_version: str) -> int:
    from fleet.ingest.worker import READY, STATUS, STATUS_EVERY_S, IngestWorker

    try:
        broker = BrokerAddress.parse(broker_url, v5=mqtt_version == "5")
    except ValueError as e:
        print(f"fleet ingest: {e} (--broker or FLEET_BROKER_URL)", file=sys.stderr)
        return 2
    await db.connect(get_settings().database_url)
    worker = IngestWorker(
        broker.host,
        broker.port,
        group=group,
        username=broker.username,
        password=broker.password,
        client_id=fleet_client_id(broker.password or "", f"ingest-{group}-{worker_id}"),
        v5=broker.v5,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # finish the batch in hand, then leave
        loop.add_signal_handler(sig, stop.set)
    print(f"ingest worker {worker_id} of group {group} on {broker.public_url} (MQTT {mqtt_version})", flush=True)

    async def announce() -> None:
        if await asyncio.to_thread(worker.subscribed.wait, 60):
            print(STATUS + " " + json.dumps(worker.status()), flush=True)  # healthy from the first moment
            print(f"ingest worker {worker_id} {READY}", flush=True)  # the service waits for this line

    async def report() -> None:  # what /healthz shows of this worker (the service reads these lines)
        while True:
            print(STATUS + " " + json.dumps(worker.status()), flush=True)
            await asyncio.sleep(STATUS_EVERY_S)

    announcing = asyncio.create_task(announce())
    reporting = asyncio.create_task(report())
    try:
        await worker.run(stop)
        announcing.cancel()
        reporting.cancel()
    finally:
        await db.disconnect()
    return 0


async def _jobs() -> int:
    from fleet import jobs

    settings = get_settings()
    acquirer = _acquirer()  # the carrier alerts' SMS and WhatsApp go through, RF1's refunds
    await db.connect(settings.database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # finish the round in hand, then leave
        loop.add_signal_handler(sig, stop.set)
    try:
        await jobs.run(settings.database_url, acquirer, settings.housekeeping_s, stop)
    finally:
        await db.disconnect()
    return 0


async def _with_db(job: Callable[[], Awaitable[int]]) -> int:
    url = get_settings().database_url
    _var_dir(url)
    await db.migrate(url)
    await db.connect(url)
    try:
        return await job()
    finally:
        await db.disconnect()


def _cli_actor() -> str:
    """Who the audit trail names for a change made with the CLI: the operating-system user running it."""
    return f"cli ({getpass.getuser()})"


def _import_devices(path: Path, dry_run: bool) -> int:
    from tqdm import tqdm

    from fleet.devices import importer

    text = path.read_text(encoding="utf-8-sig")

    async def job() -> int:
        rows = max(0, text.count("\n") - 1)
        with tqdm(total=rows, unit="device", desc="registering", disable=None) as bar:
            try:
                report = await importer.import_devices(
                    text, by=_cli_actor(), now=datetime.now(UTC), dry_run=dry_run, progress=bar.update
                )
            except importer.BadFile as bad:
                print(f"fleet import-devices: {path}: {bad}", file=sys.stderr)
                return 2
        verb = "would register" if dry_run else "registered"
        print(f"{report.rows} rows: {verb} {len(report.created)}, refused {len({e.line for e in report.errors})}")
        if report.merchants_created:
            print("new merchants: " + ", ".join(report.merchants_created))
        for e in report.errors:
            print(f"  line {e.line} {e.serial or '-'}: {e.field}: {e.message}")
        return 1 if report.errors else 0

    return asyncio.run(_with_db(job))


def _create_user(username: str, role: str, merchant: str | None) -> int:
    from fleet.auth.models import Role
    from fleet.auth.service import create_user
    from fleet.devices.models import Merchant
    from fleet.errors import Refusal

    password = os.environ.get("FLEET_NEW_USER_PASSWORD") or getpass.getpass(f"password for {username}: ")

    async def job() -> int:
        merchant_id = None
        if merchant is not None:
            found = await Merchant.get_or_none(name=merchant)
            if found is None:
                print(f"fleet create-user: no merchant named {merchant!r}", file=sys.stderr)
                return 2
            merchant_id = found.id
        if len(password) < 10:
            print("fleet create-user: the password needs at least 10 characters", file=sys.stderr)
            return 2
        try:
            user = await create_user(
                by=_cli_actor(), now=datetime.now(UTC), username=username, password=password, role=Role(role),
                merchant_id=merchant_id,
            )  # fmt: skip
        except Refusal as e:
            print(f"fleet create-user: {e.detail}", file=sys.stderr)
            return 2
        print(f"created {user.role} user {user.username}")
        return 0

    return asyncio.run(_with_db(job))


def _issue_credentials(serials: list[str], missing: bool, out: Path) -> int:
    from tqdm import tqdm

    from fleet import mosquitto_config
    from fleet.devices.models import Device

    async def job() -> int:
        query = Device.filter(serial__in=[s.upper() for s in serials]) if serials else Device.all()
        if missing:
            query = query.filter(mqtt_password_hash__isnull=True)
        devices = await query.order_by("serial")
        if serials and len(devices) != len(set(serials)):
            unknown = sorted({s.upper() for s in serials} - {d.serial for d in devices})
            print("fleet issue-credentials: not registered: " + ", ".join(unknown), file=sys.stderr)
            return 2
        out.touch(mode=0o600)
        lines = ["serial,password"]
        for device in tqdm(devices, unit="device", desc="issuing", disable=None):
            password = await mosquitto_config.issue_credentials(device, by=_cli_actor(), now=datetime.now(UTC))
            lines.append(f"{device.serial},{password}")
        out.write_text("\n".join(lines) + "\n")
        print(f"issued credentials for {len(devices)} devices into {out} (for provisioning; keep it secret)")
        return 0

    return asyncio.run(_with_db(job))


def _mosquitto_config(out: Path, port: int, bind: str, run_as: str | None) -> int:
    from fleet import mosquitto_config

    broker_url = get_settings().broker_url
    try:
        broker = BrokerAddress.parse(broker_url)
    except ValueError:
        broker = None
    if broker is None or not broker.username or not broker.password:
        print(
            "fleet mosquitto-config: set FLEET_BROKER_URL=mqtt://USER:PASSWORD@HOST:PORT: the fleet's own broker "
            "user is written into the dynamic-security file",
            file=sys.stderr,
        )
        return 2

    async def job() -> int:
        written = await mosquitto_config.write(
            out, broker.username or "", broker.password or "", port=port, bind=bind, run_as=run_as
        )
        print(f"{written.devices} terminals and the fleet user '{broker.username}' in {written.files[0]}")
        if written.without_credentials:
            print(f"{written.without_credentials} registered devices have no credentials yet (fleet issue-credentials)")
        print("start the broker with: mosquitto -c " + str(written.files[1]))
        return 0

    return asyncio.run(_with_db(job))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fleet` console script."""
    parser = argparse.ArgumentParser(prog="fleet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API, the ingest workers and the command dispatcher")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    sub.add_parser("migrate", help="apply the committed database migrations (FLEET_DATABASE_URL)")
    ingest = sub.add_parser("ingest", help="one ingest worker: terminals' MQTT messages into the database")
    ingest.add_argument("--broker", help="mqtt://[user:password@]host:port (default FLEET_BROKER_URL)")
    ingest.add_argument("--group", default="fleet", help="shared-subscription group of the workers")
    ingest.add_argument("--mqtt", choices=("5", "3.1.1"), default="5", help="3.1.1: no shared subscriptions")
    ingest.add_argument(
        "--id",
        default="1",
        help="this worker's stable id: after a crash it resumes its own "
        "broker session, and the broker redelivers what it had not acknowledged",
    )
    sub.add_parser(
        "jobs", help="the periodic jobs (suggestions, rentals, RF1, O1, alerts); fleet serve runs it for you"
    )
    imp = sub.add_parser("import-devices", help="register devices from a CSV file (see docs: columns)")
    imp.add_argument("csv", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check the file, register nothing")
    user = sub.add_parser("create-user", help="add a user (password from FLEET_NEW_USER_PASSWORD or a prompt)")
    user.add_argument("username")
    user.add_argument("--role", choices=("admin", "biz_support", "merchant"), required=True)
    user.add_argument("--merchant", help="the merchant's name, for a merchant user")
    cred = sub.add_parser("issue-credentials", help="new broker passwords for terminals, written to a CSV once")
    cred.add_argument("serials", nargs="*", help="default: every registered device")
    cred.add_argument("--missing", action="store_true", help="only devices that have none yet")
    cred.add_argument("--out", type=Path, required=True)
    mqc = sub.add_parser("mosquitto-config", help="write Mosquitto's dynamic-security file and config")
    mqc.add_argument("--out", type=Path, required=True, help="a folder")
    mqc.add_argument("--port", type=int, default=1883)
    mqc.add_argument("--bind", default="127.0.0.1")
    mqc.add_argument("--user", dest="run_as", help="the system user mosquitto should run as")
    repairs_cli.add_parsers(sub)
    demo = sub.add_parser("demo", help="run the fleet with its defaults and virtual terminals selling")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000, help="the API's port (0 or a taken one: a free one)")
    demo.add_argument("--terminals", type=int, default=3)
    demo.add_argument("--sales", type=int, default=5)
    demo.add_argument("--smoke", action="store_true", help="run the demo once through, check it, stop")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        _var_dir(get_settings().database_url)
        asyncio.run(db.migrate(get_settings().database_url))
        print("migrated the database")
        return 0
    if args.command == "ingest":
        return asyncio.run(_ingest(args.broker or get_settings().broker_url, args.group, args.id, args.mqtt))
    if args.command == "jobs":
        return asyncio.run(_jobs())
    if args.command == "serve":
        return _serve_app(args)
    if args.command == "import-devices":
        return _import_devices(args.csv, args.dry_run)
    if args.command == "create-user":
        return _create_user(args.username, args.role, args.merchant)
    if args.command == "issue-credentials":
        return _issue_credentials(args.serials, args.missing, args.out)
    if args.command == "mosquitto-config":
        return _mosquitto_config(args.out, args.port, args.bind, args.run_as)
    if args.command in repairs_cli.NAMES:
        return asyncio.run(_with_db(repairs_cli.job(args)))
    from fleet import demo as demo_mod

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(
            demo_mod.run(args.host, args.port, args.terminals, args.sales, args.smoke, secrets.token_urlsafe(32))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
