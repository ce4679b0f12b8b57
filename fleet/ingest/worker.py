"""MQTT ingest: terminals' messages into the database, each event stored once, nothing acknowledged early.

A worker is an MQTT v5 session (fleet.ingest.consumer, in the worker's event loop) on shared
subscriptions (`$share/<group>/pos/v1/+/<kind>`), so several workers split the load. Acknowledgements
are manual: a message's PUBACK leaves only after the transaction that stored it has committed, so a worker
killed mid-batch loses nothing acknowledged; the broker redelivers the rest and the unique idempotency key
drops what was already stored.
Every message goes through `protocol.codec.decode`; a malformed one is counted by reason, logged with its
topic, acknowledged (it would never get better) and never stops the worker.
"""

import asyncio
import logging
import sqlite3
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from tortoise.exceptions import DBConnectionError
from tortoise.transactions import in_transaction

from fleet.broker import RECEIVE_MAXIMUM
from fleet.commands import service as commands
from fleet.devices.models import Device, UnregisteredSighting
from fleet.domain.presence import state_wins
from fleet.ingest import batch_sql
from fleet.ingest.consumer import Consumer
from fleet.ingest.models import Event, QuarantinedMessage, TelemetrySample
from protocol import codec, event, telemetry, topics
from protocol.errors import ProtocolError

log = logging.getLogger("fleet.ingest")

# The line a `fleet ingest` process prints once its subscriptions are confirmed (the service waits for it).
READY = "subscribed and ready"
# The line prefix of a worker's status, printed every STATUS_EVERY_S seconds for the service's /healthz.
STATUS = "ingest-status"
STATUS_EVERY_S = 2.0
KINDS = (topics.HELLO, topics.STATE, topics.TELEMETRY, topics.EVENT, topics.ACK)
# Every metric of the protocol's telemetry vocabulary has a column (identity and time are stored apart).
TELEMETRY_COLUMNS = tuple(f for f in telemetry.FIELDS if f not in ("ts", "model", "fw"))
# The rows the ingest inserts, column by column (batch_sql.insert).
EVENT_COLUMNS = batch_sql.columns(
    Event, ("key", "serial", "jid", "seq", "type", "device_time", "received_at", "data", "merchant_id")
)
SAMPLE_COLUMNS = batch_sql.columns(TelemetrySample, ("serial", "device_time", "received_at", *TELEMETRY_COLUMNS))


# Why a message was quarantined, beyond the protocol's own reason codes.
UNSTORABLE = "unstorable"  # the database refused it, alone
KEY_CONFLICT = "key_conflict"  # its idempotency key is already stored with another body
MAX_KEPT = 20_000  # bytes of a quarantined payload kept (the broker's packet limit bounds the rest)


@dataclass
class Received:
    topic: str
    payload: bytes
    mid: int
    qos: int


@dataclass
class Decoded:
    item: Received
    serial: str
    kind: str
    msg: dict[str, Any]


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
        self.last_stored_at: datetime | None = None  # when the last batch was written
        self._inbox: deque[Received] = deque()  # what arrived, not yet taken into a batch
        self._arrived = asyncio.Event()
        if v5:
            filters = [topics.shared_subscription(group, kind) for kind in KINDS]
        else:
            filters = [topics.subscription(kind) for kind in KINDS]
        self.consumer = Consumer(
            host,
            port,
            client_id=client_id or f"fleet-ingest-{uuid.uuid4().hex[:8]}",
            filters=filters,
            on_message=self._on_message,
            counters=self.counters,
            username=username,
            password=password,
            v5=v5,
            session_expiry=3600,  # keep the subscription and queued messages across a restart
            receive_maximum=RECEIVE_MAXIMUM,  # the batch being stored and the next one arriving
        )
        self.connected = self.consumer.connected
        self.subscribed = self.consumer.subscribed  # the broker granted the subscriptions: nothing is missed now

    def status(self) -> dict[str, Any]:
        """What /healthz shows of this worker: connected, when it last stored a batch, its counters."""
        return {
            "connected": self.connected.is_set() and self.subscribed.is_set(),
            "last_stored_at": self.last_stored_at.isoformat() if self.last_stored_at else None,
            "counters": dict(self.counters),
        }

    def _on_message(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        self._inbox.append(Received(topic, payload, mid, qos))
        self._arrived.set()

    # -- the worker --------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Consume until `stop` is set (or forever)."""
        leaving = asyncio.Event()
        session = asyncio.create_task(self.consumer.run(leaving))
        try:
            while stop is None or not stop.is_set():
                batch = await self._next_batch()
                if batch:
                    if not await self._store_until_done(batch, stop):
                        break  # stopping with it unstored: unacknowledged, the broker delivers it again
                    self.consumer.ack([item.mid for item in batch if item.qos])  # only now, after the commit
        finally:
            leaving.set()
            await asyncio.wait({session}, timeout=5)
            session.cancel()

    async def _store_until_done(self, batch: list[Received], stop: asyncio.Event | None) -> bool:
        """Store `batch`, retrying while the database is away; no exception of one batch ends the worker.
        Stopped before it could be stored, the batch stays unacknowledged: the broker delivers it again."""
        delay = 0.5
        while True:
            try:
                await self.store(batch)
                return True
            except Exception:
                self.counters["store.failed"] += 1
                log.exception("a batch of %d messages could not be stored; retrying in %.1f s", len(batch), delay)
            if stop is not None and stop.is_set():
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)

    async def _arrival(self, timeout: float) -> bool:
        """Wait up to `timeout` for a message to arrive; whether anything is waiting."""
        if self._inbox:
            return True
        self._arrived.clear()
        try:
            await asyncio.wait_for(self._arrived.wait(), timeout)
        except TimeoutError:
            return bool(self._inbox)
        return True

    async def _next_batch(self) -> list[Received]:
        """What has arrived, up to batch_size. The batch adapts to the backlog: behind one, it is whatever
        has queued up meanwhile (no waiting); when the terminals are quiet, it waits batch_wait for more
        rather than commit a transaction per message."""
        if not self._inbox and not await self._arrival(0.2):
            return []
        batch: list[Received] = []
        deadline = asyncio.get_running_loop().time() + self.batch_wait
        while True:
            while self._inbox and len(batch) < self.batch_size:
                batch.append(self._inbox.popleft())
            timeout = deadline - asyncio.get_running_loop().time()
            if len(batch) >= self.batch_size or timeout <= 0 or not await self._arrival(timeout):
                return batch

    async def store(self, batch: list[Received]) -> None:
        """Validate and write one batch. What the contract refuses goes to quarantine; the rest is written
        in one transaction, or, when that fails, in halves down to the single message, so one message the
        database cannot take is quarantined and never holds back the others. Raises only when nothing
        could be written at all (the database is away): then nothing of the batch may be acknowledged."""
        decoded: list[Decoded] = []
        refused: list[tuple[Received, str | None, ProtocolError]] = []
        for item in batch:
            try:
                serial, kind, msg = codec.decode(item.topic, item.payload)
            except ProtocolError as e:
                self.counters[f"malformed.{e.code}"] += 1
                log.warning("malformed message on %s: %s (%s)", _printable(item.topic), e, e.code)
                refused.append((item, _topic_serial(item.topic), e))
                continue
            decoded.append(Decoded(item, serial, kind, msg))
        if refused:
            await self._quarantine([(item, serial, e.code, e.field, e.detail) for item, serial, e in refused])
        if decoded:
            await self._store_parts(decoded)
        self.last_stored_at = datetime.now(UTC)

    async def _store_parts(self, part: list[Decoded]) -> None:
        try:
            await self._write(part)
            return
        except Exception as e:
            if transient(e):  # the database is busy or away, not the message at fault: retry it all later
                raise
            if len(part) > 1:
                self.counters["store.split"] += 1
                half = len(part) // 2
                await self._store_parts(part[:half])
                await self._store_parts(part[half:])
                return
            error = e
        await Event.filter(id=0).exists()  # the database answers (else this raises): the message is at fault
        one = part[0]
        log.error("message on %s cannot be stored: %r", one.item.topic, error)
        await self._quarantine([(one.item, one.serial, UNSTORABLE, "", repr(error)[:2000])])

    async def _quarantine(self, items: list[tuple[Received, str | None, str, str, str]]) -> None:
        now = datetime.now(UTC)
        await QuarantinedMessage.bulk_create(
            [
                QuarantinedMessage(
                    received_at=now,
                    topic=_printable(item.topic)[:256],
                    serial=serial,
                    reason=reason,
                    field=_printable(field)[:128],
                    detail=_printable(detail),
                    payload=item.payload[:MAX_KEPT],
                    size=len(item.payload),
                )
                for item, serial, reason, field, detail in items
            ]
        )
        self.counters["quarantined"] += len(items)

    async def _events_to_store(
        self, decoded: list[Decoded], owners: dict[str, int | None], now: datetime
    ) -> list[tuple[Any, ...]]:
        """The batch's events (rows of EVENT_COLUMNS) less those already stored. A key already stored (or
        twice in the batch) with the same body is a redelivery; with another body it is a conflict:
        quarantined, never stored."""
        wanted: dict[str, tuple[Decoded, tuple[Any, ...]]] = {}
        conflicts: list[tuple[Received, str | None, str, str, str]] = []
        for one in decoded:
            if one.kind != topics.EVENT:
                continue
            msg = one.msg
            key = event.idempotency_key(msg)
            # null merchant for a serial nobody registered yet: adopted when it is
            row: tuple[Any, ...] = (key, one.serial, msg["jid"], msg["seq"], msg["type"], _at(msg["ts"]), now)
            row += (msg["data"], owners.get(one.serial))
            earlier = wanted.get(key)
            if earlier is None:
                wanted[key] = (one, row)
            elif _same_event(earlier[1], row[4], row[5], row[7]):
                self.counters["events.duplicate"] += 1
            else:
                conflicts.append((one.item, one.serial, KEY_CONFLICT, "", _conflict(key)))
        if wanted:
            stored = await Event.filter(key__in=list(wanted)).values_list("key", "type", "device_time", "data")
            for key, kind, device_time, data in stored:
                one, row = wanted.pop(str(key))
                if _same_event(row, str(kind), device_time, data):
                    self.counters["events.duplicate"] += 1
                else:
                    conflicts.append((one.item, one.serial, KEY_CONFLICT, "", _conflict(str(key))))
        if conflicts:
            log.warning("%d events claim a key already stored with another body", len(conflicts))
            self.counters["events.conflict"] += len(conflicts)
            await self._quarantine(conflicts)
        return [row for _one, row in wanted.values()]

    async def _write(self, decoded: list[Decoded]) -> None:
        """Write decoded messages in one transaction, one statement per table (batch_sql)."""
        serials = {one.serial for one in decoded}
        owners = await batch_sql.owners(Device._meta.db, list(serials))
        known = {str(s) for s in owners}
        now = datetime.now(UTC)
        acks: list[tuple[str, dict[str, Any]]] = []
        samples: list[tuple[Any, ...]] = []
        hellos: list[tuple[str, str, str, list[str], str]] = []
        heard: dict[str, batch_sql.Heard] = {}  # each terminal heard, with its latest heartbeat in this batch
        presence: dict[str, tuple[datetime | None, bool]] = {}  # each terminal's winning state in this batch
        unknown: dict[str, str] = {}
        for one in decoded:
            serial, kind, msg = one.serial, one.kind, one.msg
            self.counters[f"received.{kind}"] += 1
            if serial not in known:
                unknown[serial] = topics.topic(serial, kind)
                continue  # its events are stored all the same (below): a sale is never lost to registration
            latest = heard.setdefault(serial, (serial, None, None, None, None))
            if kind == topics.TELEMETRY:
                at = _at(msg["ts"])
                samples.append((serial, at, now, *(msg.get(c) for c in TELEMETRY_COLUMNS)))
                if latest[1] is None or latest[1] <= at:
                    heard[serial] = (serial, at, msg.get("paper"), msg.get("battery_pct"), msg.get("printed_mm"))
            elif kind == topics.ACK:
                acks.append((serial, msg))
            elif kind == topics.STATE:
                state_at = _at(msg["ts"]) if msg.get("ts") is not None else None
                is_online = msg["state"] == "online"
                if serial not in presence or state_wins(state_at, is_online, presence[serial][0]):
                    presence[serial] = (state_at, is_online)
            elif kind == topics.HELLO:
                hellos.append((serial, msg["fw"], msg["hw_id"], msg["caps"], msg["boot_reason"]))
        async with in_transaction() as conn:
            events = await self._events_to_store(decoded, owners, now)
            await batch_sql.insert(conn, "event", EVENT_COLUMNS, events, ignore_conflicts=True)
            await batch_sql.insert(conn, "telemetry_sample", SAMPLE_COLUMNS, samples)
            for serial, msg in acks:
                if await commands.record_ack(serial, msg, now):
                    self.counters["commands.closed"] += 1
            # The device rows: one statement per kind of change for the whole batch, rows locked in one order.
            await batch_sql.lock(conn, list(heard))
            await batch_sql.heard(conn, list(heard.values()), now)
            await batch_sql.hellos(conn, hellos)
            await batch_sql.presence(conn, [(serial, at, on) for serial, (at, on) in presence.items()])
            for serial, topic in unknown.items():
                sighting, created = await UnregisteredSighting.get_or_create(
                    serial=serial, defaults={"first_seen": now, "last_seen": now, "last_topic": topic}
                )
                if not created:
                    sighting.last_seen = now
                    sighting.last_topic = topic
                sighting.messages += sum(1 for one in decoded if one.serial == serial)
                await sighting.save()
        self.counters["stored.events"] += len(events)


def transient(error: BaseException) -> bool:
    """Whether `error` says the database was busy or away (locked, a serialization failure, a deadlock, a
    lost connection) rather than that it refuses these rows: the first is retried, never quarantined."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        e = pending.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError | ConnectionError | TimeoutError | asyncpg.PostgresConnectionError):
            return True
        if isinstance(e, asyncpg.InterfaceError | asyncpg.TransactionRollbackError | asyncpg.CannotConnectNowError):
            return True
        if isinstance(e, asyncpg.TooManyConnectionsError | DBConnectionError):
            return True
        if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
            return True
        pending += [e.__cause__, e.__context__, *(a for a in e.args if isinstance(a, BaseException))]
    return False


def _same_event(row: tuple[Any, ...], kind: str, device_time: datetime, data: Any) -> bool:
    """Whether an event row (EVENT_COLUMNS) has this body."""
    return bool(row[4] == kind and row[5] == device_time and row[7] == data)


def _conflict(key: str) -> str:
    return f"idempotency key {key} is already stored with another body; this one was not stored"


def _printable(text: str) -> str:
    """`text` as any database stores it: NULs and unpaired surrogates replaced."""
    return text.encode("utf-8", "replace").decode().replace("\x00", "\ufffd")


def _topic_serial(topic: str) -> str | None:
    try:
        return topics.parse(topic)[0]
    except ProtocolError:
        return None
