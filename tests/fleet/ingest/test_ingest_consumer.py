"""The ingest's own MQTT client (fleet.ingest.consumer) against a real Mosquitto: what it reads is what was
published, however the stream is cut, and only what it acknowledged is gone after a reconnect."""

import asyncio
import collections
import socket
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fleet.ingest import consumer as wire
from fleet.ingest.consumer import Consumer
from tools import mosquitto

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

# Payload sizes on both sides of each remaining-length byte boundary (1, 2 and 3 length bytes).
SIZES = (0, 1, 100, 127, 128, 5000, 16383, 16384, 100_000)


def _publish(port: int, messages: list[tuple[str, bytes]], v5_properties: bool = True) -> None:
    """Publish at QoS 1 with paho (v5, with properties the broker passes on: expiry and user properties)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="consumer-test-pub", protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for topic, payload in messages:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            if v5_properties:
                props.MessageExpiryInterval = 3600
                props.UserProperty = ("origin", "test" * 20)
            client.publish(topic, payload, 1, properties=props).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def _messages() -> list[tuple[str, bytes]]:
    return [(f"pos/v1/T-{n:04d}/event", bytes((n + i) % 256 for i in range(size))) for n, size in enumerate(SIZES)]


def _record(port: int, client_id: str, v5: bool) -> bytes:
    """What the broker sends a session of ours, byte for byte, while SIZES are published to it."""
    sock = socket.create_connection(("127.0.0.1", port))
    connect = wire.connect_packet(client_id, 30, None, None, v5=v5, session_expiry=60, receive_maximum=100)
    sock.sendall(connect + wire.subscribe_packet(1, ["pos/v1/+/event"], v5=v5))
    time.sleep(0.3)
    _publish(port, _messages())
    sock.settimeout(1.0)
    stream = b""
    try:
        while chunk := sock.recv(65536):
            stream += chunk
    except TimeoutError:
        pass
    sock.close()
    return stream


def test_every_packet_is_read_whole_however_the_broker_stream_is_cut(tmp_path):
    """#16: the consumer parses many packets per read; a packet split at any byte must come out whole, with
    v5 properties skipped and the remaining length read across its 1-, 2- and 3-byte forms."""
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        for v5 in (True, False):
            stream = _record(broker.port, f"recorder-{v5}", v5)
            for chunk in (1, 2, 3, 7, 1000, len(stream)):

                async def feed(stream: bytes = stream, chunk: int = chunk, v5: bool = v5) -> list[tuple[str, bytes]]:
                    got: list[tuple[str, bytes]] = []
                    client = Consumer(
                        "127.0.0.1",
                        broker.port,
                        client_id="unused",
                        filters=[],
                        on_message=lambda topic, payload, mid, qos: got.append((topic, payload)),
                        counters=collections.Counter(),
                        v5=v5,
                    )
                    reader = wire._Wire(client)
                    for at in range(0, len(stream), chunk):
                        reader.data_received(stream[at : at + chunk])
                    assert not reader.buffer, "bytes left over after the last packet"
                    return got

                assert asyncio.run(feed()) == _messages(), (v5, chunk)


def test_only_acknowledged_messages_are_gone_after_a_reconnect(tmp_path):
    """#16: acknowledgements are the caller's: what it never acknowledged, the broker delivers again to the
    same session (with its packet ids), and what it did acknowledge, never."""
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:

        async def session(ack_every: int) -> list[tuple[str, int]]:
            got: list[tuple[str, int, int]] = []
            client = Consumer(
                "127.0.0.1",
                broker.port,
                client_id="fleet-ingest-acks",
                filters=["pos/v1/+/event"],
                on_message=lambda topic, payload, mid, qos: got.append((topic, mid, qos)),
                counters=collections.Counter(),
            )
            stop = asyncio.Event()
            running = asyncio.create_task(client.run(stop))
            deadline = time.monotonic() + 10
            while not client.subscribed.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert client.subscribed.is_set()
            return_at = time.monotonic() + 1.0
            while time.monotonic() < return_at:
                await asyncio.sleep(0.05)
            assert all(qos == 1 for _t, _m, qos in got)
            client.ack([mid for i, (_t, mid, _q) in enumerate(got) if ack_every and i % ack_every == 0])
            await asyncio.sleep(0.2)
            stop.set()
            await running
            return [(topic, mid) for topic, mid, _qos in got]

        asyncio.run(session(ack_every=0))  # the session exists: the broker queues for it from now on
        _publish(broker.port, _messages(), v5_properties=False)
        first = asyncio.run(session(ack_every=2))  # acknowledges every other message
        assert [topic for topic, _mid in first] == [topic for topic, _p in _messages()]
        again = asyncio.run(session(ack_every=1))
        assert again == [item for i, item in enumerate(first) if i % 2], "exactly the unacknowledged, again"
        assert asyncio.run(session(ack_every=1)) == [], "acknowledged: never delivered again"
