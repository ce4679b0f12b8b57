"""QRIS end to end with real parts: `fleet serve`, the sandbox gateway as its own HTTP service, a real
Mosquitto and virtual terminals on the real firmware.

A QRIS sale is registered with the acquirer by reference, paid, confirmed at the terminal through a
pay_confirm command, and completed there. A QRIS the cashier cancelled and the customer paid anyway
becomes a fix-payment case; Biz Support resolves it and the terminal prints the replacement order.
"""

import subprocess
import sys
import time

import httpx
from fleet_server import FleetServer

from tools import mosquitto, terminal, vterm

SERIALS = [vterm.serial_for(71, i) for i in range(2)]
CSV = "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n" + "".join(
    f"{s},TKM-58,mpos,Toko QRIS,purchased,INV-{s},2026-10-01\n" for s in SERIALS
)
API_KEY, SECRET = "sk_test_" + "a" * 24, "whsec_" + "b" * 24


def wait(predicate, timeout: float = 30, what: str = ""):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_qris_confirmed_at_the_terminal_and_a_late_payment_becomes_a_resolved_fix_case(tmp_path):
    gateway_port = mosquitto.free_port()
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        fleet = FleetServer(tmp_path, f"sqlite://{tmp_path / 'fleet.sqlite3'}", broker.url)
        fleet.env |= {
            "FLEET_GATEWAY_URL": gateway_url,
            "FLEET_GATEWAY_API_KEY": API_KEY,
            "FLEET_GATEWAY_WEBHOOK_SECRET": SECRET,
        }
        hook = f"{fleet.base}/payments/webhooks/sandbox"
        gateway = subprocess.Popen(
            [
                *(sys.executable, "-m", "tools.sandbox_gateway", "--port", str(gateway_port)),
                *("--api-key", API_KEY, "--webhook-url", hook, "--webhook-secret", SECRET),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        procs = []
        try:
            (tmp_path / "devices.csv").write_text(CSV)
            assert fleet.cli("import-devices", "devices.csv").returncode == 0
            assert (
                fleet.cli(
                    "create-user", "ops", "--role", "biz_support", FLEET_NEW_USER_PASSWORD="ops-pass-123"
                ).returncode
                == 0
            )
            with fleet:
                token = fleet.token("ops", "ops-pass-123")
                root = tmp_path / "terminals"
                config = {"qris_timeout_s": 300, "heartbeat_s": 5}
                devs = [vterm.provision(root, broker.url, 71, i, config) for i in range(2)]
                # Terminal 0 shows a QRIS and waits; terminal 1's cashier cancels it after 3 s and voids.
                procs.append(vterm.start(devs[0], "1A B 2\n", stay=True))
                procs.append(vterm.start(devs[1], "2A B 2 !sleep=3000 C C\n", stay=True))

                def charges() -> list[dict]:
                    return fleet.request("GET", "/payments/charges", token=token)[1]

                def charge_of(serial: str, **want: str) -> dict | None:
                    for c in charges():
                        if c["serial"] == serial and all(c[k] == v for k, v in want.items()):
                            return c
                    return None

                first = wait(lambda: charge_of(SERIALS[0], status="pending"), what="the QRIS charge")
                paid = httpx.post(f"{gateway_url}/sandbox/charges/{first['provider_ref']}/pay").json()
                done = wait(
                    lambda: charge_of(SERIALS[0], terminal_state="confirmed"), what="the terminal's confirmation"
                )
                assert done["rrn"] == paid["rrn"] and done["status"] == "succeeded"
                sale = wait(lambda: [m["data"] for _, m in terminal.journal_records(devs[0]) if m["type"] == "sale"])[0]
                assert sale["status"] == "paid" and sale["payments"][0] == {
                    "method": "qris",
                    "amount": sale["total"],
                    "ref": paid["rrn"],
                }

                # The cashier gave up on terminal 1's QRIS; the customer pays anyway.
                late = wait(lambda: charge_of(SERIALS[1], terminal_state="cancelled"), what="the cancellation")
                gateway_charge = httpx.get(
                    f"{gateway_url}/v1/charges/{late['provider_ref']}", headers={"Authorization": f"Bearer {API_KEY}"}
                ).json()
                assert gateway_charge["status"] == "cancelled"  # the fleet told the acquirer
                httpx.post(f"{gateway_url}/sandbox/charges/{late['provider_ref']}/pay")
                case = wait(lambda: fleet.request("GET", "/payments/fix-cases", token=token)[1], what="the case")[0]
                assert (case["serial"], case["amount"], case["reason"]) == (
                    SERIALS[1],
                    late["amount"],
                    "cancelled_at_terminal",
                )
                status, resolved = fleet.request(
                    "POST", f"/payments/fix-cases/{case['id']}/resolve", {"outcome": "replacement"}, token
                )
                assert status == 200, resolved

                def replacement() -> list[dict]:
                    return [
                        m["data"]
                        for _, m in terminal.journal_records(devs[1])
                        if m["type"] == "sale" and m["data"]["payments"][0]["method"] == "custom"
                    ]

                [order] = wait(replacement, what="the replacement order on the terminal")
                assert order["total"] == late["amount"] and order["payments"][0]["ref"] == case["rrn"]
                cart = next(
                    m["data"]
                    for _, m in terminal.journal_records(devs[1])
                    if m["type"] == "open" and m["data"]["receipt"] == late["receipt"]
                )
                assert order["items"] == cart["items"]  # the cancelled sale's cart, paid by a custom method
                health = fleet.request("GET", "/healthz")[1]["refused_requests"]
                assert health.get("webhook.confirming") == 1 and health.get("webhook.case") == 1
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
            gateway.terminate()
            gateway.wait(timeout=10)
