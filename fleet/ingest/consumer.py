"""A lean asyncio MQTT consumer: QoS 1 subscriptions whose messages are acknowledged when the caller says.

The ingest's one job on the wire is to take a backlog as fast as the broker hands it out and acknowledge
each message only after its batch is committed. A general client (paho-mqtt) does that on a thread of its
own with three or four system calls per message (a `select`, the fixed header, the length, the body) and
one more per acknowledgement, each of them a GIL handover with the worker's event loop; the profile of a
draining worker showed that thread taking as many samples as all the storing. This client runs in the
worker's event loop, reads whatever the socket holds at once, parses every complete packet in it, and
writes a batch's acknowledgements as one write.

It speaks what the ingest needs and no more: CONNECT (MQTT v5 with a session expiry and a Receive
Maximum, or 3.1.1 for a broker without v5), SUBSCRIBE at QoS 1, PUBLISH at QoS 0 and 1 in, PUBACK out,
keepalive pings, DISCONNECT, and reconnecting with backoff. The broker never sends QoS 2 (the
subscriptions ask for 1) nor topic aliases (none are allowed in CONNECT).
"""

import asyncio
import logging
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("fleet.ingest")

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK = 0x10, 0x20, 0x30, 0x40, 0x82, 0x90
PINGREQ, PINGRESP, DISCONNECT = 0xC0, 0xD0, 0xE0
PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"
_SESSION_EXPIRY, _RECEIVE_MAXIMUM = 0x11, 0x21  # MQTT v5 property identifiers

# on_message(topic, payload, packet id, qos): called in the event loop for every PUBLISH; must not raise.
OnMessage = Callable[[str, bytes, int, int], None]


class RefusedError(ConnectionError):
    """The broker refused the connection or a subscription (bad credentials, an ACL)."""


def varint(n: int) -> bytes:
    """MQTT's variable byte integer (remaining lengths, property lengths)."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def text(data: bytes) -> bytes:
    """A length-prefixed string or binary field."""
    return struct.pack("!H", len(data)) + data


def packet(kind: int, body: bytes) -> bytes:
    """A control packet: its first byte, the remaining length, the body."""
    return bytes((kind,)) + varint(len(body)) + body


def connect_packet(
    client_id: str,
    keepalive: int,
    username: str | None,
    password: str | None,
    *,
    v5: bool,
    session_expiry: int,
    receive_maximum: int,
) -> bytes:
    """CONNECT keeping the session (its subscriptions and queued messages) across a reconnect."""
    flags = 0x00  # not a clean start: the broker keeps what was queued while we were away
    payload = text(client_id.encode())
    if username:
        flags |= 0x80
        payload += text(username.encode())
        if password:
            flags |= 0x40
            payload += text(password.encode())
    head = text(b"MQTT") + bytes((5 if v5 else 4, flags)) + struct.pack("!H", keepalive)
    if v5:
        props = bytes((_SESSION_EXPIRY,)) + struct.pack("!I", session_expiry)
        props += bytes((_RECEIVE_MAXIMUM,)) + struct.pack("!H", receive_maximum)
        head += varint(len(props)) + props
    return packet(CONNECT, head + payload)


def subscribe_packet(packet_id: int, filters: list[str], *, v5: bool) -> bytes:
    body = struct.pack("!H", packet_id) + (b"\x00" if v5 else b"")
    for topic_filter in filters:
        body += text(topic_filter.encode()) + b"\x01"  # QoS 1; v5's other option bits 0
    return packet(SUBSCRIBE, body)


def puback_packets(packet_ids: list[int]) -> bytes:
    """PUBACKs for these packet ids, back to back (a two-byte PUBACK means success in v5 too)."""
    return b"".join(b"\x40\x02" + struct.pack("!H", pid) for pid in packet_ids)


def _skip_properties(body: bytes, at: int) -> int:
    length, shift = 0, 0
    while True:
        byte = body[at]
        at += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return at + length
        shift += 7


class _Wire(asyncio.Protocol):
    """Splits the byte stream into packets for the consumer."""

    def __init__(self, consumer: "Consumer") -> None:
        self.consumer = consumer
        self.buffer = bytearray()
        self.closed: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        size, pos = len(buf), 0
        handle = self.consumer._packet
        while size - pos >= 2:
            length, shift, at, whole = 0, 0, pos + 1, False
            while at < size:
                byte = buf[at]
                at += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    whole = True
                    break
                shift += 7
                if shift > 21:
                    self._fail(ConnectionError("malformed remaining length from the broker"))
                    return
            if not whole:
                break  # the length itself is not all here yet
            end = at + length
            if end > size:
                break
            first = buf[pos]
            body = bytes(buf[at:end])
            pos = end
            try:
                handle(first, body)
            except Exception as e:  # a packet we cannot read: the connection is not trustworthy any more
                self._fail(ConnectionError(f"unreadable packet 0x{first:02x} from the broker: {e!r}"))
                return
        if pos:
            del buf[:pos]

    def _fail(self, error: Exception) -> None:
        self.consumer.counters["mqtt.protocol_error"] += 1
        log.error("%s", error)
        if self.consumer.transport is not None:
            self.consumer.transport.abort()
        if not self.closed.done():
            self.closed.set_result(error)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)


class Consumer:
    """One MQTT session consuming `filters` at QoS 1; `ack` acknowledges, in the caller's own time."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        filters: list[str],
        on_message: OnMessage,
        counters: Any,
        username: str | None = None,
        password: str | None = None,
        v5: bool = True,
        keepalive: int = 30,
        session_expiry: int = 3600,
        receive_maximum: int = 1000,
    ) -> None:
        self.host, self.port = host, port
        self.client_id, self.filters, self.on_message = client_id, filters, on_message
        self.counters = counters
        self.username, self.password = username, password
        self.v5, self.keepalive = v5, keepalive
        self.session_expiry, self.receive_maximum = session_expiry, receive_maximum
        # threading.Events so that a caller on another thread may wait for them too
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker granted every subscription: nothing is missed now
        self.connected_at: float | None = None  # wall-clock time of the last connection
        self.transport: asyncio.Transport | None = None
        self._connack: asyncio.Future[int] | None = None
        self._suback: asyncio.Future[bytes] | None = None
        self._last_heard = 0.0

    # -- packets in (called by _Wire) --------------------------------------------------------------------

    def _packet(self, first: int, body: bytes) -> None:
        kind = first & 0xF0
        self._last_heard = asyncio.get_running_loop().time()
        if kind == PUBLISH:
            qos = (first >> 1) & 3
            n = (body[0] << 8) | body[1]
            at = 2 + n
            topic_bytes = body[2:at]
            mid = 0
            if qos:
                mid = (body[at] << 8) | body[at + 1]
                at += 2
            if self.v5:
                at = _skip_properties(body, at)
            try:
                topic = topic_bytes.decode()
            except UnicodeDecodeError:  # not UTF-8: the codec refuses the topic, and it is quarantined
                topic = topic_bytes.decode("utf-8", "replace")
            self.on_message(topic, body[at:], mid, qos)
        elif kind == CONNACK:
            if self._connack is not None and not self._connack.done():
                self._connack.set_result(body[1])
        elif kind == SUBACK:
            if self._suback is not None and not self._suback.done():
                at = _skip_properties(body, 2) if self.v5 else 2
                self._suback.set_result(body[at:])
        elif kind == DISCONNECT:  # v5: the broker says why it closes
            reason = body[0] if body else 0
            log.warning("the broker disconnected the ingest (reason 0x%02x)", reason)
            if self.transport is not None:
                self.transport.close()
        # PINGRESP and anything else: heard, nothing to do

    # -- packets out -------------------------------------------------------------------------------------

    def ack(self, packet_ids: list[int]) -> None:
        """Acknowledge these QoS 1 messages in one write. Disconnected, nothing is sent: the broker
        delivers them again on the next connection (and the ingest drops what it already stored)."""
        if packet_ids and self.transport is not None and not self.transport.is_closing():
            self.transport.write(puback_packets(packet_ids))

    # -- the session -------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until `stop` is set, reconnecting with backoff; then disconnect cleanly."""
        delay = 0.1
        while not stop.is_set():
            try:
                await self._session(stop)
                delay = 0.1
            except RefusedError as e:
                log.error("%s", e)
                delay = max(delay, 2.0)
            except (OSError, ConnectionError, TimeoutError) as e:
                log.warning("broker connection: %r; reconnecting in %.1f s", e, delay)
            self.connected.clear()
            self.subscribed.clear()
            if stop.is_set():
                break
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, 5.0)

    async def _session(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        transport, wire = await asyncio.wait_for(
            loop.create_connection(lambda: _Wire(self), self.host, self.port), self.keepalive
        )
        self.transport = transport
        try:
            self._last_heard = loop.time()
            self._connack = loop.create_future()
            transport.write(
                connect_packet(
                    self.client_id,
                    self.keepalive,
                    self.username,
                    self.password,
                    v5=self.v5,
                    session_expiry=self.session_expiry,
                    receive_maximum=self.receive_maximum,
                )
            )
            code = await self._answer(self._connack, wire)
            if code:
                raise RefusedError(f"the broker refused the ingest's connection (reason 0x{code:02x})")
            self.connected_at = time.time()
            self.connected.set()
            self._suback = loop.create_future()
            transport.write(subscribe_packet(1, self.filters, v5=self.v5))
            granted = await self._answer(self._suback, wire)
            refused = [f for f, code in zip(self.filters, granted, strict=False) if code >= 0x80]
            if refused or len(granted) != len(self.filters):
                raise RefusedError(f"the broker refused the ingest's subscriptions {refused or self.filters}")
            self.subscribed.set()
            stopping = asyncio.create_task(stop.wait())
            try:
                while True:
                    waiting: set[asyncio.Future[Any]] = {wire.closed, stopping}
                    done, _ = await asyncio.wait(
                        waiting, timeout=self.keepalive / 2, return_when=asyncio.FIRST_COMPLETED
                    )
                    if wire.closed in done:
                        error = wire.closed.result()
                        raise error if error is not None else ConnectionError("the broker closed the connection")
                    if stopping in done:
                        transport.write(DISCONNECT_PACKET)  # the session stays: unacked messages come again
                        return
                    if loop.time() - self._last_heard > self.keepalive * 1.5:
                        raise ConnectionError("the broker stopped answering pings")
                    transport.write(PINGREQ_PACKET)
            finally:
                stopping.cancel()
        finally:
            self.connected.clear()
            self.subscribed.clear()
            transport.close()
            self.transport = None

    async def _answer(self, answer: "asyncio.Future[Any]", wire: _Wire) -> Any:
        """The broker's answer, or the reason it never came."""
        waiting: set[asyncio.Future[Any]] = {answer, wire.closed}
        done, _ = await asyncio.wait(waiting, timeout=self.keepalive, return_when=asyncio.FIRST_COMPLETED)
        if answer in done:
            return answer.result()
        if wire.closed in done:
            raise wire.closed.result() or ConnectionError("the broker closed the connection")
        raise TimeoutError("the broker did not answer")
