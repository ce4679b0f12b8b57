"""MQTT ingest: terminals' messages into the database, each event stored once, nothing acknowledged early.

A worker is a paho-mqtt MQTT v5 client on shared subscriptions (`$share/<group>/pos/v1/+/<kind>`), so
several workers split the load. Acknowledgements are manual: a message's PUBACK leaves only after the
transaction that stored it has committed, so a worker killed mid-batch loses nothing acknowledged; the
broker redelivers the rest and the unique idempotency key drops what was already stored.
Every message goes through `protocol.codec.decode`; a malformed one is counted by reason, logged with its
topic, acknowledged (it would never get better) and never stops the worker.
"""

import asyncio
import logging
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from fleet.commands import service as commands
from fleet.devices.models import Device, UnregisteredSighting
from fleet.ingest.models import Event, TelemetrySample
from protocol import codec, event, telemetry, topics
from protocol.errors import ProtocolError

log = logging.getLogger("fleet.ingest")

# The line a `fleet ingest` process prints once its subscriptions are confirmed (the service waits for it).
READY = "subscribed and ready"
KINDS = (topics.HELLO, topics.STATE, topics.TELEMETRY, topics.EVENT, topics.ACK)
# Every metric of the protocol's telemetry vocabulary has a column (identity and time are stored apart).
TELEMETRY_COLUMNS = tuple(f for f in telemetry.FIELDS if f not in ("ts", "model", "fw"))


@dataclass
class Received:
    topic: str
    payload: bytes
    mid: int
    qos: int


def _at(ts: int | None) -> datetime:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else datetime.now(UTC)


class IngestWorker:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        group: str = "fleet",
        username: str | None = None,
        password: str | None = None,
        batch_size: int = 500,
        batch_wait: float = 0.05,
        client_id: str | None = None,
        v5: bool = True,
    ) -> None:
        self.host, self.port = host, port
        self.v5 = v5  # False: an MQTT 3.1.1 broker (the in-process one): plain subscriptions, one worker
        self.group = group
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.counters: Counter[str] = Counter()
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker confirmed the subscriptions: nothing is missed now
        self._queue: asyncio.Queue[Received] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"fleet-ingest-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else False,
            manual_ack=True,
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_disconnect = lambda *args: self.connected.clear()

    # -- paho's thread ---------------------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        # Subscriptions belong here: after a reconnect they are made again.
        if self.v5:
            client.subscribe([(topics.shared_subscription(self.group, kind), 1) for kind in KINDS])
        else:
            client.subscribe([(topics.subscription(kind), 1) for kind in KINDS])
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        received = Received(msg.topic, bytes(msg.payload), msg.mid, msg.qos)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._queue.put_nowait, received)

    # -- the worker --------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Consume until `stop` is set (or forever)."""
        self._loop = asyncio.get_running_loop()
        if self.v5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 3600  # keep the subscription and queued messages across a restart
            self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        else:
            self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        try:
            while stop is None or not stop.is_set():
                batch = await self._next_batch()
                if batch:
                    await self.store(batch)
                    for item in batch:  # only now, after the commit
                        if item.qos:
                            self.client.ack(item.mid, item.qos)
        finally:
            self.client.loop_stop()
            self.client.disconnect()

    async def _next_batch(self) -> list[Received]:
        try:
            first = await asyncio.wait_for(self._queue.get(), 0.2)
        except TimeoutError:
            return []
        batch = [first]
        deadline = asyncio.get_running_loop().time() + self.batch_wait
        while len(batch) < self.batch_size:
            timeout = deadline - asyncio.get_running_loop().time()
            if timeout <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), timeout))
            except TimeoutError:
                break
        return batch

    async def store(self, batch: list[Received]) -> None:
        """Validate and write one batch in one transaction."""
        decoded: list[tuple[str, str, dict[str, Any]]] = []
        for item in batch:
            try:
                serial, kind, msg = codec.decode(item.topic, item.payload)
            except ProtocolError as e:
                self.counters[f"malformed.{e.code}"] += 1
                log.warning("malformed message on %s: %s (%s)", item.topic, e, e.code)
                continue
            decoded.append((serial, kind, msg))
        if not decoded:
            return
        serials = {serial for serial, _, _ in decoded}
        owners = dict(await Device.filter(serial__in=serials).values_list("serial", "merchant_id"))
        known = {str(s) for s in owners}
        now = datetime.now(UTC)
        events: list[Event] = []
        acks: list[tuple[str, dict[str, Any]]] = []
        samples: list[TelemetrySample] = []
        seen: dict[str, dict[str, Any]] = {}
        health: dict[str, TelemetrySample] = {}  # each terminal's latest heartbeat in this batch
        unknown: dict[str, str] = {}
        for serial, kind, msg in decoded:
            self.counters[f"received.{kind}"] += 1
            if serial not in known:
                unknown[serial] = topics.topic(serial, kind)
            if kind == topics.EVENT:
                # Stored even for an unregistered serial: a sale must not be lost because registration lags.
                events.append(
                    Event(
                        key=event.idempotency_key(msg),
                        serial=serial,
                        jid=msg["jid"],
                        seq=msg["seq"],
                        type=msg["type"],
                        device_time=_at(msg["ts"]),
                        data=msg["data"],
                        merchant_id=owners.get(serial),
                    )
                )
            elif kind == topics.ACK and serial in known:
                acks.append((serial, msg))
            elif kind == topics.TELEMETRY and serial in known:
                sample = TelemetrySample(
                    serial=serial, device_time=_at(msg["ts"]), **{c: msg.get(c) for c in TELEMETRY_COLUMNS}
                )
                samples.append(sample)
                if serial not in health or health[serial].device_time <= sample.device_time:
                    health[serial] = sample
            if serial in known:
                update = seen.setdefault(serial, {"last_seen": now})
                if kind == topics.STATE:
                    update["online"] = msg["state"] == "online"
                elif kind == topics.HELLO:
                    update.update(
                        online=True,
                        firmware=msg["fw"],
                        hw_id=msg["hw_id"],
                        capabilities=msg["caps"],
                        boot_reason=msg["boot_reason"],
                    )
                elif "online" not in update:
                    update["online"] = True
        async with in_transaction():
            if events:
                await Event.bulk_create(events, ignore_conflicts=True)
            if samples:
                await TelemetrySample.bulk_create(samples)
            for serial, msg in acks:
                if await commands.record_ack(serial, msg, now):
                    self.counters["commands.closed"] += 1
            for serial, update in seen.items():
                await Device.filter(serial=serial).update(**update)
            for serial, sample in health.items():  # unless a later heartbeat got there first
                at = sample.device_time
                await Device.filter(Q(serial=serial) & (Q(telemetry_at__isnull=True) | Q(telemetry_at__lte=at))).update(
                    telemetry_at=at, paper=sample.paper, battery_pct=sample.battery_pct, printed_mm=sample.printed_mm
                )
            for serial, topic in unknown.items():
                sighting, created = await UnregisteredSighting.get_or_create(
                    serial=serial, defaults={"first_seen": now, "last_seen": now, "last_topic": topic}
                )
                if not created:
                    sighting.last_seen = now
                    sighting.last_topic = topic
                sighting.messages += sum(1 for s, _, _ in decoded if s == serial)
                await sighting.save()
        self.counters["stored.events"] += len(events)
