"""Many light simulated terminals, each one MQTT connection, in one asyncio process.

    python -m tools.load_terminals --broker mqtt://127.0.0.1:1883 --count 10000 [--prefix LOAD] [--heartbeat 60]

Not the firmware (that is tools.vterm, a real micropython process per terminal): a minimal MQTT 3.1.1
client per terminal that does what a terminal does on the wire. It connects with its serial as client id
and its retained `offline` will, publishes its hello and its retained `online` state, then a heartbeat
(telemetry) every `--heartbeat` seconds, at QoS 1. Prints `connected N in S s` once every terminal is
connected, then a status line every 10 s, until killed: killed, every connection drops at once and the
broker publishes every will (a mass disconnect).
"""

import argparse
import asyncio
import os
import random
import resource
import struct
import sys
import time
import urllib.parse

from fleet.ingest.consumer import CONNACK, CONNECT, PUBACK, PUBLISH, packet, text
from protocol import codec, hello, state, telemetry, topics


def connect_packet(serial: str, keepalive: int, user: str | None, password: str | None, ts: int) -> bytes:
    will_topic = topics.topic(serial, topics.STATE).encode()
    will = codec.encode(state.build(serial, state.OFFLINE, ts))
    flags = 0x02 | 0x04 | (1 << 3) | 0x20  # clean session, will, will QoS 1, will retained
    payload = text(serial.encode()) + text(will_topic) + text(will)
    if user:
        flags |= 0x80
        payload += text(user.encode())
    if password:
        flags |= 0x40
        payload += text(password.encode())
    body = text(b"MQTT") + bytes((4, flags)) + struct.pack("!H", keepalive) + payload
    return packet(CONNECT, body)


def publish_packet(topic: str, payload: bytes, pid: int, retain: bool = False) -> bytes:
    return packet(PUBLISH | 0x02 | (1 if retain else 0), text(topic.encode()) + struct.pack("!H", pid) + payload)


class Terminal:
    def __init__(self, serial: str, fleet: "Load") -> None:
        self.serial = serial
        self.load = fleet
        self.pid = 0

    def _next(self) -> int:
        self.pid = self.pid % 65535 + 1
        return self.pid

    async def run(self) -> None:
        load = self.load
        reader, writer = await asyncio.open_connection(load.host, load.port)
        ts = int(time.time())
        writer.write(connect_packet(self.serial, load.heartbeat * 2, load.user, load.password, ts))
        head = await reader.readexactly(4)
        if head[0] != CONNACK or head[3] != 0:
            raise ConnectionError(f"{self.serial}: connection refused ({head.hex()})")
        load.connected += 1
        hi = hello.build(self.serial, ts, "TKM-58", "B2", "load" + self.serial[-6:], "1.4.0", "power_on", [])
        writer.write(publish_packet(topics.topic(self.serial, topics.HELLO), codec.encode(hi), self._next()))
        online = codec.encode(state.build(self.serial, state.ONLINE, ts))
        writer.write(publish_packet(topics.topic(self.serial, topics.STATE), online, self._next(), retain=True))
        reading = asyncio.create_task(self._read(reader))
        started = time.monotonic()
        try:
            await asyncio.sleep(random.uniform(0, load.heartbeat))  # heartbeats spread over the interval
            while True:
                beat = telemetry.build(
                    self.serial, int(time.time()), int(time.monotonic() - started), 60000, battery_pct=80, paper="ok"
                )
                topic = topics.topic(self.serial, topics.TELEMETRY)
                writer.write(publish_packet(topic, codec.encode(beat), self._next()))
                load.sent += 1
                await writer.drain()
                await asyncio.sleep(load.heartbeat)
        finally:
            reading.cancel()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            first = await reader.readexactly(1)
            n, shift = 0, 0
            while True:
                byte = (await reader.readexactly(1))[0]
                n |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
            await reader.readexactly(n)
            if first[0] & 0xF0 == PUBACK:
                self.load.acked += 1


class Load:
    def __init__(self, url: str, count: int, prefix: str, heartbeat: int, rate: int) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 1883
        self.user, self.password = parsed.username, parsed.password
        self.count, self.prefix, self.heartbeat, self.rate = count, prefix, heartbeat, rate
        self.connected = self.sent = self.acked = self.failed = 0

    def serial(self, i: int) -> str:
        return f"{self.prefix}-{i:06d}"

    async def _one(self, i: int) -> None:
        try:
            await Terminal(self.serial(i), self).run()
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as e:
            self.failed += 1
            print(f"terminal {self.serial(i)} lost: {e!r}", file=sys.stderr, flush=True)

    async def run(self) -> None:
        started = time.monotonic()
        tasks = []
        for i in range(self.count):  # at `rate` connections a second, as a fleet coming back would
            tasks.append(asyncio.create_task(self._one(i)))
            if (i + 1) % max(1, self.rate // 20) == 0:
                await asyncio.sleep(0.05)
        while self.connected + self.failed < self.count:
            await asyncio.sleep(0.05)
        print(f"connected {self.connected} in {time.monotonic() - started:.1f} s (failed {self.failed})", flush=True)
        while True:
            await asyncio.sleep(10)
            print(f"alive {self.connected - self.failed} heartbeats {self.sent} acked {self.acked}", flush=True)


def raise_open_files() -> None:
    """A connection is a file descriptor: ask for as many as the hard limit allows."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.load_terminals", description=__doc__.split("\n")[0])
    parser.add_argument("--broker", default=os.environ.get("FLEET_BROKER_URL", "mqtt://127.0.0.1:1883"))
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--prefix", default="LOAD")
    parser.add_argument("--heartbeat", type=int, default=60, help="seconds between heartbeats")
    parser.add_argument("--rate", type=int, default=2000, help="new connections a second")
    args = parser.parse_args(argv)
    raise_open_files()
    asyncio.run(Load(args.broker, args.count, args.prefix, args.heartbeat, args.rate).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
