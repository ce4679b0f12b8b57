"""Ingest workers under stress: killed with SIGKILL mid-batch, and two of them sharing one subscription."""

import asyncio
import signal
import threading

import pytest

from fleet import db
from fleet.ingest.models import Event
from fleet.ingest.worker import IngestWorker
from protocol import codec, event, topics
from tests.fleet_helpers import quarantined, start_worker, stored_keys
from tests.mqtt_helpers import Collector
from tools import mosquitto

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

TOTAL = 2000


def publish_events(port: int, count: int, serials: int = 20) -> set[str]:
    """`count` valid events from `serials` terminals at QoS 1; returns their idempotency keys."""
    publisher = Collector(port, topics=("unused/#",))
    keys = set()
    infos = []
    for n in range(count):
        serial = f"LOAD-{n % serials:04d}"
        msg = event.build(
            serial,
            1795000000 + n,
            "0000abcd",
            n // serials + 1,
            event.FAULT,
            {"code": "paper_low", "active": n % 2 == 0},
        )
        keys.add(event.idempotency_key(msg))
        infos.append(publisher.client.publish(topics.topic(serial, topics.EVENT), codec.encode(msg), 1))
    for info in infos:
        info.wait_for_publish(30)
    publisher.stop()
    return keys


def test_a_worker_killed_mid_batch_loses_nothing_and_stores_nothing_twice(database_url, tmp_path):
    asyncio.run(db.migrate(database_url))
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        worker = start_worker(database_url, broker, "7")
        assert b"ingest worker 7" in worker.stdout.readline()
        # The worker's session must exist before the flood, so the broker queues for it.
        asyncio.run(asyncio.sleep(1.0))
        published: dict[str, set[str]] = {}
        publisher = threading.Thread(target=lambda: published.update(keys=publish_events(broker.port, TOTAL)))
        publisher.start()
        while len(asyncio.run(stored_keys(database_url))) < TOTAL // 10:
            asyncio.run(asyncio.sleep(0.01))
        worker.send_signal(signal.SIGKILL)  # mid-stream: messages in flight, a batch maybe half written
        worker.wait()
        partial = asyncio.run(stored_keys(database_url))
        publisher.join(60)
        keys = published["keys"]
        assert len(partial) < TOTAL, "the kill should land mid-stream"
        worker = start_worker(database_url, broker, "7")  # the same id: its session and unacked messages
        try:
            for _ in range(300):
                stored = asyncio.run(stored_keys(database_url))
                if len(stored) >= TOTAL:
                    break
                asyncio.run(asyncio.sleep(0.1))
            asyncio.run(asyncio.sleep(0.5))
            stored = asyncio.run(stored_keys(database_url))
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(10)
        assert len(stored) == len(set(stored)) == TOTAL and set(stored) == keys
        # Redeliveries after the kill carry the same bodies: none may pass for a second body (#15 finding 9).
        assert asyncio.run(quarantined(database_url)) == 0


def test_two_workers_on_a_shared_subscription_split_the_load_and_store_each_once(database_url, tmp_path):
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        asyncio.run(_two_workers(database_url, broker))


async def _two_workers(url: str, broker: mosquitto.Mosquitto) -> None:
    await db.migrate(url)
    await db.connect(url)
    try:
        stop = asyncio.Event()
        workers = [IngestWorker("127.0.0.1", broker.port, client_id=f"fleet-ingest-test-{i}") for i in range(2)]
        tasks = [asyncio.create_task(w.run(stop)) for w in workers]
        for w in workers:
            assert await asyncio.to_thread(w.connected.wait, 10)
        await asyncio.sleep(0.5)
        keys = await asyncio.to_thread(publish_events, broker.port, TOTAL)
        for _ in range(300):
            if await Event.all().count() >= TOTAL:
                break
            await asyncio.sleep(0.1)
        stored = [str(k) for k in await Event.all().values_list("key", flat=True)]
        assert len(stored) == TOTAL and set(stored) == keys
        shares = [w.counters["received.event"] for w in workers]
        assert sum(shares) == TOTAL and min(shares) > TOTAL // 10, shares
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        await db.disconnect()
