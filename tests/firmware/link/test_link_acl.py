"""Against a Mosquitto with a password file and `pattern` ACLs, a terminal publishes only under its own serial."""

import json
import subprocess

import pytest

from tests.mqtt_helpers import Collector
from tools import mosquitto, terminal, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

ACL = "user fleet\ntopic readwrite pos/v1/#\n\npattern readwrite pos/v1/%u/#\n"


def test_terminal_publishes_under_its_own_serial_only(tmp_path, micropython, root):
    a, b = vterm.serial_for(4, 0), vterm.serial_for(4, 1)
    passwords = {a: "secret-a", b: "secret-b", "fleet": "secret-fleet"}
    with mosquitto.Mosquitto(tmp_path / "broker", passwords=passwords, acl=ACL) as broker:
        fleet = Collector(broker.port, user="fleet", password="secret-fleet")
        dev = vterm.provision(tmp_path / "t", broker.url, 4, 0, password="secret-a")
        proc = vterm.start(dev, "1A B 1#", drain_timeout=20)
        assert proc.wait(timeout=30) == 0, proc.stdout.read().decode()
        assert fleet.wait_for(lambda: {m["serial"] for m in fleet.of_kind("event")} == {a}, 10)

        def rogue(topic, payload, password="secret-a"):
            argv = [micropython, "tests/mpy/mqtt_publish.py", str(root), str(broker.port), a, password, topic, payload]
            return subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=30).stdout

        forged = {"v": 1, "serial": b, "ts": 1, "state": "offline"}
        # MQTT 3.1.1 has no negative PUBACK: the broker acknowledges and drops what the ACL forbids.
        assert "acked" in rogue(f"pos/v1/{b}/state", json.dumps(forged))
        assert "acked" in rogue(f"pos/v1/{a}/state", json.dumps(dict(forged, serial=a)))
        assert fleet.wait_for(
            lambda: any(m["serial"] == a and m["state"] == "offline" for m in fleet.of_kind("state")), 10
        )
        assert not [m for m in fleet.of_kind("state") if m["serial"] == b], "a publish under another serial is refused"
        assert "refused" in rogue(f"pos/v1/{a}/state", "{}", password="wrong")
        fleet.stop()


def test_a_terminal_with_a_wrong_password_is_kept_out_and_keeps_its_sales(tmp_path):
    a = vterm.serial_for(6, 0)
    with mosquitto.Mosquitto(tmp_path / "broker", passwords={a: "right"}, acl=ACL) as broker:
        dev = vterm.provision(tmp_path / "t", broker.url, 6, 0, {"reconnect_max_s": 1}, password="wrong")
        proc = vterm.start(dev, "1A B 1#", drain_timeout=3)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 3 and b"not acknowledged" in out
        assert [m["type"] for _, m in terminal.journal_records(dev)][:3] == ["open", "payment", "sale"]
