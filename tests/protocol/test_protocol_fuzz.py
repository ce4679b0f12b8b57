"""Hypothesis against every decoder and validator: random bytes and mutated golden examples.

Whatever comes in, the answer is the message or a ProtocolError (ValueError for QRIS) with a reason:
never another exception.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import golden
from protocol import codec, qris, topics
from protocol.errors import ProtocolError

VALID = golden.load("valid")
SERIAL = "TKM-58-000123"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


def decode_or_refuse(topic: bytes | str, payload: bytes | str) -> None:
    try:
        serial, kind, msg = codec.decode(topic, payload)
    except ProtocolError as e:
        assert e.code and e.detail
    else:
        assert isinstance(msg, dict) and msg["serial"] == serial and kind in topics.KINDS


@FUZZ
@given(kind=st.sampled_from(sorted(topics.KINDS)), payload=st.binary(max_size=600))
def test_random_bytes_are_refused_cleanly(kind, payload):
    decode_or_refuse(topics.topic(SERIAL, kind), payload)


@FUZZ
@given(topic=st.binary(max_size=80) | st.text(max_size=80), payload=st.binary(max_size=50))
def test_random_topics_are_refused_cleanly(topic, payload):
    decode_or_refuse(topic, payload)


@FUZZ
@given(kind=st.sampled_from(sorted(topics.KINDS)), value=json_values)
def test_random_json_documents_are_refused_cleanly(kind, value):
    decode_or_refuse(topics.topic(SERIAL, kind), json.dumps(value))


@st.composite
def mutated_example(draw):
    doc = draw(st.sampled_from(VALID))
    msg = json.loads(json.dumps(doc["payload"]))
    for _ in range(draw(st.integers(1, 4))):
        target = msg["data"] if isinstance(msg.get("data"), dict) and draw(st.booleans()) else msg
        items = target.get("items")
        if isinstance(items, list) and items and isinstance(items[0], dict) and draw(st.booleans()):
            target = items[0]
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        keys = sorted(target)
        if action == "add" or not keys:
            target[draw(st.text(max_size=8))] = draw(json_values)
        elif action == "delete":
            del target[draw(st.sampled_from(keys))]
        else:
            target[draw(st.sampled_from(keys))] = draw(json_values)
    return doc["topic"], msg


@FUZZ
@given(case=mutated_example())
def test_mutated_golden_examples_are_accepted_or_refused_with_a_reason(case):
    topic, msg = case
    decode_or_refuse(topic, json.dumps(msg))


@FUZZ
@given(doc=st.sampled_from(VALID), data=st.data())
def test_byte_level_damage_to_golden_examples_is_refused_cleanly(doc, data):
    raw = bytearray(golden.payload_bytes(doc))
    cut = data.draw(st.integers(0, len(raw)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, max(len(raw) - 1, 0)), st.integers(0, 255)), max_size=4))
    for pos, byte in flips:
        if pos < len(raw):
            raw[pos] = byte
    decode_or_refuse(doc["topic"], bytes(raw[:cut] if data.draw(st.booleans()) else raw))


@FUZZ
@given(text=st.text(max_size=200))
def test_q1_random_text_is_refused_with_value_error(text):
    try:
        qris.parse(text)
    except ValueError as e:
        assert str(e)


@FUZZ
@given(amount=st.integers(1, 10**13 - 1))
def test_q1_every_valid_amount_round_trips(amount):
    dynamic = qris.to_dynamic(golden.static_qris(), amount)
    assert qris.amount(dynamic) == amount
    assert qris.parse(dynamic)["01"] == qris.POI_DYNAMIC


@FUZZ
@given(data=st.data())
def test_q1_damaged_qris_is_refused_with_value_error(data):
    good = golden.static_qris()
    pos = data.draw(st.integers(0, len(good) - 1))
    char = data.draw(st.characters(min_codepoint=32, max_codepoint=126))
    damaged = good[:pos] + char + good[pos + 1 :]
    if damaged[:-4] == good[:-4] and damaged[-4:].upper() == good[-4:]:
        return  # same payload; the CRC's hex digits are read case-insensitively
    try:
        qris.parse(damaged)
    except ValueError as e:
        assert str(e)
    else:  # a change that keeps the CRC valid must be a different (still well-formed) payload
        raise AssertionError("damaged payload passed its CRC: " + damaged)
