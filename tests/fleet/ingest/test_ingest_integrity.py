"""Sales pipeline integrity (#15): no message a terminal sends can stop, drop or forge other terminals' sales.

A real `fleet ingest` process on a real Mosquitto and a real database (SQLite and PostgreSQL). Poison messages
from one registered terminal (findings 1, 2, 9 of #15), then 100 valid sales from ten others: every sale is
stored within seconds, the poison is in quarantine where Biz Support sees it, and the worker never dies.
"""

import asyncio
import copy
import json
import time

import httpx
import pytest
from tortoise import connections

from fleet import db
from fleet.app import create_app
from fleet.auth.models import Role, User
from fleet.devices.models import Device, Merchant
from fleet.ingest.models import Event, QuarantinedMessage
from fleet.ingest.worker import KEY_CONFLICT, UNSTORABLE
from protocol import codec, event, topics
from tests.api_helpers import PASSWORD, PASSWORD_HASH, SECRET
from tests.fleet_helpers import register_terminals, start_worker
from tests.mqtt_helpers import Collector
from tests.paths import EXAMPLES
from tools import mosquitto

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

EXAMPLES = EXAMPLES
SALE = json.loads((EXAMPLES / "valid" / "event_sale_cash.json").read_text())["payload"]
POISON = "TKM-POISON-1"
GOOD = [f"TKM-GOOD-{n:02d}" for n in range(10)]
REFUSED_SEQ = 666  # the database refuses this one event alone (a trigger below)


def sale(serial: str, seq: int, **changes: object) -> dict[str, object]:
    msg = copy.deepcopy(SALE)
    msg.update(serial=serial, seq=seq, ts=1795000000 + seq)
    msg["data"].update(changes)
    return msg


def raw(name: str, serial: str = POISON) -> bytes:
    """The payload of an invalid golden example, sent from `serial`."""
    doc = json.loads((EXAMPLES / "invalid" / name).read_text())
    return doc["payload_raw"].replace("TKM-58-000123", serial).encode()


REFUSE_SQL = {
    "sqlite": f"""CREATE TRIGGER refuse_one BEFORE INSERT ON event WHEN NEW.seq = {REFUSED_SEQ}
                  BEGIN SELECT RAISE(ABORT, 'refused by a rule the contract does not know'); END;""",
    "postgres": f"""CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN
                      IF NEW.seq = {REFUSED_SEQ} THEN RAISE EXCEPTION 'refused by a rule the contract does not know';
                      END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
                    CREATE TRIGGER refuse_one BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION refuse_one();""",
}


async def _prepare(url: str) -> None:
    await db.migrate(url)
    await db.connect(url)
    try:
        await register_terminals(await Merchant.create(name="Toko Integritas"), [POISON, *GOOD])
        await User.create(username="support", password_hash=PASSWORD_HASH, role=Role.BIZ_SUPPORT)
        await connections.get(url.split("://")[0]).execute_script(REFUSE_SQL[url.split("://")[0]])
    finally:
        await db.disconnect()


def test_poison_messages_are_quarantined_and_every_other_sale_is_stored(database_url, tmp_path):
    """#15 findings 1 (lone surrogate, NUL: the worker died for good), 2 (deep nesting: 500 for good), 9
    (a second body for a stored key, silently dropped) and a message only the database refuses."""
    asyncio.run(_prepare(database_url))
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        worker = start_worker(database_url, broker, "1")
        try:
            assert b"ingest worker 1" in worker.stdout.readline()
            while b"subscribed and ready" not in worker.stdout.readline():  # status lines come and go before it
                assert worker.poll() is None
            first = sale(POISON, 1)
            poison = [
                (topics.HELLO, raw("hello_hw_id_lone_surrogate.json")),
                (topics.HELLO, raw("hello_fw_nul.json")),
                (topics.EVENT, raw("event_item_name_nul.json")),
                (topics.EVENT, raw("event_unknown_field_lone_surrogate.json")),
                (topics.EVENT, raw("event_data_nested_too_deep.json")),
                (topics.ACK, raw("ack_id_lone_surrogate.json")),
                (topics.ACK, raw("ack_detail_nul.json")),
                (topics.EVENT, codec.encode(first)),
                (topics.EVENT, codec.encode(first)),  # a redelivery: the same body
                (topics.EVENT, codec.encode(dict(first, ts=first["ts"] + 60))),  # the same key, another body
                (topics.EVENT, codec.encode(sale(POISON, REFUSED_SEQ))),
            ]
            publisher = Collector(broker.port, topics=("unused/#",))
            for kind, payload in poison:
                publisher.publish(topics.topic(POISON, kind), payload)
            started = time.monotonic()
            keys = {event.idempotency_key(first)}
            for n in range(100):
                msg = sale(GOOD[n % 10], n // 10 + 1)
                keys.add(event.idempotency_key(msg))
                publisher.publish(topics.topic(msg["serial"], topics.EVENT), codec.encode(msg))
            publisher.stop()
            asyncio.run(_check(database_url, keys, started))
            assert worker.poll() is None, "the worker must survive every message"
        finally:
            worker.terminate()
            worker.wait(10)


async def _check(url: str, keys: set[str], started: float) -> None:
    await db.connect(url)
    try:
        while time.monotonic() - started < 20 and await Event.all().count() < len(keys):
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything extra would arrive meanwhile
        stored = [str(k) for k in await Event.all().values_list("key", flat=True)]
        assert sorted(stored) == sorted(keys), "every valid sale stored once, nothing the contract refuses"
        reasons = sorted(await QuarantinedMessage.filter(serial=POISON).values_list("reason", flat=True))
        assert reasons == sorted(["bad_text"] * 6 + ["too_deep", KEY_CONFLICT, UNSTORABLE]), reasons
        conflict = await QuarantinedMessage.get(reason=KEY_CONFLICT)
        assert json.loads(conflict.payload)["ts"] == SALE["ts"] + 1 + 60 and conflict.size == len(conflict.payload)

        app = create_app(SECRET)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fleet.test") as client:
            token = await client.post("/auth/token", data={"username": "support", "password": PASSWORD})
            auth = {"Authorization": "Bearer " + token.json()["access_token"]}
            for path in (f"/devices/{POISON}", f"/devices/{POISON}/transactions", "/merchants/1/transactions"):
                assert (await client.get(path, headers=auth)).status_code == 200, path
            listed = (await client.get("/ingest/quarantine", params={"serial": POISON}, headers=auth)).json()
            assert listed["total"] == 9
            nested = next(q for q in listed["items"] if q["reason"] == "too_deep")
            assert nested["field"].startswith("data.extra") and nested["topic"] == f"pos/v1/{POISON}/event"
            surrogate = next(q for q in listed["items"] if q["field"] == "hw_id")
            assert "\\ud800" in surrogate["payload_text"]
            assert (await client.get("/ingest/quarantine")).status_code == 401
    finally:
        await db.disconnect()


def test_presence_is_applied_by_terminal_time_and_needs_the_terminal_heard(database_url, tmp_path):
    """#15 finding 8: state was applied in arrival order, so after a broker restart a queued `online` arriving
    after the retained `offline` won; and a terminal silent for minutes stayed Online."""
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        asyncio.run(_presence(database_url, broker))


async def _presence(url: str, broker: mosquitto.Mosquitto) -> None:
    from datetime import UTC, datetime, timedelta

    from fleet.devices import presence
    from fleet.ingest.worker import IngestWorker
    from protocol import state

    await _prepare(url)
    await db.connect(url)
    try:
        worker = IngestWorker("127.0.0.1", broker.port, client_id="fleet-ingest-presence")
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        assert await asyncio.to_thread(worker.subscribed.wait, 10)
        serial = GOOD[0]
        publisher = Collector(broker.port, topics=("unused/#",))
        t0 = 1795000000

        async def after(*states: dict[str, object]) -> bool:
            for msg in states:
                publisher.publish(topics.topic(serial, topics.STATE), codec.encode(msg))
            before = worker.counters["received.state"]
            while worker.counters["received.state"] < before + len(states):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # stored after counting
            return bool((await Device.get(serial=serial)).online)

        assert await after(state.build(serial, state.ONLINE, t0))
        # The connection of t0 died: its will (stamped t0) is retained; the broker restarts and its queue hands
        # over the same connection's online after it. Offline wins the tie: the will is the later of the two.
        assert not await after(state.build(serial, state.OFFLINE, t0), state.build(serial, state.ONLINE, t0))
        assert await after(state.build(serial, state.ONLINE, t0 + 30))  # a new connection
        assert await after(state.build(serial, state.OFFLINE, t0 + 10))  # an older connection's will: stale
        assert not await after(state.build(serial, state.OFFLINE))  # a will without a time ends the session
        assert await after(state.build(serial, state.ONLINE, t0 + 60))
        publisher.stop()

        # Heard now: online. Silent past the window (a frozen terminal the broker keeps a session for): offline.
        device = await Device.get(serial=serial)
        now = datetime.now(UTC)
        assert presence.is_online(device, now)
        assert not presence.is_online(device, now + presence.window() + timedelta(seconds=1))
        assert await Device.filter(presence.online_q(now), serial=serial).exists()
        assert await Device.filter(presence.offline_q(now + presence.window() * 2), serial=serial).exists()
        stop.set()
        await task
    finally:
        await db.disconnect()


def test_healthz_is_degraded_while_ingest_is_down_and_ok_after(tmp_path):
    """#15: /healthz answered `ok` while the ingest worker was dead; it tells the truth about ingest now."""
    from tests.fleet_server import FleetServer

    url = f"sqlite://{tmp_path / 'fleet.sqlite3'}"
    with mosquitto.Mosquitto(tmp_path / "broker") as broker, FleetServer(tmp_path, url, broker.url) as fleet:
        status, health = fleet.request("GET", "/healthz")
        assert status == 200 and health["status"] == "ok", health
        [worker] = health["ingest"]["workers"]
        assert worker["alive"] and worker["connected"] and worker["restarts"] == 0
        broker.stop()  # a forced outage: nothing terminals send can be ingested
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and fleet.request("GET", "/healthz")[0] == 200:
            time.sleep(0.2)
        status, health = fleet.request("GET", "/healthz")
        assert status == 503 and health["status"] == "degraded", health
        assert not health["ingest"]["workers"][0]["connected"]
        broker.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and fleet.request("GET", "/healthz")[0] != 200:
            time.sleep(0.2)
        status, health = fleet.request("GET", "/healthz")
        assert status == 200 and health["status"] == "ok", health


def test_sigkill_of_the_ingest_worker_under_the_default_serve_loses_no_sale(tmp_path):
    """#15 finding 5: with the in-process broker, amqtt kept no queue for the worker's anonymous session, so a
    restarted worker came back to nothing (386 of 1,351 sales lost after one SIGKILL). 1,000 sales flow; the
    worker is killed mid-stream; every sale is stored exactly once."""
    import os
    import signal
    import subprocess

    from tests.fleet_helpers import quarantined, stored_keys
    from tests.fleet_server import FleetServer

    port = mosquitto.free_port()
    url = f"sqlite://{tmp_path / 'fleet.sqlite3'}"
    fleet = FleetServer(tmp_path, url)
    fleet.env["FLEET_BROKER_PORT"] = str(port)
    with fleet:
        publisher = Collector(port, topics=("unused/#",), client_id="TKM-SIGKILL-01", persistent=True)
        keys: set[str] = set()
        killed = False
        for n in range(1, 1001):
            msg = event.build(
                "TKM-SIGKILL-01", 1795000000 + n, "0badf00d", n, event.FAULT, {"code": "paper_low", "active": True}
            )
            keys.add(event.idempotency_key(msg))
            publisher.client.publish(topics.topic(msg["serial"], topics.EVENT), codec.encode(msg), 1)
            if n % 100 == 0:
                time.sleep(0.1)
            if not killed and n >= 300 and len(asyncio.run(stored_keys(url))) > 0:
                pids = subprocess.run(
                    ["pgrep", "-f", "fleet.cli ingest", "-P", str(fleet.proc.pid)], capture_output=True, text=True
                ).stdout.split()
                assert pids, "the ingest worker process"
                os.kill(int(pids[0]), signal.SIGKILL)  # mid-stream: messages queued, in flight, half a batch
                killed = True
        assert killed
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(asyncio.run(stored_keys(url))) < len(keys):
            time.sleep(0.2)
        time.sleep(1)
        stored = asyncio.run(stored_keys(url))
        publisher.stop()
        assert len(stored) == len(set(stored)), "stored twice"
        assert asyncio.run(quarantined(url)) == 0, "a redelivery is not a second body"
        assert set(stored) == keys, f"{len(keys - set(stored))} of 1000 sales lost"
        health = fleet.request("GET", "/healthz")[1]
        assert health["ingest"]["workers"][0]["restarts"] == 1


def test_a_redelivery_in_a_later_batch_is_a_duplicate_and_a_second_body_a_conflict(database_url):
    """#15 finding 9 across batches: the stored row is read back and compared (its time and JSON as the
    database returns them), so a broker's redelivery is never taken for a conflict, nor a conflict dropped."""
    from fleet.ingest.worker import IngestWorker, Received

    async def body() -> None:
        await db.migrate(database_url)
        await db.connect(database_url)
        try:
            worker = IngestWorker("127.0.0.1", 1)  # never connected: store() alone, on the real database
            first = sale(POISON, 7)
            delivery = Received(topics.topic(POISON, topics.EVENT), codec.encode(first), 1, 1)
            other = Received(delivery.topic, codec.encode(sale(POISON, 7, receipt="A1-999999")), 2, 1)
            for batch in ([delivery], [delivery], [other]):
                await worker.store(batch)
            assert (worker.counters["events.duplicate"], worker.counters["events.conflict"]) == (1, 1)
            assert await Event.all().count() == 1
            stored = await Event.get()
            assert stored.data["receipt"] == SALE["data"]["receipt"]  # the first body stays
            assert await QuarantinedMessage.filter(reason=KEY_CONFLICT).count() == 1
        finally:
            await db.disconnect()

    asyncio.run(body())


def test_a_locked_database_is_retried_never_quarantined(tmp_path):
    """Found by the two-worker serve test on SQLite: 'database is locked' on one message was taken for the
    message's fault and a good sale quarantined. The real lock error counts as transient, so the batch is
    retried whole; the trigger's refusal in the poison test does not, so that message is quarantined."""
    import sqlite3

    from fleet.ingest.worker import IngestWorker, Received, transient

    path = tmp_path / "fleet.sqlite3"

    async def body() -> None:
        await db.migrate(f"sqlite://{path}")
        await db.connect(f"sqlite://{path}")
        try:
            worker = IngestWorker("127.0.0.1", 1)
            delivery = Received(topics.topic(POISON, topics.EVENT), codec.encode(sale(POISON, 3)), 1, 1)
            other = sqlite3.connect(path, timeout=0)
            other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock; reads still work
            try:
                await worker.store([delivery])
                raise AssertionError("a locked database must not pass for stored")
            except Exception as e:
                assert transient(e), repr(e)  # so the worker retries the batch (a refusal is not: see above)
            finally:
                other.rollback()
                other.close()
            assert await QuarantinedMessage.all().count() == 0
            await worker.store([delivery])  # the retry, once the lock is gone
            assert await Event.all().count() == 1
        finally:
            await db.disconnect()

    asyncio.run(body())
