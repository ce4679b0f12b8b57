"""The wire contract: golden examples, builders, topics. Runs on CPython and on MicroPython."""

import json
import random

import golden
from protocol import ack, codec, command, errors, event, hello, request, state, telemetry, topics
from protocol.errors import ProtocolError

SERIAL = "TKM-58-000123"


def test_every_valid_golden_example_decodes_to_itself():
    for doc in golden.load("valid"):
        serial, kind, msg = codec.decode(doc["topic"], golden.payload_bytes(doc))
        assert (serial, kind) == topics.parse(doc["topic"]), doc["name"]
        assert msg == doc["payload"], doc["name"]


def test_golden_examples_survive_encode_decode_with_bytes_and_str_topics():
    for doc in golden.load("valid"):
        _, _kind, msg = codec.decode(doc["topic"].encode(), codec.encode(doc["payload"]))
        assert msg == doc["payload"], doc["name"]
        assert codec.decode(doc["topic"], codec.encode(msg).decode())[2] == msg


def test_every_invalid_golden_example_is_refused_with_its_reason_and_field():
    for doc in golden.load("invalid"):
        e = golden.raises(ProtocolError, codec.decode, doc["topic"], golden.payload_bytes(doc))
        assert (e.code, e.field) == (doc["error"], doc["field"]), "%s: got %s %s (%s)" % (
            doc["name"],
            e.code,
            e.field,
            e.detail,
        )
        assert e.detail and str(e), doc["name"]


def test_every_kind_has_valid_and_invalid_golden_examples():
    for which in ("valid", "invalid"):
        kinds = set()
        for doc in golden.load(which):
            try:
                kinds.add(topics.parse(doc["topic"])[1])
            except ProtocolError:
                pass
        assert kinds == set(topics.KINDS), which + ": " + repr(kinds)


def test_builders_produce_messages_the_validators_accept():
    built = {
        topics.HELLO: hello.build(SERIAL, 1795000000, "TKM-58", "B2", "a4cf12", "1.4.0", "watchdog", ["keypad"]),
        topics.STATE: state.build(SERIAL, state.OFFLINE),
        topics.TELEMETRY: telemetry.build(SERIAL, 1795000000, 10, 50000, battery_pct=50, paper="low", rssi_dbm=None),
        topics.EVENT: event.build(
            SERIAL, 1795000000, "0a1b2c3d", 7, event.FAULT, {"code": "cover_open", "active": False}
        ),
        topics.CMD: command.build(SERIAL, 1795000000, "c-1", command.SET_CLOCK, {"time": 1795000000}),
        topics.ACK: ack.build(SERIAL, 1795000000, "c-1", False, ack.REJECTED, "x" * 300),
        topics.REQ: request.build(
            SERIAL, 1795000000, "r-1", request.PAYLATER_TENOR, {"ref": "A1-000001/P1", "tenor": 3}
        ),
    }
    for kind in built:
        msg = built[kind]
        assert codec.decode(topics.topic(SERIAL, kind), codec.encode(msg))[2] == msg, kind
    assert "rssi_dbm" not in built[topics.TELEMETRY]
    assert len(built[topics.ACK]["detail"]) == 200


def test_telemetry_builder_refuses_a_field_outside_the_vocabulary():
    golden.raises(ValueError, lambda: telemetry.build(SERIAL, 1, 1, 1, humidity=3))


def test_telemetry_vocabulary_matches_its_validation_spec():
    assert telemetry.FIELDS == tuple(field[0] for field in telemetry.spec())


def test_idempotency_key_is_serial_journal_and_sequence():
    msg = event.build(SERIAL, 1, "0a1b2c3d", 12, event.VOID, {"receipt": "R1", "total": 1})
    assert event.idempotency_key(msg) == SERIAL + "/0a1b2c3d/12"
    other = event.build(SERIAL, 1, "ffffffff", 12, event.VOID, {"receipt": "R1", "total": 1})
    assert event.idempotency_key(other) != event.idempotency_key(msg)


def test_topics_round_trip_and_refuse_what_is_not_a_serial():
    for kind in topics.KINDS:
        name = topics.topic(SERIAL, kind)
        assert topics.parse(name) == (SERIAL, kind)
        assert topics.parse(name.encode()) == (SERIAL, kind)
    for bad in ("abc", "lower-case-1", "A/B/C", "+", "#", "A" * 33, "", "TKM 1"):
        golden.raises(ValueError, topics.topic, bad, topics.EVENT)
    golden.raises(ValueError, topics.topic, SERIAL, "selfie")
    for bad in (b"\xff\xfe", "pos/v1/" + SERIAL, "pos/v2/" + SERIAL + "/event", "pos/v1/" + SERIAL + "/event/x"):
        assert golden.raises(ProtocolError, topics.parse, bad).code == errors.BAD_TOPIC


def test_subscriptions_and_delivery_flags():
    assert topics.subscription(topics.EVENT) == "pos/v1/+/event"
    assert topics.subscription(topics.CMD, SERIAL) == "pos/v1/" + SERIAL + "/cmd"
    assert topics.shared_subscription("fleet", topics.EVENT) == "$share/fleet/pos/v1/+/event"
    assert topics.retained(topics.STATE) and not topics.retained(topics.EVENT)
    assert topics.qos(topics.EVENT) == 1 and topics.qos(topics.TELEMETRY) == 0


def test_a_payload_at_the_size_limit_passes_and_one_byte_more_is_too_large():
    body = codec.encode(state.build(SERIAL, state.ONLINE, 1))
    limit = codec.MAX_BYTES[topics.STATE]
    name = topics.topic(SERIAL, topics.STATE)
    codec.decode(name, body + b" " * (limit - len(body)))
    assert (
        golden.raises(ProtocolError, codec.decode, name, body + b" " * (limit - len(body) + 1)).code == errors.TOO_LARGE
    )


def _random_value(rng):
    choice = rng.getrandbits(3)
    if choice == 0:
        return None
    if choice == 1:
        return rng.getrandbits(31) - (1 << 30)
    if choice == 2:
        return "x" * rng.getrandbits(7)
    if choice == 3:
        return rng.getrandbits(1) == 1
    if choice == 4:
        return [1, "a"]
    if choice == 5:
        return {"k": 1}
    if choice == 6:
        return [1.5, 10**30][rng.getrandbits(1)]
    return ""


def test_seeded_mutations_of_golden_examples_are_accepted_or_refused_never_crash():
    # The same walk on both runtimes; hypothesis does a wider search on CPython (tests/test_protocol_fuzz.py).
    rng = random.Random(20261122) if hasattr(random, "Random") else random
    if rng is random:
        random.seed(20261122)
    docs = golden.load("valid")
    for i in range(400):
        doc = docs[i % len(docs)]
        msg = json.loads(json.dumps(doc["payload"]))
        target = msg
        if "data" in msg and rng.getrandbits(1):
            target = msg["data"]
        keys = sorted(target)
        key = keys[rng.getrandbits(8) % len(keys)]
        if rng.getrandbits(2) == 0:
            del target[key]
        else:
            target[key] = _random_value(rng)
        try:
            codec.decode(doc["topic"], codec.encode(msg))
        except ProtocolError as e:
            assert e.code and e.detail


def test_plainly_storable_passes_only_what_check_storable_accepts():
    """The ingest skips the walk of check_storable for payloads whose bytes show nothing it could refuse:
    every such payload must be one the walk accepts (and every golden one the walk refuses is not such)."""
    from protocol import schema

    texts = ["plain", "caf\u00e9", "\u00e9\u00e9", "a\x00b", "\ud800", "\ud83d\ude00", "\u202e", '"\\']
    payloads = [golden.payload_bytes(doc) for doc in golden.load("valid") + golden.load("invalid")]
    for text in texts:
        for nested in (text, [text], {"k": [[{"x": text}]]}, [[[[[[text]]]]]], [[[[[[[text]]]]]]]):
            doc = {"v": 1, "data": nested}
            for encode in (lambda: json.dumps(doc), lambda: json.dumps(doc, ensure_ascii=False)):
                try:
                    payloads.append(encode().encode())
                except (TypeError, UnicodeError):  # MicroPython: no ensure_ascii; a lone surrogate unencodable
                    pass
    plain = 0
    for payload in payloads:
        if not schema.plainly_storable(payload):
            continue
        try:
            msg = json.loads(payload)
        except ValueError:  # not JSON: the codec refuses it before any of this
            continue
        plain += 1
        schema.check_storable(msg)  # raises if the shortcut let something through
    assert plain >= 10, plain
