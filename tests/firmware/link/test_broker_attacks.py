"""A terminal's own credentials against the broker `fleet mosquitto-config` writes (#15 findings 3 and 4).

The broker is Mosquitto with the dynamic-security plugin. With its password read off a stolen board, terminal
A tries to join the fleet's shared subscription, to take the ingest worker's client id, and to take terminal
B's: each is refused by the broker itself (SUBACK, CONNACK) while B sells 200 sales, and not one is lost.
"""

import asyncio
import csv
import getpass
import threading

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from fleet.broker import fleet_client_id
from protocol import codec, event, topics
from tests.fleet_helpers import stored_keys
from tests.fleet_server import FleetServer
from tools import mosquitto

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

ATTACKER, SELLER = "TKM-ATK-0001", "TKM-SEL-0001"
FLEET_PASSWORD = "fleet-broker-pw-" + "q" * 16
CSV = "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n" + "".join(
    f"{s},TKM-58,mpos,Toko Aman,purchased,INV-{s},2026-02-01\n" for s in (ATTACKER, SELLER)
)


class Client:
    """A paho MQTT v5 client that records how the broker answered its CONNECT and SUBSCRIBE."""

    def __init__(self, port: int, user: str, password: str, client_id: str) -> None:
        self.connack: ReasonCode | None = None
        self.subacks: list[ReasonCode] = []
        self.disconnects = 0
        self.answered = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda c, u, mid, codes, p: (self.subacks.extend(codes), self.answered.set())
        self.client.on_disconnect = lambda *a: setattr(self, "disconnects", self.disconnects + 1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.answered.wait(10), "no CONNACK"
        self.answered.clear()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode, p: object) -> None:
        self.connack = reason
        self.answered.set()

    def subscribe(self, topic: str) -> ReasonCode:
        self.client.subscribe(topic, 1)
        assert self.answered.wait(10), "no SUBACK"
        self.answered.clear()
        return self.subacks[-1]

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def sell(seller: Client, first_seq: int, count: int) -> set[str]:
    keys = set()
    infos = []
    for seq in range(first_seq, first_seq + count):
        msg = event.build(SELLER, 1795000000 + seq, "00c0ffee", seq, event.FAULT, {"code": "paper_low", "active": True})
        keys.add(event.idempotency_key(msg))
        infos.append(seller.client.publish(topics.topic(SELLER, topics.EVENT), codec.encode(msg), 1))
    for info in infos:
        info.wait_for_publish(30)
    return keys


def test_a_terminals_credentials_cannot_join_the_fleet_group_nor_take_a_client_id(tmp_path):
    url = f"sqlite://{tmp_path / 'fleet.sqlite3'}"
    port = mosquitto.free_port()
    fleet = FleetServer(tmp_path, url, f"mqtt://fleet:{FLEET_PASSWORD}@127.0.0.1:{port}")
    (tmp_path / "devices.csv").write_text(CSV)
    assert fleet.cli("import-devices", "devices.csv").returncode == 0
    assert fleet.cli("issue-credentials", "--out", "credentials.csv").returncode == 0
    passwords = {row["serial"]: row["password"] for row in csv.DictReader((tmp_path / "credentials.csv").open())}
    written = fleet.cli("mosquitto-config", "--out", "broker", "--port", str(port), "--user", getpass.getuser())
    assert written.returncode == 0, written.stderr
    config = tmp_path / "broker" / "mosquitto.conf"
    with mosquitto.Mosquitto(tmp_path / "broker", port=port, config=config), fleet:
        seller = Client(port, SELLER, passwords[SELLER], SELLER)
        assert seller.connack is not None and not seller.connack.is_failure
        keys: set[str] = set()

        # 1. The fleet's shared group: refused at SUBACK, so the broker never hands it a message.
        attacker = Client(port, ATTACKER, passwords[ATTACKER], ATTACKER)
        for topic in (topics.shared_subscription("fleet", topics.EVENT), "pos/v1/+/event", f"pos/v1/{SELLER}/cmd"):
            assert attacker.subscribe(topic).is_failure, topic
        assert not attacker.subscribe(f"pos/v1/{ATTACKER}/cmd").is_failure  # its own commands: yes
        keys |= sell(seller, 1, 200)
        attacker.stop()

        # 2. The ingest worker's client id (the old predictable one and the real one): refused at CONNACK.
        for stolen in ("fleet-ingest-fleet-1", fleet_client_id(FLEET_PASSWORD, "ingest-fleet-1")):
            thief = Client(port, ATTACKER, passwords[ATTACKER], stolen)
            assert thief.connack is not None and thief.connack.is_failure, stolen
            thief.stop()
        keys |= sell(seller, 201, 200)

        # 3. Another terminal's serial as client id: refused; the seller is never knocked offline.
        impostor = Client(port, ATTACKER, passwords[ATTACKER], SELLER)
        assert impostor.connack is not None and impostor.connack.is_failure
        impostor.stop()
        keys |= sell(seller, 401, 200)
        assert seller.disconnects == 0
        seller.stop()

        for _ in range(300):
            stored = set(asyncio.run(stored_keys(url)))
            if keys <= stored:
                break
            asyncio.run(asyncio.sleep(0.1))
        assert len(keys) == 600 and keys <= stored, f"{len(keys - stored)} of 600 sales lost"
