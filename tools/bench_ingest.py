"""Ingest throughput, consumer-bound: the fleet's workers against bare subscribers draining the same backlog.

    python -m tools.bench_ingest [--messages 100000] [--terminals 1000] [--workers 1,2,4] [--profile DIR]

Starts a Mosquitto of its own (the queue and in-flight settings `fleet mosquitto-config` writes) and, per
run, a fresh PostgreSQL database (127.0.0.1:5432, user postgres). For each worker count W, three times:
  (a) W bare paho-mqtt subscribers in one shared group, each in its own process, that only count: what a
      general-purpose client takes (`raw`, the reference of the target);
  (b) the same with the fleet's own MQTT client (fleet.ingest.consumer) acknowledging each burst at once:
      what the broker can hand out to consumers that store nothing (`broker`);
  (c) W `fleet ingest` processes as deployed (validated, deduplicated, committed to PostgreSQL).
Each side's sessions are made first (subscribed, then disconnected: the broker keeps their queue); the
backlog of M mixed messages (a hello and a state per terminal, then 70 % heartbeats and 30 % sales) is
published while they are away; then they are let go together, and the rate is the backlog over the time
from the first consumer's connection to the last message counted (bare) or committed (fleet). All three
are bound by their consumers, not by the publisher, whose own rates are printed apart.

Per W a line `workers=W raw_msgs_per_s=… broker_msgs_per_s=… ingest_msgs_per_s=… ratio=… broker_ratio=…`;
at the end `RESULT raw_msgs_per_s=… ingest_msgs_per_s=… ratio=… lost=… duplicated=… broker_msgs_per_s=…
broker_ratio=…` for W=2 (or the one W given). Target: ratio (ingest over the paho subscribers) >= 0.5 with
2 workers against 2 subscribers, nothing lost or duplicated; broker_ratio says how far the ingest is from
what the broker itself could deliver.
`--profile DIR` runs each fleet worker under pyinstrument and writes its report there.
"""

import argparse
import asyncio
import collections
import copy
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fleet import db
from fleet.broker import QUEUE_SETTINGS, RECEIVE_MAXIMUM
from fleet.devices.models import Device, Ownership
from fleet.ingest.consumer import Consumer
from fleet.ingest.models import Event, TelemetrySample
from protocol import codec, event, hello, state, telemetry, topics
from tools import mosquitto

POSTGRES = "postgres://postgres@127.0.0.1:5432"
EXAMPLES = Path(__file__).resolve().parent.parent / "protocol" / "examples" / "valid"
PAHO, LEAN = "paho", "lean"  # the bare subscribers' two clients
KINDS = (topics.HELLO, topics.STATE, topics.TELEMETRY, topics.EVENT, topics.ACK)


@dataclass
class Backlog:
    messages: list[tuple[str, bytes]]
    event_keys: set[str]
    samples: int


def backlog(count: int, terminals: int, jid: str) -> Backlog:
    """What `terminals` send after an outage: each a hello and its online state, then heartbeats and sales."""
    sale = json.loads((EXAMPLES / "event_sale_cash.json").read_text())["payload"]
    t0 = 1795000000
    out: list[tuple[str, bytes]] = []
    keys: set[str] = set()
    samples = 0
    serials = [f"BENCH-{i:05d}" for i in range(terminals)]
    for serial in serials:
        out.append(
            (
                topics.topic(serial, topics.HELLO),
                codec.encode(hello.build(serial, t0, "TKM-58", "B2", "hw" + serial[-5:], "1.4.0", "power_on", [])),
            )
        )
        out.append((topics.topic(serial, topics.STATE), codec.encode(state.build(serial, state.ONLINE, t0))))
    n = 0
    while len(out) < count:
        serial = serials[n % terminals]
        ts = t0 + 60 * (n // terminals + 1)
        if n % 10 < 7:
            msg = telemetry.build(serial, ts, 3600, 60000, model="TKM-58", fw="1.4.0", battery_pct=80, paper="ok")
            out.append((topics.topic(serial, topics.TELEMETRY), codec.encode(msg)))
            samples += 1
        else:
            msg = copy.deepcopy(sale)
            msg.update(serial=serial, jid=jid, seq=n + 1, ts=ts)
            out.append((topics.topic(serial, topics.EVENT), codec.encode(msg)))
            keys.add(event.idempotency_key(msg))
        n += 1
    return Backlog(out, keys, samples)


def publish(port: int, messages: list[tuple[str, bytes]]) -> float:
    """Publish at QoS 1; the publisher's own rate (messages per second)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.monotonic()
    for first in range(0, len(messages), 5000):  # in chunks: paho's own queue stays bounded
        infos = [client.publish(topic, payload, 1) for topic, payload in messages[first : first + 5000]]
        for info in infos:
            info.wait_for_publish(120)
    rate = len(messages) / (time.monotonic() - start)
    client.loop_stop()
    client.disconnect()
    return rate


# -- the bare subscriber: `python -m tools.bench_ingest consume PORT GROUP ID` ---------------------------


def consume(port: int, group: str, consumer_id: str, subscribe_only: bool, client: str) -> None:
    """Count messages of the shared group; print `connected <t>` then `count <n> <t of the last>` lines."""
    if client == PAHO:
        _consume_paho(port, group, consumer_id, subscribe_only)
    else:
        asyncio.run(_consume_lean(port, group, consumer_id, subscribe_only))


def _consume_paho(port: int, group: str, consumer_id: str, subscribe_only: bool) -> None:
    """A general-purpose client (paho-mqtt on its network thread, acknowledging each message itself)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{group}-{consumer_id}", protocol=mqtt.MQTTv5
    )
    got = [0, 0.0]
    subscribed = threading.Event()

    def on_connect(c: mqtt.Client, *args: object) -> None:
        print(f"connected {time.time()}", flush=True)
        c.subscribe([(topics.shared_subscription(group, kind), 1) for kind in KINDS])

    def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        got[0] += 1
        got[1] = time.time()

    client.on_connect = on_connect
    client.on_message = on_message
    client.on_subscribe = lambda *args: subscribed.set()
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    client.connect("127.0.0.1", port, clean_start=False, properties=props)
    client.loop_start()
    subscribed.wait(10)
    if subscribe_only:
        client.disconnect()
        client.loop_stop()
        return
    while True:
        print(f"count {got[0]} {got[1]}", flush=True)
        time.sleep(0.05)


async def _consume_lean(port: int, group: str, consumer_id: str, subscribe_only: bool) -> None:
    """The fleet workers' own MQTT client (fleet.ingest.consumer), each burst acknowledged in one write as
    soon as it is read: what a consumer that stores nothing can take from the broker."""
    loop = asyncio.get_running_loop()
    got = [0, 0.0]
    unacked: list[int] = []

    def flush() -> None:
        consumer.ack(unacked)
        unacked.clear()

    def on_message(topic: str, payload: bytes, mid: int, qos: int) -> None:
        got[0] += 1
        got[1] = time.time()
        if not unacked:
            loop.call_soon(flush)  # after the rest of this read: one write for the burst
        unacked.append(mid)

    consumer = Consumer(
        "127.0.0.1",
        port,
        client_id=f"bench-raw-{group}-{consumer_id}",
        filters=[topics.shared_subscription(group, kind) for kind in KINDS],
        on_message=on_message,
        counters=collections.Counter(),
        receive_maximum=RECEIVE_MAXIMUM,
    )
    stop = asyncio.Event()
    session = asyncio.create_task(consumer.run(stop))
    while not consumer.subscribed.is_set():
        await asyncio.sleep(0.001)
    print(f"connected {consumer.connected_at}", flush=True)
    if subscribe_only:
        stop.set()
        await session
        return
    while True:
        print(f"count {got[0]} {got[1]}", flush=True)
        await asyncio.sleep(0.05)


def _start_raw(port: int, group: str, i: int, client: str, subscribe_only: bool = False) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tools.bench_ingest", "consume", str(port), group, str(i), "--client", client]
    return subprocess.Popen(args + (["--subscribe-only"] if subscribe_only else []), stdout=subprocess.PIPE, text=True)


def raw_rate(port: int, consumers: int, load: Backlog, client: str) -> tuple[float, float]:
    """(bare subscribers' rate, publisher's rate) for one backlog."""
    group = f"raw{consumers}-{uuid.uuid4().hex[:4]}"
    for proc in [_start_raw(port, group, i, client, subscribe_only=True) for i in range(consumers)]:
        proc.wait(20)
    published = publish(port, load.messages)
    procs = [_start_raw(port, group, i, client) for i in range(consumers)]
    counts = [(0, 0.0)] * consumers
    connected = [0.0] * consumers

    def follow(i: int) -> None:
        assert procs[i].stdout is not None
        for line in procs[i].stdout:
            word, *rest = line.split()
            if word == "connected":
                connected[i] = float(rest[0])
            else:
                counts[i] = (int(rest[0]), float(rest[1]))

    for i in range(consumers):
        threading.Thread(target=follow, args=(i,), daemon=True).start()
    deadline = time.monotonic() + 600
    while sum(c for c, _ in counts) < len(load.messages) and time.monotonic() < deadline:
        time.sleep(0.05)
    for proc in procs:
        proc.kill()
        proc.wait()
    start = min(t for t in connected if t) if any(connected) else time.time()
    end = max(t for _, t in counts)
    return sum(c for c, _ in counts) / (end - start), published


async def ingest_rate(
    broker: mosquitto.Mosquitto, workers: int, load: Backlog, profile: Path | None
) -> tuple[float, float, int, int]:
    """(fleet workers' rate, publisher's rate, lost, duplicated), counted in the database."""
    name = f"fleet_bench_{uuid.uuid4().hex[:10]}"
    url = f"{POSTGRES}/{name}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        await register(url, len({t.split("/")[2] for t, _ in load.messages}))
        group = f"bench{workers}-{uuid.uuid4().hex[:4]}"
        for proc in [_start_worker(url, broker, group, i, None) for i in range(workers)]:
            await _ready(proc)  # its session exists and is subscribed: the broker queues for it now
            proc.terminate()
            proc.wait(20)
        published = await asyncio.to_thread(publish, broker.port, load.messages)
        await db.connect(url)
        try:
            procs = [_start_worker(url, broker, group, i, profile) for i in range(workers)]
            started = [await _ready(proc) for proc in procs]
            expected = len(load.event_keys) + load.samples
            stored = 0
            end = time.time()
            deadline = time.monotonic() + 900
            while stored < expected and time.monotonic() < deadline:
                stored = await Event.all().count() + await TelemetrySample.all().count()
                end = time.time()
                await asyncio.sleep(0.05)
            await asyncio.sleep(1)  # anything arriving twice would arrive now
            keys = [str(k) for k in await Event.all().values_list("key", flat=True)]
            samples = await TelemetrySample.all().count()
            online = await Device.filter(online=True).count()
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(60)
            await db.disconnect()
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    lost = len(load.event_keys - set(keys)) + max(0, load.samples - samples)
    duplicated = len(keys) - len(set(keys)) + len(set(keys) - load.event_keys) + max(0, samples - load.samples)
    if online != len({t.split("/")[2] for t, _ in load.messages}):
        print(f"  presence: {online} terminals online, expected all", flush=True)
    return len(load.messages) / (end - min(started)), published, lost, duplicated


def _start_worker(
    url: str, broker: mosquitto.Mosquitto, group: str, i: int, profile: Path | None
) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "fleet")]
    if profile is not None:
        report = profile / f"worker-{group}-{i}.txt"
        command = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(report), "-m", "fleet.cli"]
    env = dict(os.environ, FLEET_DATABASE_URL=url)
    args = ["ingest", "--broker", broker.url, "--group", group, "--id", str(i)]
    return subprocess.Popen(command + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


async def _ready(proc: subprocess.Popen[bytes]) -> float:
    """Wait for the worker's ready line (printed once subscribed); the time it connected, near enough."""
    assert proc.stdout is not None
    while True:
        line = await asyncio.to_thread(proc.stdout.readline)
        if not line:
            raise RuntimeError("an ingest worker exited before it was ready")
        if b"subscribed and ready" in line:
            return time.time()
        if b"Traceback" in line:
            raise RuntimeError(line.decode() + proc.stdout.read().decode())


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
                    last_seen=datetime(2026, 1, 1, tzinfo=UTC),
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
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["consume"]:
        consume(int(argv[1]), argv[2], argv[3], "--subscribe-only" in argv, argv[argv.index("--client") + 1])
        return 0
    parser = argparse.ArgumentParser(prog="python -m tools.bench_ingest", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--terminals", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts to measure, comma-separated")
    parser.add_argument("--profile", type=Path, help="run each fleet worker under pyinstrument, reports here")
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"{args.messages} messages from {args.terminals} terminals; broker: {', '.join(QUEUE_SETTINGS)}")
    results: dict[int, tuple[float, float, float, int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp, mosquitto.Mosquitto(Path(tmp)) as broker:
        for run, workers in enumerate(counts):
            raw, raw_pub = raw_rate(broker.port, workers, backlog(args.messages, args.terminals, f"{run:07x}a"), PAHO)
            lean, lean_pub = raw_rate(broker.port, workers, backlog(args.messages, args.terminals, f"{run:07x}c"), LEAN)
            load = backlog(args.messages, args.terminals, f"{run:07x}b")
            rate, pub, lost, duplicated = asyncio.run(ingest_rate(broker, workers, load, args.profile))
            results[workers] = (raw, lean, rate, lost, duplicated)
            print(
                f"workers={workers} raw_msgs_per_s={raw:.0f} broker_msgs_per_s={lean:.0f} "
                f"ingest_msgs_per_s={rate:.0f} ratio={rate / raw:.2f} broker_ratio={rate / lean:.2f} "
                f"lost={lost} duplicated={duplicated} publisher_msgs_per_s={raw_pub:.0f},{lean_pub:.0f},{pub:.0f}",
                flush=True,
            )
    workers = 2 if 2 in results else counts[0]
    raw, lean, rate, lost, duplicated = results[workers]
    ratio = rate / raw
    print(
        f"target (workers={workers}): ratio >= 0.5 ({'met' if ratio >= 0.5 else 'NOT met'}), nothing lost or "
        f"duplicated ({'met' if lost == duplicated == 0 else 'NOT met'})"
    )
    print(
        f"RESULT raw_msgs_per_s={raw:.0f} ingest_msgs_per_s={rate:.0f} ratio={ratio:.2f} lost={lost} "
        f"duplicated={duplicated} broker_msgs_per_s={lean:.0f} broker_ratio={rate / lean:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
