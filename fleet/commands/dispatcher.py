"""Sends queued commands to terminals over MQTT and retries them until acked or expired.

The queue lives in the database, so it survives a restart of the service. Every tick the dispatcher
expires what is past its time, then publishes (QoS 1) each pending command of an online device and each
sent one still unacked after `retry_after`. The terminal deduplicates by command id and answers a resent
command again, so a retry never runs anything twice. Acks come back through the ingest worker.
"""

import asyncio
import json
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt

from fleet.broker import BrokerAddress, paho_client
from fleet.commands import service
from protocol import topics

log = logging.getLogger("fleet.commands")


def _now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(
        self,
        broker: BrokerAddress,
        *,
        retry_after: timedelta = timedelta(seconds=30),
        tick: float = 0.5,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.retry_after = retry_after
        self.tick = tick
        self.clock = clock
        self.counters: Counter[str] = Counter()
        self.connected = threading.Event()
        self.client = paho_client(broker, f"fleet-commands-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = lambda *args: self.connected.set()
        self.client.on_disconnect = lambda *args: self.connected.clear()
        self.client.reconnect_delay_set(1, 5)
        self.broker = broker

    async def run(self, stop: asyncio.Event) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        try:
            while not stop.is_set():
                try:
                    await self.step()
                except Exception:  # a database hiccup must not end the dispatcher; the next tick retries
                    log.exception("command dispatch failed; retrying")
                    self.counters["errors"] += 1
                try:
                    await asyncio.wait_for(stop.wait(), self.tick)
                except TimeoutError:
                    pass
        finally:
            self.client.loop_stop()
            self.client.disconnect()

    async def step(self) -> None:
        now = self.clock()
        self.counters["expired"] += await service.expire(now)
        if not self.connected.is_set():
            return
        for cmd in await service.due(now, self.retry_after):
            serial = cmd.device.serial
            payload: dict[str, Any] = service.message(cmd, serial, now)
            info = self.client.publish(topics.topic(serial, topics.CMD), json.dumps(payload), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self.counters["publish_errors"] += 1
                continue
            await service.mark_sent(cmd, now)
            self.counters["resent" if cmd.attempts else "sent"] += 1
