"""Databases for fleet tests: a SQLite file, or a fresh PostgreSQL database on 127.0.0.1:5432, per test."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from fleet import db
from fleet.devices.models import Merchant
from fleet.ingest.models import Event, QuarantinedMessage
from protocol import event
from tests import factories
from tools import mosquitto, terminal

POSTGRES = "postgres://postgres@127.0.0.1:5432"


def admin_sql(sql: str) -> None:
    """Run `sql` on the PostgreSQL server as its admin (creating and dropping test databases)."""

    async def run() -> None:
        conn = await asyncpg.connect(f"{POSTGRES}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


async def register_terminals(merchant: Merchant | None, serials: Iterable[str], **fields: Any) -> None:
    """Purchased TKM-58 terminals with an invoice, registered to `merchant` (connected already)."""
    for serial in serials:
        await factories.terminal(merchant, serial, **fields)


async def stored_keys(url: str) -> list[str]:
    await db.connect(url)
    try:
        return [str(k) for k in await Event.all().values_list("key", flat=True)]
    finally:
        await db.disconnect()


async def quarantined(url: str) -> int:
    await db.connect(url)
    try:
        return await QuarantinedMessage.all().count()
    finally:
        await db.disconnect()


def start_worker(url: str, broker: mosquitto.Mosquitto, worker_id: str) -> subprocess.Popen[bytes]:
    fleet = str(Path(sys.executable).parent / "fleet")
    env = dict(os.environ, FLEET_DATABASE_URL=url)
    return subprocess.Popen(
        [fleet, "ingest", "--broker", broker.url, "--id", worker_id],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def expected_keys(dev: Path) -> set[str]:
    records = terminal.journal_records(dev)
    last = records[-1][1]
    return {event.idempotency_key(dict(last, seq=seq)) for seq in range(1, last["seq"] + 1)}


async def wait_until(predicate, timeout: float = 30) -> bool:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.1)
    return bool(await predicate())


class Clock:
    """The service's clock in a test: the time it says is `now`, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
