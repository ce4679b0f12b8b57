"""Terminals' requests (`req`) that need the fleet while the cashier waits: the PayLater steps (P4) and
the refund of an earlier day's sale (RF5, answered from the balance's ledger).

One paho client in the service subscribes to every terminal's `req` topic (a shared subscription on an
MQTT v5 broker). Each request is decoded by the protocol, run by `paylater.answer_terminal`, and answered
with a `paylater` command through the command queue (the dispatcher sends it within its tick, and the
terminal acks it). A malformed request, or one from an unregistered serial, is counted and dropped; a
failure while answering is counted and logged and never stops the consumer. Requests are not durable:
one the service never saw times out at the terminal, and the cashier asks again. A service without a
payment gateway still answers, at once, that PayLater is not available, rather than leave the cashier
waiting for a timeout.
"""

import asyncio
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt

from fleet.broker import BrokerAddress, paho_client
from fleet.commands import service as commands
from fleet.devices.models import Device
from fleet.payments import paylater, refunds
from fleet.payments.gateway import Acquirer
from protocol import codec, command, request, topics
from protocol.errors import ProtocolError

log = logging.getLogger("fleet.requests")
ANSWER_TTL = timedelta(minutes=2)  # the terminal gives up waiting well before this


def _now() -> datetime:
    return datetime.now(UTC)


class TerminalRequests:
    def __init__(
        self, broker: BrokerAddress, acquirer: Acquirer | None, secret: str, clock: Callable[[], datetime] = _now
    ) -> None:
        self.broker = broker
        self.acquirer = acquirer
        self.secret = secret
        self.clock = clock
        self.counters: Counter[str] = Counter()
        self.subscribed = threading.Event()
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=10_000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.client = paho_client(broker, f"fleet-requests-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 5)

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        kind = topics.REQ
        name = topics.shared_subscription("fleet-requests", kind) if self.broker.v5 else topics.subscription(kind)
        client.subscribe(name, 1)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._put, msg.topic, bytes(msg.payload))

    def _put(self, topic: str, payload: bytes) -> None:
        try:
            self._queue.put_nowait((topic, payload))
        except asyncio.QueueFull:
            self.counters["dropped.backlog"] += 1

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        try:
            while not stop.is_set():
                try:
                    topic, payload = await asyncio.wait_for(self._queue.get(), 0.5)
                except TimeoutError:
                    continue
                try:
                    await self.handle(topic, payload)
                except Exception:  # the gateway or the database is away: this request goes unanswered
                    self.counters["failed"] += 1
                    log.exception("request on %s failed", topic)
        finally:
            self.client.loop_stop()
            self.client.disconnect()

    async def handle(self, topic: str, payload: bytes) -> None:
        try:
            serial, _kind, msg = codec.decode(topic, payload)
        except ProtocolError as e:
            self.counters[f"malformed.{e.code}"] += 1
            log.warning("malformed request on %s: %s (%s)", topic, e, e.code)
            return
        device = await Device.get_or_none(serial=serial)
        if device is None:
            self.counters["unregistered"] += 1
            return
        now = self.clock()
        if msg["req"] == request.REFUND:  # the ledger's, not the gateway's: answered with or without one
            await commands.enqueue(
                device,
                command.REFUND_ANSWER,
                args=await refunds.answer_terminal(device, msg["args"]),
                requested_by="refunds",
                now=now,
                ttl=ANSWER_TTL,
            )
            self.counters["answered.refund"] += 1
            return
        if self.acquirer is None:
            answer = paylater.unavailable(msg)
            self.counters["answered.unavailable"] += 1
        else:
            answer = await paylater.answer_terminal(self.acquirer, self.secret, device, msg, now)
            self.counters[f"answered.{msg['req']}"] += 1
        if answer is not None:
            await commands.enqueue(
                device, command.PAYLATER, args=answer, requested_by="paylater", now=now, ttl=ANSWER_TTL
            )
