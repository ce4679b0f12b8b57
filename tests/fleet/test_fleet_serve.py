"""`fleet serve` as it runs in production: an external Mosquitto configured by `fleet mosquitto-config`
(password file, ACL), terminals with credentials from `fleet issue-credentials`, two ingest worker
processes on a shared subscription, and the command queue, end to end through the API."""

import asyncio
import csv
import getpass
import json
import random

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fleet import db
from fleet.ingest.models import Event
from protocol import event, topics
from tests.fleet_helpers import expected_keys
from tests.fleet_server import FleetServer
from tools import mosquitto, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

SERIALS = [vterm.serial_for(41, i) for i in range(2)]
CSV = "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n" + "".join(
    f"{s},TKM-58,mpos,Toko Empat Satu,purchased,INV-{s},2026-02-01\n" for s in SERIALS
)


def connect(port: int, user: str, password: str, client_id: str | None = None) -> tuple[mqtt.Client, object]:
    """A v5 client as `user`; a terminal's client id is its serial (the broker binds it), so by default `user`."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or user, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)
    try:
        client.connect("127.0.0.1", port)
    except OSError as e:
        return client, e
    result: list[object] = []
    client.on_connect = lambda c, u, f, reason, p: result.append(reason)
    client.loop_start()
    for _ in range(100):
        if result:
            break
        asyncio.run(asyncio.sleep(0.05))
    return client, result[0] if result else None


def test_serve_with_mosquitto_config_credentials_workers_and_commands(database_url, tmp_path):
    port = mosquitto.free_port()
    fleet = FleetServer(tmp_path, database_url, f"mqtt://fleet:fleet-broker-pw@127.0.0.1:{port}", workers=2)
    (tmp_path / "devices.csv").write_text(CSV)
    assert fleet.cli("import-devices", "devices.csv").returncode == 0
    issued = fleet.cli("issue-credentials", "--out", "credentials.csv")
    assert issued.returncode == 0, issued.stderr
    passwords = {row["serial"]: row["password"] for row in csv.DictReader((tmp_path / "credentials.csv").open())}
    assert set(passwords) == set(SERIALS)
    config = fleet.cli("mosquitto-config", "--out", "broker", "--port", str(port), "--user", getpass.getuser())
    assert config.returncode == 0 and "2 terminals" in config.stdout, config.stdout + config.stderr
    assert "fleet-broker-pw" not in (tmp_path / "broker" / "dynamic-security.json").read_text()  # hashes only
    assert (tmp_path / "broker" / "dynamic-security.json").stat().st_mode & 0o077 == 0
    made = fleet.cli("create-user", "ops", "--role", "biz_support", FLEET_NEW_USER_PASSWORD="ops-password-1")
    assert made.returncode == 0, made.stderr

    with mosquitto.Mosquitto(tmp_path / "broker", port=port, config=tmp_path / "broker" / "mosquitto.conf"), fleet:
        # The broker refuses a wrong password and an unknown terminal.
        for user, password in ((SERIALS[0], "wrong"), ("VT-0041-0099", "anything")):
            client, reason = connect(port, user, password)
            assert reason is not None and getattr(reason, "is_failure", True), (user, reason)
            client.loop_stop()

        root = tmp_path / "terminals"
        devs = [
            vterm.provision(root, f"mqtt://127.0.0.1:{port}", 41, i, password=passwords[s])
            for i, s in enumerate(SERIALS)
        ]
        procs = [vterm.start(dev, vterm.sale_script(random.Random(i), 5), stay=True) for i, dev in enumerate(devs)]
        try:
            keys = asyncio.run(_wait_stored(database_url, devs))

            # Terminal 0, with its own valid password, tries to publish as terminal 1: the ACL drops it.
            client, reason = connect(port, SERIALS[0], passwords[SERIALS[0]])
            forged = event.build(
                SERIALS[1], 1_795_000_000, "f0f0f0f0", 1, "fault", {"code": "paper_out", "active": True}
            )
            own = event.build(SERIALS[0], 1_795_000_000, "f0f0f0f0", 1, "fault", {"code": "paper_out", "active": True})
            client.publish(topics.topic(SERIALS[1], topics.EVENT), json.dumps(forged), qos=1).wait_for_publish(5)
            client.publish(topics.topic(SERIALS[0], topics.EVENT), json.dumps(own), qos=1).wait_for_publish(5)
            client.loop_stop()
            client.disconnect()

            token = fleet.token("ops", "ops-password-1")
            status, cmd = fleet.request("POST", f"/devices/{SERIALS[1]}/commands", {"name": "ping"}, token)
            assert status == 202, cmd
            for _ in range(100):
                status, cmd = fleet.request("GET", f"/commands/{cmd['id']}", token=token)
                if cmd["status"] == "acked":
                    break
                asyncio.run(asyncio.sleep(0.2))
            assert cmd["status"] == "acked"
            stored = asyncio.run(_keys(database_url))
            assert event.idempotency_key(own) in stored
            assert event.idempotency_key(forged) not in stored
            assert keys <= stored and len(stored) == len(keys) + 1
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
        assert fleet.stop() in (0, -15)  # uvicorn re-raises SIGTERM after its orderly shutdown
    log = fleet.log.read_text()
    assert "Application shutdown complete" in log
    assert "ingest worker 1 subscribed and ready" in log and "ingest worker 2 subscribed and ready" in log


async def _keys(url: str) -> set[str]:
    await db.connect(url)
    try:
        return {str(k) for k in await Event.all().values_list("key", flat=True)}
    finally:
        await db.disconnect()


async def _wait_stored(url: str, devs) -> set[str]:  # type: ignore[no-untyped-def]
    """Every journaled event stored, and the journals quiet for two seconds (the scripts are done)."""
    steady, last = 0, set()
    for _ in range(400):
        try:
            wanted = set().union(*(expected_keys(dev) for dev in devs))
        except IndexError:  # a journal not started yet
            wanted = set()
        steady = steady + 1 if wanted and wanted == last and wanted <= await _keys(url) else 0
        if steady >= 10:
            return wanted
        last = wanted
        await asyncio.sleep(0.2)
    raise AssertionError("the terminals' events did not all arrive")


def test_serve_refuses_to_start_without_a_real_secret(tmp_path):
    """#22 finding 9: a weak but long secret ("a" * 32) was accepted: the check was its length alone."""
    fleet = FleetServer(tmp_path, f"sqlite://{tmp_path / 'f.sqlite3'}")
    weak_but_long = ("a" * 32, "abcdefghijklmnopqrstuvwxyz012345", "test-secret-" + "x" * 32, "ab" * 40)
    for secret in ("", "short", *weak_but_long):
        fleet.env["FLEET_JWT_SECRET"] = secret
        refused = fleet.cli("serve", "--port", str(fleet.port))  # (cli() times out if it starts serving)
        assert refused.returncode == 2 and "FLEET_JWT_SECRET" in refused.stderr, (secret, refused.stderr)
