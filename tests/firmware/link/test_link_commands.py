"""Commands from the fleet to a running terminal (real firmware, real Mosquitto), each acked by its id."""

import json
import signal
from types import SimpleNamespace

import pytest

from protocol import codec, command, topics
from tests.firmware_helpers import events, of_type, pages
from tests.mqtt_helpers import Collector
from tools import mosquitto, terminal, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)


@pytest.fixture
def live(tmp_path):
    """A terminal that made a cash sale and now shows a QRIS waiting for payment, connected and staying up."""
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        collector = Collector(broker.port)
        dev = vterm.provision(tmp_path / "t", broker.url, 3, 0, {"qris_timeout_s": 120, "heartbeat_s": 1})
        serial = dev.name
        script = dev / "script.txt"
        script.write_text("1A B 1#  2A B 2")
        argv, env = terminal.command(dev, script, clock=None, stay=True)
        proc = terminal.subprocess.Popen(
            argv, env=env, stdout=terminal.subprocess.PIPE, stderr=terminal.subprocess.STDOUT
        )
        assert collector.wait_for(
            lambda: any(
                m["type"] == "payment" and m["data"]["status"] == "pending" for m in collector.of_kind("event")
            ),
            20,
        )

        def send(cmd_id, name, args=None, expires=None, raw=None):
            msg = command.build(serial, 1795000000, cmd_id, name, args, expires)
            collector.publish(topics.topic(serial, topics.CMD), raw if raw is not None else codec.encode(msg))

        def acks(cmd_id):
            return [a for a in collector.of_kind("ack") if a["id"] == cmd_id]

        def wait_ack(cmd_id, count=1):
            assert collector.wait_for(lambda: len(acks(cmd_id)) >= count, 15), f"no ack for {cmd_id}"
            return acks(cmd_id)[-1]

        yield SimpleNamespace(dev=dev, serial=serial, collector=collector, send=send, wait_ack=wait_ack)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        output = proc.stdout.read().decode()
        assert "Traceback" not in output, output
        collector.stop()


def test_ping_reprint_and_duplicates_are_acked_by_id_and_run_once(live):
    live.send("c-ping", command.PING)
    assert live.wait_ack("c-ping")["ok"] is True
    live.send("c-reprint", command.REPRINT, {"receipt": "V00-000001"})
    assert live.wait_ack("c-reprint")["ok"] is True
    live.send("c-reprint", command.REPRINT, {"receipt": "V00-000001"})  # the same command delivered again
    assert live.wait_ack("c-reprint", 2)["ok"] is True
    copies = [p for p in pages(live.dev) if "SALINAN / COPY" in p.text]
    assert len(copies) == 1, "a duplicate command is answered again, not run twice"
    live.send("c-missing", command.REPRINT, {"receipt": "V00-999999"})
    nack = live.wait_ack("c-missing")
    assert (nack["ok"], nack["error"]) == (False, "rejected")


def test_unknown_malformed_and_expired_commands_are_refused_without_harm(live):
    cmd_topic = topics.topic(live.serial, topics.CMD)
    live.collector.publish(cmd_topic, b"\xff\xfe not json")
    live.collector.publish(cmd_topic, b'{"v":1}')
    raw = {"v": 1, "serial": live.serial, "ts": 1, "id": "c-unknown", "cmd": "selfdestruct", "args": {}}
    live.collector.publish(cmd_topic, json.dumps(raw))
    assert live.wait_ack("c-unknown")["error"] == "unknown_command"
    bad_args = {"v": 1, "serial": live.serial, "ts": 1, "id": "c-bad", "cmd": "set_clock", "args": {"time": "soon"}}
    live.collector.publish(cmd_topic, json.dumps(bad_args))
    bad = live.wait_ack("c-bad")
    assert bad["error"] == "malformed" and "args.time" in bad["detail"]
    live.send("c-old", command.PING, expires=1000)
    assert live.wait_ack("c-old")["error"] == "expired"
    live.send("c-alive", command.PING)
    assert live.wait_ack("c-alive")["ok"], "the terminal still answers after all that"


def test_pay_confirm_completes_the_pending_qris_sale_and_a_late_one_is_rejected(live):
    pending = next(
        m["data"]
        for m in live.collector.of_kind("event")
        if m["type"] == "payment" and m["data"]["status"] == "pending"
    )
    args = {"receipt": pending["receipt"], "method": "qris", "amount": pending["amount"], "ref": "RRN777"}
    live.send("c-pay-wrong", command.PAY_CONFIRM, dict(args, amount=pending["amount"] + 1))
    assert live.wait_ack("c-pay-wrong")["error"] == "rejected"
    live.send("c-pay", command.PAY_CONFIRM, args)
    answer = live.wait_ack("c-pay")
    assert answer["ok"] is True, json.dumps(answer)
    assert live.collector.wait_for(
        lambda: any(
            m["type"] == "sale" and m["data"]["receipt"] == pending["receipt"] for m in live.collector.of_kind("event")
        ),
        10,
    )
    sale = of_type(events(live.dev), "sale", receipt=pending["receipt"])[0]
    assert sale["payments"] == [{"method": "qris", "amount": pending["amount"], "ref": "RRN777"}]
    live.send("c-pay-late", command.PAY_CONFIRM, dict(args, ref="RRN778"))
    assert live.wait_ack("c-pay-late")["error"] == "rejected"  # the fleet makes it a fix-payment case (FP1)


def test_config_is_validated_applied_and_kept(live):
    live.send("c-cfg", command.CONFIG, {"config": {"footer": "Sampai jumpa", "heartbeat_s": 2}})
    assert live.wait_ack("c-cfg")["ok"] is True
    stored = json.loads((live.dev / "flash" / "config.json").read_text())
    assert stored["footer"] == "Sampai jumpa" and stored["heartbeat_s"] == 2
    live.send("c-cfg-type", command.CONFIG, {"config": {"cols": "wide"}})
    assert live.wait_ack("c-cfg-type")["error"] == "rejected"
    live.send("c-cfg-key", command.CONFIG, {"config": {"wallpaper": "cats"}})
    assert live.wait_ack("c-cfg-key")["error"] == "rejected"
    assert json.loads((live.dev / "flash" / "config.json").read_text()) == stored


def test_set_clock_moves_the_terminal_clock(live):
    live.send("c-clock", command.SET_CLOCK, {"time": 1900000000})
    assert live.wait_ack("c-clock")["ok"] is True
    assert live.collector.wait_for(lambda: any(t["ts"] >= 1900000000 for t in live.collector.of_kind("telemetry")), 10)


def test_lock_and_unlock_are_acked_and_kept_on_flash(live):
    live.send("c-lock", command.LOCK, {"reason": "sewa berakhir"})
    assert live.wait_ack("c-lock")["ok"] is True
    assert json.loads((live.dev / "flash" / "lock.json").read_text())["locked"] is True
    live.send("c-unlock", command.UNLOCK)
    assert live.wait_ack("c-unlock")["ok"] is True
    assert json.loads((live.dev / "flash" / "lock.json").read_text())["locked"] is False


def test_a_locked_terminal_refuses_new_sales_after_reboot(tmp_path):
    dev = terminal.provision(tmp_path / "t", "TKM-58-000123")
    (dev / "flash" / "lock.json").write_text(json.dumps({"locked": True, "reason": "sewa berakhir"}))
    proc = terminal.run(dev, "1A B 1#")
    assert proc.returncode == 0
    assert not of_type(events(dev), "sale")
    assert "TERKUNCI | Hubungi Biz Support" in terminal.display(dev)


def test_replacement_order_is_journaled_paid_by_a_custom_method_and_printed_once(live):
    """FP1: the fleet resolved a payment that had no order; the terminal makes the replacement order."""
    cash = next(m["data"] for _, m in terminal.journal_records(live.dev) if m["type"] == "sale")
    args = {"original": cash["receipt"], "amount": cash["total"], "ref": "508123456789"}
    live.send("c-repl", command.REPLACEMENT, args)
    assert live.wait_ack("c-repl")["ok"] is True
    live.send("c-repl", command.REPLACEMENT, args)  # delivered again: answered again, not run twice
    live.wait_ack("c-repl", 2)
    other = {"amount": 12_345, "ref": "508000000001"}  # no original on this terminal: one line
    live.send("c-repl-2", command.REPLACEMENT, other)
    assert live.wait_ack("c-repl-2")["ok"] is True
    sales = [m["data"] for _, m in terminal.journal_records(live.dev) if m["type"] == "sale"]
    custom = [s for s in sales if s["payments"][0]["method"] == "custom"]
    assert len(custom) == 2
    assert custom[0]["items"] == cash["items"] and custom[0]["status"] == "paid"
    assert custom[0]["payments"][0]["ref"] == "508123456789" and custom[0]["receipt"] != cash["receipt"]
    assert custom[1]["total"] == 12_345 and custom[1]["items"][0]["name"] == "Pembayaran 508000000001"
    assert sum("Pesanan pengganti" in line for line in terminal.display(live.dev)) == 2
