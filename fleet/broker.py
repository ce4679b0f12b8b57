"""Where the fleet's MQTT broker is: an external one (Mosquitto, EMQX) from FLEET_BROKER_URL, or, by
default, an in-process broker (amqtt) the service starts itself on 127.0.0.1:1883, or on a free port
when 1883 is taken (FLEET_BROKER_PORT), where the fleet's own connections log in (fleet.embedded_broker).

amqtt speaks MQTT 3.1.1 only, so against it the ingest runs one worker on plain subscriptions; against
an external broker the workers use MQTT v5 shared subscriptions and split the load.
"""

import asyncio
import hashlib
import hmac
import logging
import secrets
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger("fleet.broker")

# How many QoS 1 messages the broker may have in flight to one ingest worker, unacknowledged: the worker
# acknowledges a batch only after its commit, so the window must hold the batch being stored and the next
# one arriving meanwhile. The worker asks for it as its MQTT v5 Receive Maximum; Mosquitto's own
# max_inflight_messages (which bounds MQTT 3.1.1 sessions) is set to the same.
RECEIVE_MAXIMUM = 1000
# The queue and window settings of the fleet's Mosquitto (`fleet mosquitto-config`, the test brokers). By
# default Mosquitto drops QoS 1 messages beyond 1000 queued for one session: a burst of sales ahead of a
# slower (or restarting) ingest worker would be lost, so the queue is deep.
QUEUE_SETTINGS = ("max_queued_messages 1000000", f"max_inflight_messages {RECEIVE_MAXIMUM}")


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    v5: bool = True  # MQTT v5 with shared subscriptions; False for a 3.1.1-only broker

    @classmethod
    def parse(cls, url: str, v5: bool = True) -> "BrokerAddress":
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "mqtt" or not parsed.hostname:
            raise ValueError(f"a broker URL looks like mqtt://[user:password@]host:port, not {url!r}")
        return cls(
            parsed.hostname,
            parsed.port or 1883,
            urllib.parse.unquote(parsed.username) if parsed.username else None,
            urllib.parse.unquote(parsed.password) if parsed.password else None,
            v5,
        )

    @property
    def url(self) -> str:
        """The URL with its credentials, for a child process (never printed: see `public_url`)."""
        auth = ""
        if self.username:
            auth = urllib.parse.quote(self.username, safe="")
            if self.password:
                auth += ":" + urllib.parse.quote(self.password, safe="")
            auth += "@"
        return f"mqtt://{auth}{self.host}:{self.port}"

    @property
    def public_url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


def fleet_client_id(secret: str, purpose: str) -> str:
    """The fleet's client id for `purpose` ("ingest-fleet-1", "dispatcher", ...): stable across restarts
    (a persistent session is found again under it) and unguessable without `secret`."""
    tag = hmac.new(secret.encode(), b"mqtt-client-id/" + purpose.encode(), hashlib.sha256).hexdigest()[:20]
    return f"fleet-{purpose}-{tag}"


def paho_client(broker: BrokerAddress, client_id: str, **options: Any) -> mqtt.Client:
    """A paho client for the fleet's own connections to `broker`: its protocol and its credentials."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if broker.v5 else mqtt.MQTTv311,
        **options,
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    return client


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def port_or_free(host: str, wanted: int) -> int:
    """`wanted` when it can be bound, else a free port (0 asks for a free one)."""
    if wanted:
        with socket.socket() as s:
            try:
                s.bind((host, wanted))
                return wanted
            except OSError:
                pass
    return free_port(host)


class InProcessBroker:
    """An amqtt broker in this process's event loop, on loopback only; the fleet's own user has a password
    made for this run, and a message in flight to a client that dies is kept for it (fleet.embedded_broker)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port_or_free(host, port)
        self.username = "fleet"
        self.password = secrets.token_urlsafe(24)
        self._broker: Any = None

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress(self.host, self.port, self.username, self.password, v5=False)

    async def start(self) -> "InProcessBroker":
        from amqtt.broker import Broker  # type: ignore[import-untyped]

        from fleet import embedded_broker

        embedded_broker.keep_unacknowledged()

        for name in ("amqtt", "transitions"):  # amqtt logs every connection at INFO
            logging.getLogger(name).setLevel(logging.WARNING)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "fleet.embedded_broker.FleetAuthPlugin": {
                    "fleet_username": self.username,
                    "fleet_password": self.password,
                }
            },
        }
        self._broker = Broker(config)
        await self._broker.start()
        log.info("in-process MQTT broker on %s", self.address.public_url)
        return self

    async def stop(self) -> None:
        if self._broker is not None:
            try:
                await asyncio.wait_for(self._broker.shutdown(), 5)
            except Exception:  # a broker that will not stop must not keep the service from exiting
                log.exception("in-process broker did not shut down cleanly")
            self._broker = None
