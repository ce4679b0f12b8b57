"""An asyncio MQTT 3.1.1 client for MicroPython: QoS 0 and 1, keepalive, last will, persistent sessions.

The connection comes from `open_connection(host, port)` handed in by the board (a TLS-wrapping one for
mqtts), so the client never touches Wi-Fi or sockets itself, and nothing here blocks the till: every wait
is an await. One task, `run()`, connects and reads; the owner publishes from its own task and calls
`tick()` now and then for the keepalive, so the client costs one coroutine and no timers (a device heap
is small). QoS 1 publishes are tracked by packet id; a PUBACK that does not come within `ack_timeout`
means the connection is dead: it is dropped and the caller republishes with DUP after reconnecting.
Anything malformed from the broker (bad lengths, huge remaining length, unknown packet, truncated frame
that stalls) ends the connection; `run()` reconnects with exponential backoff and jitter, forever.
"""

import asyncio
import struct
import time

from micropython import const

_CONNECT = const(0x10)
_CONNACK = const(0x20)
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBSCRIBE = const(0x82)
_SUBACK = const(0x90)
_PINGREQ = const(0xC0)
_PINGRESP = const(0xD0)
_DISCONNECT = const(0xE0)
# A connection has proven itself once it stayed up this long (or its owner says so, `proven = True`, e.g.
# on the PUBACK of real work): only then does the reconnect backoff start again from 1 s. A broker that
# accepts the connection and drops it at the first publish (a packet over its limit) is then retried at
# 1, 2, 4 ... max_backoff seconds, not once a second for ever.
_PROVEN_MS = const(30000)


class MQTTError(Exception):
    pass


def _str(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(data)) + data


def _header(kind, length):
    out = bytearray((kind,))
    while True:
        byte = length & 0x7F
        length >>= 7
        out.append(byte | 0x80 if length else byte)
        if not length:
            return out


class MQTTClient:
    def __init__(
        self,
        open_connection,
        host,
        port,
        client_id,
        user=None,
        password=None,
        keepalive=30,
        will=None,
        clean=False,
        max_packet=16384,
        ack_timeout=10,
        rand=None,
        max_backoff=60,
    ):
        self.open_connection = open_connection
        self.host = host
        self.port = port
        self.client_id = client_id
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.will = will  # a callable giving (topic, payload, qos, retain) at each connect: its time may change
        self.clean = clean
        self.max_packet = max_packet
        self.ack_timeout = ack_timeout
        self.rand = rand
        self.max_backoff = max_backoff
        self.on_message = None  # callback(topic bytes, payload bytes): must not block
        self.on_puback = None  # callback(pid)
        self.connected = asyncio.Event()
        self.connects = 0
        self.proven = False  # this connection did real work (see _PROVEN_MS)
        self.errors = 0  # connections ended by an error (broker vanished, malformed packet, timeout)
        self._reader = None
        self._writer = None
        self._pid = 0
        self._unacked = {}  # pid -> ticks_ms sent
        self._last_rx = time.ticks_ms()
        self._pinged = time.ticks_ms()
        self._lock = asyncio.Lock()
        self._sub_acked = asyncio.Event()

    # -- connection lifecycle --------------------------------------------------------------------------

    async def run(self):
        """Stay connected: connect, read until the connection ends, and after any failure wait (backoff
        with jitter) and reconnect. This task is also the reader: no other task reads the socket."""
        delay = 1
        while True:
            up = None
            self.proven = False
            try:
                await self._connect()
                up = time.ticks_ms()
                self.connected.set()
                await self._read_loop()
            except asyncio.CancelledError:
                await self._close()
                raise
            except Exception:  # broker gone, refused, malformed or silent: all handled by reconnecting
                self.errors += 1
            await self._close()
            if self.proven or (up is not None and time.ticks_diff(time.ticks_ms(), up) >= _PROVEN_MS):
                delay = 1
            jitter = (self.rand(1000) if self.rand else 500) / 1000
            await asyncio.sleep(min(delay, self.max_backoff) * (0.5 + jitter))
            delay *= 2

    async def _connect(self):
        self._reader, self._writer = await asyncio.wait_for(self.open_connection(self.host, self.port), 10)
        flags = 0 if not self.clean else 0x02
        payload = _str(self.client_id)
        will = self.will() if self.will else None
        if will:
            topic, message, qos, retain = will
            flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
            payload += _str(topic) + _str(message)
        if self.user is not None:
            flags |= 0x80
            payload += _str(self.user)
        if self.password is not None:
            flags |= 0x40
            payload += _str(self.password)
        body = b"\x00\x04MQTT\x04" + bytes((flags,)) + struct.pack("!H", self.keepalive) + payload
        await self._send(_header(_CONNECT, len(body)) + body)
        kind, data = await asyncio.wait_for(self._read_packet(), 10)  # type: int, bytes
        if kind != _CONNACK or len(data) != 2:
            raise MQTTError("expected CONNACK")
        if data[1] != 0:
            raise MQTTError("connection refused, code %d" % data[1])
        self._unacked = {}
        self._pinged = time.ticks_ms()
        self.connects += 1
        return data[0] & 1

    async def _read_loop(self):
        while True:
            kind, data = await self._read_packet()
            self._dispatch(kind, data)

    async def tick(self):
        """Keepalive, called by the owner every second or so (the client runs no timer task of its own):
        a PINGREQ every half keepalive; a broker silent for 1.5 keepalives, or a PUBACK overdue by
        `ack_timeout`, means the connection is dead, and it is closed (run() then reconnects)."""
        if self._writer is None:
            return
        now = time.ticks_ms()
        dead = time.ticks_diff(now, self._last_rx) > self.keepalive * 1500
        for sent in self._unacked.values():
            if time.ticks_diff(now, sent) > self.ack_timeout * 1000:
                dead = True
        if dead:
            await self._close()
        elif time.ticks_diff(now, self._pinged) >= self.keepalive * 500:
            self._pinged = now
            await self._send(b"\xc0\x00")

    async def _close(self):
        self.connected.clear()
        self._sub_acked.set()  # wake a subscribe waiting on this connection: it sees it is gone
        writer = self._writer
        self._writer = None
        self._reader = None
        if writer is not None:
            try:
                writer.close()
                await writer.wait_closed()
            except Exception:
                pass

    async def disconnect(self):
        """Leave cleanly (the broker then does not publish the last will)."""
        if self._writer is not None:
            try:
                await self._send(b"\xe0\x00")
            except Exception:
                pass
        await self._close()

    # -- reading ---------------------------------------------------------------------------------------

    async def _read_packet(self):
        reader = self._reader
        if reader is None:
            raise MQTTError("not connected")
        first = (await reader.readexactly(1))[0]
        length = 0
        shift = 0
        for _ in range(4):
            byte = (await reader.readexactly(1))[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        else:
            raise MQTTError("remaining length longer than 4 bytes")
        if length > self.max_packet:
            raise MQTTError("packet of %d bytes is over the limit" % length)  # never allocate for it
        data = await reader.readexactly(length) if length else b""
        self._last_rx = time.ticks_ms()
        return first, data

    def _dispatch(self, first, data):
        kind = first & 0xF0
        if kind == _PUBLISH:
            if len(data) < 2:
                raise MQTTError("short PUBLISH")
            size = struct.unpack_from("!H", data)[0]
            qos = (first >> 1) & 3
            start = 2 + size + (2 if qos else 0)
            if qos > 1 or start > len(data):
                raise MQTTError("malformed PUBLISH")
            topic = data[2 : 2 + size]
            if qos:
                asyncio.create_task(self._send_quietly(b"\x40\x02" + data[2 + size : start]))
            if self.on_message:
                self.on_message(topic, data[start:])
        elif kind == _PUBACK:
            if len(data) != 2:
                raise MQTTError("malformed PUBACK")
            pid = struct.unpack("!H", data)[0]
            if self._unacked.pop(pid, None) is not None and self.on_puback:
                self.on_puback(pid)
        elif kind == _SUBACK:
            if len(data) < 3 or data[2] & 0x80:
                raise MQTTError("subscription refused")
            self._sub_acked.set()
        elif kind == _PINGRESP:
            pass
        else:
            raise MQTTError("unexpected packet type 0x%02x" % first)

    # -- writing ---------------------------------------------------------------------------------------

    async def _send(self, data, more=None):
        writer = self._writer
        if writer is None:
            raise MQTTError("not connected")
        async with self._lock:  # one packet at a time on the wire
            writer.write(data)
            if more is not None:
                writer.write(more)  # the payload as it is: no concatenated copy of it
            await writer.drain()

    async def _send_quietly(self, data):
        try:
            await self._send(data)
        except Exception:
            pass  # the connection is gone: the broker sends the message again on the next one

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    async def publish(self, topic, payload, qos=0, retain=False, dup=False):
        """Send one PUBLISH; returns its packet id for QoS 1 (PUBACK arrives through on_puback), else 0."""
        pid = self._next_pid() if qos else 0
        body = _str(topic) + (struct.pack("!H", pid) if qos else b"")
        first = _PUBLISH | (qos << 1) | (0x08 if dup and qos else 0) | (1 if retain else 0)
        if qos:
            self._unacked[pid] = time.ticks_ms()
        await self._send(_header(first, len(body) + len(payload)) + body, payload)
        return pid

    async def subscribe(self, topic, qos=1):
        self._sub_acked.clear()
        body = struct.pack("!H", self._next_pid()) + _str(topic) + bytes((qos,))
        await self._send(_header(_SUBSCRIBE, len(body)) + body)
        await asyncio.wait_for(self._sub_acked.wait(), 10)
        if self._writer is None:
            raise MQTTError("connection lost before SUBACK")

    def inflight(self):
        return len(self._unacked)
