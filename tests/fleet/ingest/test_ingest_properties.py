"""Generated hostile payloads at the real ingest path (#15): a real `fleet ingest` on a real Mosquitto.

Hypothesis throws what a buggy or stolen terminal could publish on its own topics: raw bytes, arbitrary
JSON (NULs, lone surrogates, deep nesting, huge numbers) and valid messages with fields replaced, removed
or added, as UTF-8 or not. After each example a good terminal sells once. Asserted: the worker never
exits, every good sale is stored, and nothing the protocol refuses is stored (every stored event and
hello field of the hostile terminal is one that `protocol.codec.decode` accepts, with the body it sent).
"""

import asyncio
import copy
import json
import subprocess
import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet import db
from fleet.devices.models import Device, Merchant
from fleet.ingest.models import Event
from protocol import codec, event, topics
from protocol.errors import ProtocolError
from tests.fleet_helpers import register_terminals, start_worker
from tests.mqtt_helpers import Collector
from tests.paths import EXAMPLES
from tools import mosquitto

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

EXAMPLES = EXAMPLES / "valid"
KINDS = [topics.HELLO, topics.STATE, topics.TELEMETRY, topics.EVENT, topics.ACK]
HOSTILE = "TKM-HOSTILE-1"
GOOD = "TKM-GOOD-1"
SALE = json.loads((EXAMPLES / "event_sale_cash.json").read_text())["payload"]
# Valid messages of every kind a terminal publishes, to mutate: name -> (kind, payload).
VALID = {
    path.stem: (kind, doc["payload"])
    for path in sorted(EXAMPLES.glob("*.json"))
    if (kind := (doc := json.loads(path.read_text()))["topic"].rsplit("/", 1)[1]) in KINDS
}

# Text as a hostile terminal writes it: any character, and the ones databases refuse, often.
HOSTILE_CHARS = st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "\U0001f600", "\u202e", "'", '"', "\\"])
TEXT = st.text(st.characters(codec=None) | HOSTILE_CHARS, max_size=40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=30,
)


def _nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


def _leaves(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside `value` (dict keys and list indexes), the root excluded."""
    out: list[tuple[object, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, inner in items:
        out.append((*path, key))
        out += _leaves(inner, (*path, key))
    return out


def _get(msg: Any, path: tuple[object, ...]) -> Any:
    for key in path:
        msg = msg[key]
    return msg


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    """A valid message of the hostile terminal, as it is or with some of its values tampered with: a hostile character
    put into a text (the type stays right, so only the storable-text rule can refuse it), a number made
    huge or negative, a value replaced by any JSON or nested deep, a field removed or an unknown one added."""
    kind, payload = VALID[draw(st.sampled_from(sorted(VALID)))]
    msg = copy.deepcopy(payload)
    msg["serial"] = HOSTILE
    if "seq" in msg:  # a sale of its own, not a redelivery of the example's
        msg["seq"] = draw(st.integers(1, 10**6))
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3]))):
        path = draw(st.sampled_from(_leaves(msg)))
        parent, key, value = _get(msg, path[:-1]), path[-1], _get(msg, path)
        how = draw(st.sampled_from(["inject", "inject", "number", "replace", "deep", "remove", "add"]))
        if how == "inject" and isinstance(value, str):
            at = draw(st.integers(0, len(value)))
            parent[key] = value[:at] + draw(HOSTILE_CHARS) + value[at:]
        elif how == "number" and isinstance(value, int) and not isinstance(value, bool):
            parent[key] = draw(st.sampled_from([-1, 2**31, 2**63, 2**64, -(2**63) - 1, 10**30]))
        elif how == "deep":
            parent[key] = _nested(draw(st.integers(5, 400)))
        elif how == "remove" and isinstance(parent, dict):
            del parent[key]
        elif how == "add" and isinstance(parent, dict):
            parent[draw(TEXT)] = draw(JSON)
        else:
            parent[key] = draw(JSON)
    return kind, msg


@st.composite
def hostile(draw: st.DrawFn) -> tuple[str, bytes]:
    """(kind, payload bytes) on the hostile terminal's own topic of that kind."""
    shape = draw(st.sampled_from(["bytes", "json", "mutated", "mutated"]))
    if shape == "bytes":
        return draw(st.sampled_from(list(VALID.values())))[0], draw(st.binary(max_size=300))
    if shape == "json":
        kind, doc = draw(st.sampled_from(KINDS)), draw(JSON)
    else:
        kind, doc = draw(mutated())
    # ASCII escapes (the JSON of any terminal), or raw UTF-8 where a lone surrogate is an invalid byte run.
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    return kind, text.encode("utf-8", "surrogatepass")


async def _prepare(url: str) -> None:
    await db.migrate(url)
    await db.connect(url)
    try:
        await register_terminals(await Merchant.create(name="Toko Properti"), (HOSTILE, GOOD), firmware="original")
    finally:
        await db.disconnect()


def accepted(kind: str, payload: bytes) -> dict[str, Any] | None:
    try:
        return codec.decode(topics.topic(HOSTILE, kind), payload)[2]
    except ProtocolError:
        return None


def test_generated_hostile_payloads_never_stop_ingest_nor_get_stored(database_url, tmp_path):
    asyncio.run(_prepare(database_url))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(db.connect(database_url, shared=True))
    sent_events: dict[str, list[dict[str, Any]]] = {}  # key -> bodies the protocol accepted
    sent_firmware = {"original"}
    good_keys: set[str] = set()
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        worker = start_worker(database_url, broker, "prop")
        output: list[bytes] = []
        ready = threading.Event()

        def drain() -> None:  # a full pipe would stall the worker on its status lines
            assert worker.stdout is not None
            for line in worker.stdout:
                output.append(line)
                if b"subscribed and ready" in line:
                    ready.set()

        threading.Thread(target=drain, daemon=True).start()
        publisher = Collector(broker.port, topics=("unused/#",))
        try:
            assert ready.wait(30), b"".join(output).decode(errors="replace")

            @settings(
                max_examples=100,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(st.lists(hostile(), min_size=1, max_size=8))
            def one_example(payloads: list[tuple[str, bytes]]) -> None:
                for kind, payload in payloads:
                    msg = accepted(kind, payload)
                    if msg is not None and kind == topics.EVENT:
                        sent_events.setdefault(event.idempotency_key(msg), []).append(msg)
                    if msg is not None and kind == topics.HELLO:
                        sent_firmware.add(msg["fw"])
                    publisher.publish(topics.topic(HOSTILE, kind), payload)
                sale = copy.deepcopy(SALE)
                sale.update(serial=GOOD, seq=len(good_keys) + 1, ts=1795000000 + len(good_keys))
                key = event.idempotency_key(sale)
                good_keys.add(key)
                publisher.publish(topics.topic(GOOD, topics.EVENT), codec.encode(sale))
                stored = loop.run_until_complete(_stored_within(key, 20, worker))
                assert worker.poll() is None, b"".join(output[-40:]).decode(errors="replace")
                assert stored, "a good sale after hostile input was not stored"

            one_example()
            time.sleep(0.5)  # anything still in flight is stored meanwhile
            assert worker.poll() is None
            loop.run_until_complete(_nothing_refused_stored(sent_events, sent_firmware, good_keys))
        finally:
            publisher.stop()
            worker.terminate()
            worker.wait(10)
            loop.run_until_complete(db.disconnect())
            loop.close()


async def _stored_within(key: str, seconds: float, worker: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and worker.poll() is None:
        if await Event.filter(key=key).exists():
            return True
        await asyncio.sleep(0.05)
    return False


def _same(stored: Any, sent: Any) -> bool:
    """Equal as JSON values. PostgreSQL's jsonb keeps a number as the decimal it was written as, so a huge
    float sent as 1.4678875929364784e+74 reads back as that decimal's int: the same number, and the same
    float again, but not == in Python."""
    if isinstance(stored, dict) and isinstance(sent, dict):
        return stored.keys() == sent.keys() and all(_same(stored[k], sent[k]) for k in stored)
    if isinstance(stored, list) and isinstance(sent, list):
        return len(stored) == len(sent) and all(_same(a, b) for a, b in zip(stored, sent, strict=True))
    numbers = (int, float)
    if (
        isinstance(stored, numbers)
        and isinstance(sent, numbers)
        and not isinstance(stored, bool)
        and not isinstance(sent, bool)
    ):
        return stored == sent or (
            (isinstance(stored, float) or isinstance(sent, float)) and float(stored) == float(sent)
        )
    return bool(stored == sent and type(stored) is type(sent))


async def _nothing_refused_stored(
    sent: dict[str, list[dict[str, Any]]], firmware: set[str], good_keys: set[str]
) -> None:
    good = set(await Event.filter(serial=GOOD).values_list("key", flat=True))
    assert good == good_keys
    for key, kind, data in await Event.filter(serial=HOSTILE).values_list("key", "type", "data"):
        bodies = sent.get(str(key))
        assert bodies, f"stored an event the protocol refused: {key}"
        # The first accepted body of a key is the one stored; later ones with another body are conflicts.
        assert kind == bodies[0]["type"] and _same(data, bodies[0]["data"]), key
    device = await Device.get(serial=HOSTILE)
    assert device.firmware in firmware
