"""Ingest throughput: the fleet's end-to-end ingest rate against a bare subscriber's, in one run.

    python -m tools.bench_ingest [--events 100000] [--terminals 1000] [--workers 2]

Starts a Mosquitto of its own and a fresh PostgreSQL database (127.0.0.1:5432, user postgres). Publishes
the same number of events from simulated terminals (QoS 1) twice:
  (a) to a bare paho subscriber that only counts them: raw_msgs_per_s;
  (b) to the fleet's ingest workers, each a `fleet ingest` process as deployed (validated, deduplicated,
      committed to PostgreSQL): ingest_msgs_per_s.
Ends with `RESULT raw_msgs_per_s=… ingest_msgs_per_s=… ratio=… lost=… duplicated=…`. Target: ratio >= 0.5,
nothing lost or duplicated.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import asyncpg
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet import db
from fleet.devices.models import Device, Ownership
from fleet.ingest.models import Event
from protocol import codec, event, topics
from tools import mosquitto

POSTGRES = "postgres://postgres@127.0.0.1:5432"


def messages(count: int, terminals: int, jid: str) -> list[tuple[str, bytes, str]]:
    out = []
    for n in range(count):
        serial = f"BENCH-{n % terminals:05d}"
        msg = event.build(
            serial, 1795000000 + n, jid, n // terminals + 1, event.FAULT, {"code": "paper_low", "active": n % 2 == 0}
        )
        out.append((topics.topic(serial, topics.EVENT), codec.encode(msg), event.idempotency_key(msg)))
    return out


def publish(port: int, batch: list[tuple[str, bytes, str]]) -> None:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    for start in range(0, len(batch), 5000):  # in chunks: paho's own queue stays bounded
        infos = [client.publish(topic, payload, 1) for topic, payload, _ in batch[start : start + 5000]]
        for info in infos:
            info.wait_for_publish(120)
    client.loop_stop()
    client.disconnect()


def raw_rate(port: int, batch: list[tuple[str, bytes, str]]) -> float:
    done = threading.Event()
    received = [0]
    subscribed = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        received[0] += 1
        if received[0] == len(batch):
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw", protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_connect = lambda c, *args: c.subscribe(topics.subscription(topics.EVENT), 1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    subscribed.wait(10)
    start = time.monotonic()
    publish(port, batch)
    done.wait(300)
    elapsed = time.monotonic() - start
    client.loop_stop()
    client.disconnect()
    return received[0] / elapsed


async def ingest_rate(
    url: str, broker: mosquitto.Mosquitto, batch: list[tuple[str, bytes, str]], workers: int
) -> tuple[float, int, int]:
    """Workers as separate `fleet ingest` processes, as deployed; the rate is counted in the database."""
    fleet = str(Path(sys.executable).parent / "fleet")
    env = dict(os.environ, FLEET_DATABASE_URL=url)
    procs = [
        subprocess.Popen(
            [fleet, "ingest", "--broker", broker.url, "--group", "bench", "--id", str(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for i in range(workers)
    ]
    await db.connect(url)
    try:
        for proc in procs:
            assert proc.stdout is not None
            await asyncio.to_thread(proc.stdout.readline)
        await asyncio.sleep(1)  # their subscriptions are in place
        start = time.monotonic()
        publisher = asyncio.create_task(asyncio.to_thread(publish, broker.port, batch))
        while await Event.all().count() < len(batch) and time.monotonic() - start < 600:
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - start
        await publisher
        await asyncio.sleep(1)  # anything arriving twice would arrive now
        keys = [str(k) for k in await Event.all().values_list("key", flat=True)]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        await db.disconnect()
    expected = {key for _, _, key in batch}
    lost = len(expected - set(keys))
    duplicated = len(keys) - len(set(keys)) + len(set(keys) - expected)
    return len(batch) / elapsed, lost, duplicated


async def register(url: str, terminals: int) -> None:
    await db.migrate(url)
    await db.connect(url)
    try:
        await Device.bulk_create(
            [
                Device(
                    serial=f"BENCH-{i:05d}",
                    model="TKM-58",
                    device_type="mpos",
                    ownership=Ownership.PURCHASED,
                    invoice_number=f"INV-{i}",
                    invoice_date=date(2026, 1, 1),
                )
                for i in range(terminals)
            ]
        )
    finally:
        await db.disconnect()


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_ingest", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--terminals", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    name = f"fleet_bench_{uuid.uuid4().hex[:10]}"
    url = f"{POSTGRES}/{name}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(register(url, args.terminals))
        with tempfile.TemporaryDirectory() as tmp, mosquitto.Mosquitto(Path(tmp)) as broker:
            raw = raw_rate(broker.port, messages(args.events, args.terminals, "0000000a"))
            print(f"raw_msgs_per_s={raw:.0f}", flush=True)
            rate, lost, duplicated = asyncio.run(
                ingest_rate(url, broker, messages(args.events, args.terminals, "0000000b"), args.workers)
            )
            print(f"ingest_msgs_per_s={rate:.0f} workers={args.workers}", flush=True)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    ratio = rate / raw
    print(
        f"target: ratio >= 0.5 ({'met' if ratio >= 0.5 else 'NOT met'}), nothing lost or duplicated "
        f"({'met' if lost == duplicated == 0 else 'NOT met'})"
    )
    print(
        f"RESULT raw_msgs_per_s={raw:.0f} ingest_msgs_per_s={rate:.0f} ratio={ratio:.2f} lost={lost} "
        f"duplicated={duplicated}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
