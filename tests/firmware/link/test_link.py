"""The terminal's MQTT link: real micropython processes running the firmware, a real Mosquitto broker.

Every event reaches the fleet exactly once by idempotency key and in order per terminal, through broker
outages, kills and reconnects; hello/state/telemetry describe the terminal; the broker's ACL confines a
terminal to its own serial.
"""

import json
import random
import signal
import time
from collections import Counter

import pytest

from protocol import event
from tests.mqtt_helpers import Collector
from tools import mosquitto, terminal, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)


def journal_keys(dev):
    """Every key this terminal's journal ever held: seq 1..last (acknowledged history gets pruned)."""
    records = terminal.journal_records(dev)
    last = records[-1][1]
    return [event.idempotency_key(dict(last, seq=seq)) for seq in range(1, last["seq"] + 1)]


def closed_sales(collector):
    """(serial, receipt) of every sale that reached the fleet closed: paid, partially paid or voided."""
    return {(m["serial"], m["data"]["receipt"]) for m in collector.of_kind("event") if m["type"] in ("sale", "void")}


def in_order_per_terminal(keys):
    last = {}
    for key in keys:
        serial, _jid, seq = key.rsplit("/", 2)
        if int(seq) <= last.get(serial, 0):
            return False
        last[serial] = int(seq)
    return True


def first_occurrences(keys):
    seen = set()
    out = []
    for key in keys:
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def test_virtual_terminals_deliver_every_event_exactly_once_in_order(tmp_path):
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        collector = Collector(broker.port)
        assert (
            vterm.main(
                [
                    "--broker",
                    broker.url,
                    "--count",
                    "3",
                    "--sales",
                    "8",
                    "--seed",
                    "11",
                    "--dir",
                    str(tmp_path / "terminals"),
                ]
            )
            == 0
        )
        expected = []
        for dev in sorted((tmp_path / "terminals").iterdir()):
            expected += journal_keys(dev)
        assert collector.wait_for(lambda: set(collector.event_keys()) >= set(expected), 20)
        keys = collector.event_keys()
        assert set(keys) == set(expected) and len(expected) >= 3 * 8 * 3
        assert in_order_per_terminal(first_occurrences(keys))
        hellos = {m["serial"]: m for m in collector.of_kind("hello")}
        assert sorted(hellos) == sorted(d.name for d in (tmp_path / "terminals").iterdir())
        assert all(h["fw"] and h["model"] == "TKM-58" and "printer58" in h["caps"] for h in hellos.values())

        def states():
            return Counter(m["state"] for m in collector.of_kind("state"))

        assert collector.wait_for(lambda: states() == {"online": 3, "offline": 3}, 10), states()  # left cleanly
        collector.stop()


def test_broker_outage_while_selling_loses_and_doubles_nothing(tmp_path):
    broker = mosquitto.Mosquitto(tmp_path / "broker", persistence=True).start()
    try:
        # A persistent subscriber session: the broker keeps queueing for it across its own restart.
        collector = Collector(broker.port, client_id="fleet-outage-test", persistent=True)
        rng = random.Random(5)
        devs = [
            vterm.provision(tmp_path / "t", broker.url, 5, i, {"heartbeat_s": 1, "reconnect_max_s": 1})
            for i in range(2)
        ]
        procs = [vterm.start(dev, vterm.sale_script(rng, 100), drain_timeout=120) for dev in devs]
        assert collector.wait_for(lambda: len(collector.of_kind("event")) >= 20, 30)
        broker.stop()
        outage_started = time.monotonic()
        time.sleep(2.5)  # the terminals keep selling: the journal holds what the broker cannot take
        assert all(p.poll() is None for p in procs)
        broker.start()
        restarted_at = len(collector.messages)
        for p in procs:
            out, _ = p.communicate(timeout=180)
            assert p.returncode == 0, out.decode()[-2000:]
        expected = [k for dev in devs for k in journal_keys(dev)]
        assert collector.wait_for(lambda: set(collector.event_keys()) >= set(expected), 30)
        keys = collector.event_keys()
        assert set(keys) == set(expected), "every event arrives"
        assert len(closed_sales(collector)) == 200, "every sale arrives"
        assert in_order_per_terminal(first_occurrences(keys))
        after = collector.messages[restarted_at:]
        telemetry_after = {json.loads(p)["serial"] for t, p, _ in after if t.endswith("/telemetry")}
        assert telemetry_after == {d.name for d in devs}, "telemetry resumes after the outage"
        assert time.monotonic() - outage_started > 2
        collector.stop()
    finally:
        broker.stop()


def test_a_terminal_killed_mid_publish_resends_and_the_key_makes_it_exactly_once(tmp_path):
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        collector = Collector(broker.port)
        dev = vterm.provision(tmp_path / "t", broker.url, 9, 0)
        proc = vterm.start(dev, vterm.sale_script(random.Random(9), 40))
        assert collector.wait_for(lambda: len(collector.of_kind("event")) >= 40, 30)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = len(collector.event_keys())
        restarted = vterm.start(dev, "")
        out, _ = restarted.communicate(timeout=60)
        assert restarted.returncode == 0, out.decode()
        expected = journal_keys(dev)
        assert collector.wait_for(lambda: set(collector.event_keys()) >= set(expected), 20)
        keys = collector.event_keys()
        assert set(keys) == set(expected)
        duplicates = sum(n - 1 for n in Counter(keys).values())
        assert duplicates >= 1, "records sent before the kill but not yet on the cursor are sent again"
        assert len(keys) > before
        # The reboot after the kill is reported as a crash.
        assert any(m["boot_reason"] == "crash" for m in collector.of_kind("hello"))
        collector.stop()
