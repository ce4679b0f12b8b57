"""A hostile broker: malformed packets, truncated frames, huge remaining lengths. The terminal's link
(real firmware from .mpy, in a 128 KB heap) must reconnect every time, never crash or run out of memory,
and deliver everything once a well-behaved server answers."""

import asyncio
import json
import struct
import subprocess
import threading
import time

import pytest

from protocol import codec, command, topics
from tests.firmware_helpers import events
from tests.mqtt_helpers import Collector
from tools import mosquitto, terminal, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

CONNACK = b"\x20\x02\x00\x00"

# What the server does on its Nth connection; after the list it behaves like a minimal broker.
HOSTILE = [
    ("garbage instead of CONNACK", b"\xff\xff\xff\xff\xff\xff", True),
    ("connection refused, bad credentials", b"\x20\x02\x00\x05", True),
    ("CONNACK of the wrong size", b"\x20\x05\x00\x00\x00\x00\x00", True),
    ("PUBLISH claiming 268 MB", CONNACK + b"\x30\xff\xff\xff\x7f" + b"x" * 64, False),
    ("remaining length of 5 bytes", CONNACK + b"\x30\xff\xff\xff\xff\x01", False),
    ("truncated frame, then silence", CONNACK + b"\x30\x40\x00\x05pos/v", False),
    ("unknown packet type", CONNACK + b"\xf0\x00", False),
    ("PUBLISH shorter than its topic", CONNACK + b"\x32\x04\x00\x30ab", False),
    ("PUBACK of the wrong size", CONNACK + b"\x40\x03\x00\x01\x00", False),
    ("closed at once", b"", True),
]


class HostileBroker:
    def __init__(self, hostile: list[tuple[str, bytes, bool]] = HOSTILE, after_suback: bytes = b"") -> None:
        self.hostile = hostile
        self.after_suback = after_suback  # what the broker sends once it granted a subscription
        self.acks: list[bytes] = []
        self.port = mosquitto.free_port()
        self.connections = 0
        self.published: list[bytes] = []
        self.ready = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self.thread.start()
        assert self.ready.wait(5)

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.ready.set()
        await self.stopping.wait()
        server.close()
        # asyncio.run then cancels the connections still open and waits for them to finish.

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = self.connections
        self.connections += 1
        try:
            if n < len(self.hostile):
                _name, reply, close = self.hostile[n]
                await reader.read(1024)  # the CONNECT
                writer.write(reply)
                await writer.drain()
                if not close:
                    await asyncio.sleep(30)  # say nothing more: the client must give up by itself
                return
            await self._behave(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _behave(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            first = (await reader.readexactly(1))[0]
            length = shift = 0
            while True:
                byte = (await reader.readexactly(1))[0]
                length |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
            body = await reader.readexactly(length)
            kind = first & 0xF0
            if kind == 0x10:
                writer.write(CONNACK)
            elif kind == 0x30:
                size = struct.unpack_from("!H", body)[0]
                topic = body[2 : 2 + size]
                qos = (first >> 1) & 3
                if topic.endswith(b"/event"):
                    self.published.append(body[2 + size + (2 if qos else 0) :])
                elif topic.endswith(b"/ack"):
                    self.acks.append(body[2 + size + (2 if qos else 0) :])
                if qos:
                    writer.write(b"\x40\x02" + body[2 + size : 4 + size])
            elif kind == 0x80:
                writer.write(b"\x90\x03" + body[:2] + b"\x01" + self.after_suback)
            elif kind == 0xC0:
                writer.write(b"\xd0\x00")
            elif kind == 0xE0:
                return
            await writer.drain()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(10)


def test_hostile_broker_makes_the_link_reconnect_never_crash(tmp_path, firmware_mpy):
    broker = HostileBroker()
    try:
        cfg = {"keepalive_s": 2, "reconnect_max_s": 1, "heartbeat_s": 1}
        dev = vterm.provision(tmp_path / "t", f"mqtt://127.0.0.1:{broker.port}", 8, 0, cfg)
        script = dev / "script.txt"
        script.write_text("1A B 1# 2A B 1#")
        argv, env = terminal.command(dev, script, clock=None, code=firmware_mpy, heap="128K", drain_timeout=120)
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out, _ = proc.communicate(timeout=150)
        text = out.decode()
        assert proc.returncode == 0, text[-3000:]
        assert "Traceback" not in text and "MemoryError" not in text, text[-3000:]
        assert broker.connections > len(HOSTILE)
        journaled = {e["seq"] for e in events(dev)}
        delivered = {json.loads(p)["seq"] for p in broker.published}
        assert delivered == journaled
    finally:
        broker.stop()


def _publish(topic: str, payload: bytes, pid: int) -> bytes:
    body = struct.pack("!H", len(topic)) + topic.encode() + struct.pack("!H", pid) + payload
    return (
        bytes((0x33, len(body))) + body
        if len(body) < 128
        else bytes((0x33, len(body) & 0x7F | 0x80, len(body) >> 7)) + body
    )


def test_a_command_on_another_terminals_topic_is_ignored_and_counted(tmp_path):
    """#15 finding 6: the firmware checked the topic's kind, not its serial, so a (retained) lock on another
    terminal's cmd topic locked this one, which acked it as its own."""
    other = "VT-0009-0099"
    lock = command.build(other, 1795000000, "lock-other", command.LOCK, {"reason": "not yours"})
    ping = command.build(vterm.serial_for(9, 0), 1795000000, "ping-own", command.PING)
    misrouted = _publish(topics.topic(other, topics.CMD), codec.encode(lock), 1)
    own = _publish(topics.topic(ping["serial"], topics.CMD), codec.encode(ping), 2)
    broker = HostileBroker(hostile=[], after_suback=misrouted + own)
    try:
        dev = vterm.provision(tmp_path / "t", f"mqtt://127.0.0.1:{broker.port}", 9, 0, {"heartbeat_s": 1})
        proc = vterm.start(dev, "1A B 1#\n!sleep=2000\n2A B 1#\n", drain_timeout=60)
        out, _ = proc.communicate(timeout=90)
        assert proc.returncode == 0, out.decode()[-3000:]
        acked = [json.loads(a)["id"] for a in broker.acks]
        assert "ping-own" in acked and "lock-other" not in acked, acked
        assert not any("TERKUNCI" in line for line in terminal.display(dev))
        assert len([e for e in events(dev) if e["type"] == "sale"]) == 2  # the second sale was not locked out
    finally:
        broker.stop()


def test_a_connection_dropped_at_every_publish_backs_off_instead_of_reconnecting_each_second(tmp_path):
    """#15 finding 7: a record over the broker's packet limit made the broker drop the connection at every
    try, and the backoff reset to 1 s at each CONNACK: 41 hellos in 48 s. It resets only once a connection
    proved itself now (stayed up, or the broker took a record)."""
    with mosquitto.Mosquitto(tmp_path / "broker", extra=("max_packet_size 2048",)) as broker:
        hellos = Collector(broker.port, topics=("pos/v1/+/hello",))
        names = " ".join(f"{n}#" for n in range(1000, 1040))  # 40 typed-price lines: a 2.3 KB sale
        dev = vterm.provision(tmp_path / "t", broker.url, 10, 0, {"heartbeat_s": 60, "reconnect_max_s": 60})
        proc = vterm.start(dev, names + " B 1#\n", stay=True)
        try:
            time.sleep(20)
        finally:
            proc.kill()
            proc.wait()
        hellos.stop()
        count = len(hellos.of_kind("hello"))
        assert 2 <= count <= 6, f"{count} connections in 20 s"
