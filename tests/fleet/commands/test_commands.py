"""The fleet's command queue against a real terminal (the firmware on MicroPython) and a real broker:
queued while the terminal is offline, sent when it comes online, acked, failed or expired; resent
while a terminal does not answer, and run once however often it arrives."""

import asyncio
import os
import signal
from datetime import UTC, date, datetime, timedelta

import pytest

from fleet import db
from fleet.broker import BrokerAddress
from fleet.commands import service
from fleet.commands.dispatcher import Dispatcher
from fleet.commands.models import Command, CommandStatus
from fleet.devices.models import Device, DeviceType, Ownership
from fleet.ingest.worker import IngestWorker
from tests.fleet_helpers import wait_until
from tools import escpos_decode, mosquitto, terminal, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)


def copies(dev) -> int:  # type: ignore[no-untyped-def]
    return sum("SALINAN / COPY" in page.text for page in escpos_decode.split_receipts(terminal.printed(dev)))


def test_commands_wait_for_the_terminal_are_acked_failed_expired_and_retried(database_url, tmp_path):
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        asyncio.run(_scenario(database_url, broker, tmp_path))


async def _scenario(url: str, broker: mosquitto.Mosquitto, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await db.migrate(url)
    await db.connect(url)
    stop = asyncio.Event()
    proc = None
    tasks: list[asyncio.Task[None]] = []
    try:
        serial = vterm.serial_for(31, 0)
        device = await Device.create(
            serial=serial,
            model="TKM-58",
            device_type=DeviceType.MPOS,
            ownership=Ownership.PURCHASED,
            invoice_number="INV-31",
            invoice_date=date(2026, 1, 5),
        )
        now = datetime.now(UTC)
        ping = await service.enqueue(device, "ping", args={}, requested_by="test", now=now)
        missing = await service.enqueue(device, "reprint", args={"receipt": "V00-999999"}, requested_by="test", now=now)
        short = await service.enqueue(device, "ping", args={}, requested_by="test", now=now, ttl=timedelta(seconds=1))

        worker = IngestWorker("127.0.0.1", broker.port, batch_wait=0.02)
        dispatcher = Dispatcher(BrokerAddress("127.0.0.1", broker.port), retry_after=timedelta(seconds=1), tick=0.1)
        tasks += [asyncio.create_task(worker.run(stop)), asyncio.create_task(dispatcher.run(stop))]
        assert await asyncio.to_thread(worker.subscribed.wait, 10)

        # Offline: nothing is sent; the short-lived command expires in the queue.
        await asyncio.sleep(1.5)
        assert (await Command.get(id=ping.id)).status == CommandStatus.PENDING
        assert (await Command.get(id=short.id)).status == CommandStatus.EXPIRED

        # The terminal comes online (hello): the queue drains to it.
        dev = vterm.provision(tmp_path / "terminals", broker.url, 31, 0, {"keepalive_s": 30})
        proc = vterm.start(dev, "1A B 1#\n", stay=True)

        async def closed(cmd_id: int) -> bool:
            return (await Command.get(id=cmd_id)).status not in (CommandStatus.PENDING, CommandStatus.SENT)

        assert await wait_until(lambda: closed(ping.id), 30)
        assert await wait_until(lambda: closed(missing.id), 30)
        done = await Command.get(id=ping.id)
        assert (done.status, done.attempts, done.error) == (CommandStatus.ACKED, 1, None)
        refused = await Command.get(id=missing.id)
        assert (refused.status, refused.error) == (CommandStatus.FAILED, "rejected")

        # A terminal that stops answering (frozen: still connected, still "online"): the command is resent
        # until it answers, and the terminal runs it once.
        os.kill(proc.pid, signal.SIGSTOP)
        reprint = await service.enqueue(
            device, "reprint", args={"receipt": "V00-000001"}, requested_by="test", now=datetime.now(UTC)
        )

        async def resent() -> bool:
            return (await Command.get(id=reprint.id)).attempts >= 3

        assert await wait_until(resent, 15)
        os.kill(proc.pid, signal.SIGCONT)
        assert await wait_until(lambda: closed(reprint.id), 30)
        final = await Command.get(id=reprint.id)
        assert final.status == CommandStatus.ACKED and final.attempts >= 3
        await asyncio.sleep(1)  # every resent copy has reached the terminal by now
        assert copies(dev) == 1, "resent copies of one command must print one copy"
        assert worker.counters["commands.closed"] == 3
    finally:
        stop.set()
        if proc is not None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
            proc.wait()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        await db.disconnect()
