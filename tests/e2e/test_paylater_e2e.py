"""PayLater at the terminal, end to end with real parts (P4): `fleet serve`, the sandbox gateway as its
own HTTP service, a real Mosquitto configured by `fleet mosquitto-config` (passwords, ACL) and a virtual
terminal on the real firmware with its own broker password.

The cashier types the customer's phone on the keypad; the terminal asks the fleet on its `req` topic;
the fleet sends the OTP by SMS through the gateway and answers with `paylater` commands. The customer
reads the code out (the test takes it from the sandbox's SMS log and hands it to the scripted cashier):
a customer with a bad history is refused; a wrong code is refused with the tries left; above the credit
limit the down payment is taken in cash first, the tenor is chosen, the provider pays the financed
amount, and the terminal completes and prints the sale.
"""

import csv
import getpass
import json
import sqlite3

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.firmware_helpers import display, type_keys
from tests.fleet_server import FleetServer
from tests.gateway_helpers import Gateway, wait
from tools import mosquitto, terminal, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

SERIAL = vterm.serial_for(72, 0)
CSV = "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n" + (
    f"{SERIAL},TKM-58,mpos,Toko PL,purchased,INV-PL,2026-10-01\n"
)
BAD_HISTORY = "081234567890"  # the sandbox's PayLater: numbers ending in 0 have a bad payment history
SMALL_LIMIT = "081234567899"  # ... and numbers ending in 9 a credit limit of Rp 500.000


def test_paylater_sale_at_the_terminal_with_otp_refusal_wrong_code_and_down_payment(tmp_path):
    port = mosquitto.free_port()
    fleet = FleetServer(tmp_path, f"sqlite://{tmp_path / 'fleet.sqlite3'}", f"mqtt://fleet:fleet-pw@127.0.0.1:{port}")
    (tmp_path / "devices.csv").write_text(CSV)
    assert fleet.cli("import-devices", "devices.csv").returncode == 0
    assert fleet.cli("issue-credentials", "--out", "credentials.csv").returncode == 0
    [issued] = csv.DictReader((tmp_path / "credentials.csv").open())
    made = fleet.cli("mosquitto-config", "--out", "broker", "--port", str(port), "--user", getpass.getuser())
    assert made.returncode == 0, made.stderr
    broker_config = tmp_path / "broker" / "mosquitto.conf"
    with mosquitto.Mosquitto(tmp_path / "broker", port=port, config=broker_config):
        gateway = Gateway(f"{fleet.base}/payments/webhooks/sandbox").start()
        fleet.env |= gateway.env()
        proc = None
        requests: list[tuple[str, bytes]] = []
        spy = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pl-spy")  # the fleet's user reads every req
        spy.username_pw_set("fleet", "fleet-pw")
        spy.on_message = lambda c, u, m: requests.append((m.topic, bytes(m.payload)))
        own = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=SERIAL)  # a terminal's id is its serial
        own.username_pw_set(SERIAL, issued["password"])
        try:
            made = fleet.cli("create-user", "ops", "--role", "biz_support", FLEET_NEW_USER_PASSWORD="ops-pass-123")
            assert made.returncode == 0
            with fleet:
                token = fleet.token("ops", "ops-pass-123")
                spy.connect("127.0.0.1", port)
                spy.subscribe(f"pos/v1/{SERIAL}/req", 1)
                spy.loop_start()
                config = {"qris_timeout_s": 120, "tax_inclusive": True}
                dev = vterm.provision(
                    tmp_path / "terminals", f"mqtt://127.0.0.1:{port}", 72, 0, config, password=issued["password"]
                )
                proc = vterm.start(dev, "!await_keys " * 8, stay=True)

                def sms_to(phone: str) -> list[str]:
                    sent = httpx.get(f"{gateway.url}/sandbox/sms").json()
                    return [m["text"] for m in sent if m["to"] == phone]

                def code_in(text: str) -> str:
                    return next(word.rstrip(".") for word in text.split() if word.rstrip(".").isdigit())

                wait(lambda: fleet.request("GET", f"/devices/{SERIAL}", token=token)[1].get("online"), what="online")
                # A Rp 750.000 sale; PayLater for a customer whose history is bad: refused after the OTP (P4).
                type_keys(dev, f"750000# B 5 {BAD_HISTORY}#")
                [first] = wait(lambda: sms_to("+62" + BAD_HISTORY[1:]), what="the first OTP")
                wait(lambda: "Kode OTP" in display(dev), what="the OTP prompt")
                type_keys(dev, code_in(first) + "#")
                wait(lambda: "PayLater ditolak" in display(dev), what="the refusal")

                # Another customer, limit Rp 500.000: a wrong code first, then the right one.
                type_keys(dev, f"5 {SMALL_LIMIT}#")
                [second] = wait(lambda: sms_to("+62" + SMALL_LIMIT[1:]), what="the second OTP")
                code = code_in(second)
                wait(lambda: display(dev).count("Kode OTP | dari SMS") == 2, what="the second OTP prompt")
                type_keys(dev, ("111111" if code != "111111" else "222222") + "#")
                wait(lambda: "OTP salah | sisa 2 kali" in display(dev), what="the wrong-code answer")
                type_keys(dev, code + "#")
                # Above the limit: Rp 250.000 down payment in cash, then Rp 500.000 financed in 3 months.
                wait(lambda: "DP tunai Rp 250.000" in display(dev), what="the down payment")
                type_keys(dev, "# 3#")

                def sale() -> list[dict]:
                    return [m["data"] for _, m in terminal.journal_records(dev) if m["type"] == "sale"]

                [done] = wait(sale, what="the PayLater sale on the terminal")
                charges = fleet.request("GET", "/payments/charges", token=token)[1]
                [charge] = [c for c in charges if c["method"] == "paylater"]
                assert charge["status"] == "succeeded" and charge["amount"] == 500_000
                assert done["status"] == "paid" and done["total"] == 750_000
                assert done["payments"] == [
                    {"method": "cash", "amount": 250_000, "tendered": 250_000, "change": 0},
                    {"method": "paylater", "amount": 500_000, "ref": charge["rrn"], "tenor": 3},
                ]
                wait(
                    lambda: (
                        fleet.request("GET", "/payments/charges", token=token)[1][0]["terminal_state"] == "confirmed"
                    ),
                    what="the terminal's confirmation",
                )
                printed = (dev / "printer.bin").read_bytes()
                assert b"PayLater 3bln" in printed and b"500.000" in printed

                # A request delivered twice is answered again and does nothing twice (no second SMS); a
                # malformed one is counted. Both sent with the terminal's own credentials (the ACL lets a
                # terminal write only its own req topic).
                start = next(p for _, p in requests if json.loads(p)["req"] == "paylater_start")
                own.connect("127.0.0.1", port)
                own.loop_start()
                own.publish(f"pos/v1/{SERIAL}/req", start, 1).wait_for_publish(5)
                own.publish(f"pos/v1/{SERIAL}/req", b'{"v":1,"serial":"nope"', 1).wait_for_publish(5)

                def counted() -> dict:
                    health = fleet.request("GET", "/healthz")[1]["terminal_requests"]
                    return health if health.get("malformed.bad_json") else {}

                health = wait(counted, what="the bad request counted")
                assert health["answered.paylater_start"] == 3 and health["answered.paylater_otp"] == 3
                assert len(sms_to("+62" + BAD_HISTORY[1:])) == 1

            with sqlite3.connect(tmp_path / "fleet.sqlite3") as db:
                rows = db.execute(
                    "SELECT phone, status, tenor_months, otp_attempts FROM paylater_session ORDER BY created_at"
                )
                assert list(rows) == [("+6281234567890", "refused", None, 1), ("+6281234567899", "confirmed", 3, 2)]
        finally:
            spy.loop_stop()
            own.loop_stop()
            if proc is not None:
                proc.kill()
                proc.wait()
            gateway.stop()


def test_without_a_payment_gateway_the_terminal_is_told_at_once_that_paylater_is_not_available(tmp_path):
    """P4 at the keypad when the fleet has no gateway: it still answers the PayLater request, "PayLater gagal" on
    the display within seconds (the cashier takes another payment), not a wait for the 30 s timeout."""
    serial = vterm.serial_for(73, 0)
    (tmp_path / "devices.csv").write_text(
        "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n"
        f"{serial},TKM-58,mpos,Toko Tanpa PL,purchased,INV-NPL,2026-10-01\n"
    )
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        fleet = FleetServer(tmp_path, f"sqlite://{tmp_path / 'fleet.sqlite3'}", broker.url)
        assert fleet.cli("import-devices", "devices.csv").returncode == 0
        made = fleet.cli("create-user", "ops", "--role", "biz_support", FLEET_NEW_USER_PASSWORD="ops-pass-123")
        assert made.returncode == 0
        with fleet:
            token = fleet.token("ops", "ops-pass-123")
            dev = vterm.provision(tmp_path / "terminals", broker.url, 73, 0)
            proc = vterm.start(dev, "!await_keys " * 3, stay=True)
            try:
                wait(lambda: fleet.request("GET", f"/devices/{serial}", token=token)[1].get("online"), what="online")
                type_keys(dev, "750000# B 5 081234567891#")
                wait(lambda: "PayLater gagal" in display(dev), timeout=10, what="the answer")
                health = fleet.request("GET", "/healthz")[1]["terminal_requests"]
                assert health.get("answered.unavailable") == 1, health
                type_keys(dev, "1 #")  # the cashier takes the exact amount in cash instead
                [sale] = wait(
                    lambda: [m["data"] for _, m in terminal.journal_records(dev) if m["type"] == "sale"],
                    what="the cash sale",
                )
                assert sale["status"] == "paid" and [p["method"] for p in sale["payments"]] == ["cash"]
            finally:
                proc.kill()
                proc.wait()
