"""QRIS end to end with real parts: `fleet serve`, the sandbox gateway as its own HTTP service, a real
Mosquitto and virtual terminals on the real firmware.

A QRIS sale is registered with the acquirer by reference, paid, confirmed at the terminal through a
pay_confirm command, and completed there. A QRIS the cashier cancelled and the customer paid anyway
becomes a fix-payment case; Biz Support resolves it and the terminal prints the replacement order.
"""

import time

import httpx
import pytest

from tests.fleet_server import FleetServer
from tests.gateway_helpers import API_KEY, Gateway, wait
from tools import mosquitto, terminal, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

SERIALS = [vterm.serial_for(71, i) for i in range(2)]
CSV = "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n" + "".join(
    f"{s},TKM-58,mpos,Toko QRIS,purchased,INV-{s},2026-10-01\n" for s in SERIALS
)


def test_qris_confirmed_at_the_terminal_and_a_late_payment_becomes_a_resolved_fix_case(tmp_path):
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        fleet = FleetServer(tmp_path, f"sqlite://{tmp_path / 'fleet.sqlite3'}", broker.url)
        gateway = Gateway(f"{fleet.base}/payments/webhooks/sandbox").start()
        gateway_url = gateway.url
        fleet.env |= gateway.env()
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
            gateway.stop()


def test_a_partly_paid_order_is_paid_by_the_link_in_its_email_and_the_terminal_prints_the_final_receipt(tmp_path):
    """P1-P3: a down payment leaves an order Partially paid; the merchant sends a pay link by email (and
    SMS to a +62 number); the customer opens the link from the email and pays; the order is Paid and the
    terminal prints the final receipt."""
    from tests.mail_helpers import Smtp

    smtp = Smtp().start()
    inbox, smtp_port = smtp.inbox, smtp.port
    serial, cashier_serial = vterm.serial_for(72, 0), vterm.serial_for(72, 1)
    procs = []
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        fleet = FleetServer(tmp_path, f"sqlite://{tmp_path / 'fleet.sqlite3'}", broker.url)
        gateway = Gateway(f"{fleet.base}/payments/webhooks/sandbox").start()
        gateway_url = gateway.url
        fleet.env |= gateway.env() | {
            "FLEET_SMTP_HOST": "127.0.0.1",
            "FLEET_SMTP_PORT": str(smtp_port),
            "FLEET_PUBLIC_URL": fleet.base,
        }
        try:
            (tmp_path / "devices.csv").write_text(
                "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n"
                f"{serial},TKM-58,mpos,Toko Cicil,purchased,INV-1,2026-10-01\n"
                f"{cashier_serial},TKM-58,mpos,Toko Cicil,purchased,INV-2,2026-10-01\n"
            )
            assert fleet.cli("import-devices", "devices.csv").returncode == 0
            made = fleet.cli(
                "create-user",
                "owner",
                "--role",
                "merchant",
                "--merchant",
                "Toko Cicil",
                FLEET_NEW_USER_PASSWORD="owner-pass-1",
            )
            assert made.returncode == 0, made.stderr
            with fleet:
                token = fleet.token("owner", "owner-pass-1")
                dev = vterm.provision(tmp_path / "terminals", broker.url, 72, 0)
                # A cash sale paid in full, then a sale with a down payment of Rp 5.000.
                procs.append(vterm.start(dev, "1A B 1#  2A B 4 5000#\n", stay=True))
                # Another cashier takes a down payment and sends the pay link from the terminal's keypad.
                till = vterm.provision(tmp_path / "terminals", broker.url, 72, 1)
                procs.append(vterm.start(till, "3A B 4 5000#  D 5 081234567899# 1#\n", stay=True))
                sales = wait(
                    lambda: (
                        len([m for _, m in terminal.journal_records(dev) if m["type"] == "sale"]) == 2
                        and [m["data"] for _, m in terminal.journal_records(dev) if m["type"] == "sale"]
                    ),
                    what="two sales",
                )
                paid, partial = sales
                assert partial["status"] == "partially_paid" and partial["outstanding"] > 0
                path = f"/devices/{serial}/orders/{partial['receipt']}"
                wait(lambda: fleet.request("GET", path, token=token)[0] == 200, what="the order in the fleet")
                refused = fleet.request(
                    "POST",
                    f"/devices/{serial}/orders/{paid['receipt']}/paylinks",
                    {"email": "a@b.id", "methods": ["qris"]},
                    token,
                )
                assert refused[0] == 409 and refused[1]["rule"] == "P1"  # nothing to collect on a Paid order
                foreign = fleet.request(
                    "POST", f"{path}/paylinks", {"phone": "+15551234567", "methods": ["qris"]}, token
                )
                assert foreign[0] == 422 and foreign[1]["rule"] == "P2"  # SMS only to +62
                status, order = fleet.request(
                    "POST",
                    f"{path}/paylinks",
                    {"email": "pembeli@contoh.id", "phone": "+6281234567890", "methods": ["qris", "card"]},
                    token,
                )
                assert status == 201 and order["status"] == "partially_paid", order
                assert order["paylinks"][0]["amount"] == partial["outstanding"]

                message = wait(lambda: inbox and inbox[0], what="the invoice email")
                assert message["To"] == "pembeli@contoh.id"
                text = message.get_payload(decode=True).decode()
                link = next(word for word in text.split() if word.startswith(f"{fleet.base}/pay/"))
                # (the other cashier's SMS, requested from its terminal, may arrive first)
                sms = [m for m in httpx.get(f"{gateway_url}/sandbox/sms").json() if m["to"] == "+6281234567890"]
                assert len(sms) == 1 and link in sms[0]["text"]

                with httpx.Client(follow_redirects=False) as customer:
                    page = customer.get(link)
                    assert page.status_code == 200 and "Toko Cicil" in page.text
                    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                    chosen = customer.post(link, data={"csrf": csrf, "method": "qris"})
                    assert chosen.status_code == 303 and chosen.headers["location"].startswith(gateway_url)
                    hosted = customer.get(chosen.headers["location"])
                    assert "Bayar" in hosted.text
                    action = hosted.text.split('action="', 1)[1].split('"', 1)[0]
                    assert customer.post(gateway_url + action).json()["status"] == "succeeded"

                final = wait(
                    lambda: [
                        m["data"]
                        for _, m in terminal.journal_records(dev)
                        if m["type"] == "sale"
                        and m["data"]["receipt"] == partial["receipt"]
                        and m["data"]["status"] == "paid"
                    ],
                    what="the final receipt on the terminal",
                )[0]
                assert final["outstanding"] == 0 and final["payments"][-1]["method"] == "paylink"
                wait(lambda: fleet.request("GET", path, token=token)[1]["status"] == "paid", what="Paid in the fleet")
                assert fleet.request("GET", path, token=token)[1]["paylinks"][0]["status"] == "paid"
                assert "Lunas" in " ".join(terminal.display(dev))

                # The link the cashier requested from the terminal arrives by SMS, QRIS only (P2).
                def cashier_sms() -> list[dict]:
                    return [m for m in httpx.get(f"{gateway_url}/sandbox/sms").json() if m["to"] == "+6281234567899"]

                text = wait(cashier_sms, what="the cashier's pay link")[0]["text"]
                cashier_link = next(word for word in text.split() if "/pay/" in word)
                with httpx.Client(follow_redirects=False) as customer:
                    page = customer.get(cashier_link)
                    assert page.text.count('name="method"') == 1 and 'value="qris"' in page.text
                    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                    hosted = customer.post(cashier_link, data={"csrf": csrf, "method": "qris"}).headers["location"]
                    charge_id = hosted.rsplit("/", 1)[1]
                    customer.post(f"{gateway_url}/sandbox/charges/{charge_id}/pay")
                wait(
                    lambda: [
                        m
                        for _, m in terminal.journal_records(till)
                        if m["type"] == "sale" and m["data"]["status"] == "paid"
                    ],
                    what="the cashier's terminal printing the final receipt",
                )
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
            gateway.stop()
            smtp.stop()


CARD_SERIALS = [vterm.serial_for(73, i) for i in range(2)]


def test_card_payments_are_captured_through_the_card_adapter_and_reconcile(tmp_path):
    # The reader of terminal 0 authorizes at the acquirer's card host (the sandbox gateway), as an approved
    # reader does over its own link; terminal 1's reader approves without the host ever seeing it.
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        fleet = FleetServer(tmp_path, f"sqlite://{tmp_path / 'fleet.sqlite3'}", broker.url)
        gateway = Gateway(f"{fleet.base}/payments/webhooks/sandbox").start()
        fleet.env |= gateway.env()
        procs = []
        try:
            csv_text = (
                CSV.splitlines()[0]
                + "\n"
                + "".join(f"{s},TKM-58,mpos,Toko Kartu,purchased,INV-{s},2026-10-01\n" for s in CARD_SERIALS)
            )
            (tmp_path / "devices.csv").write_text(csv_text)
            assert fleet.cli("import-devices", "devices.csv").returncode == 0
            made = fleet.cli("create-user", "ops", "--role", "biz_support", FLEET_NEW_USER_PASSWORD="ops-pass-123")
            assert made.returncode == 0
            with fleet:
                token = fleet.token("ops", "ops-pass-123")
                config = {"tax_inclusive": True}
                devs = [vterm.provision(tmp_path / "terminals", broker.url, 73, i, config) for i in range(2)]
                (devs[0] / "card_host.txt").write_text(gateway.url)
                # Terminal 0: a card sale, then a card the issuer declines (the sandbox declines Rp ...13),
                # and that sale paid in cash.
                procs.append(vterm.start(devs[0], "1A B 3 113# B 3 1#", stay=True))
                procs.append(vterm.start(devs[1], "3A B 3", stay=True))

                def charges() -> list[dict]:
                    return fleet.request("GET", "/payments/charges", token=token)[1]

                captured = wait(
                    lambda: [c for c in charges() if c["serial"] == CARD_SERIALS[0]], what="the card capture"
                )[0]

                def sales() -> list[dict]:
                    return [m["data"] for _, m in terminal.journal_records(devs[0]) if m["type"] == "sale"]

                first, declined = wait(lambda: sales() if len(sales()) == 2 else None, what="both sales")
                card = first["payments"][0]
                assert card["method"] == "card" and set(card) == {"method", "amount", "token", "last4", "approval"}
                assert (captured["method"], captured["status"], captured["amount"]) == (
                    "card",
                    "succeeded",
                    card["amount"],
                )
                assert captured["reference"] == f"{CARD_SERIALS[0]}:{card['token']}"
                assert declined["total"] == 113 and [p["method"] for p in declined["payments"]] == ["cash"]
                assert "Kartu ditolak" in " ".join(terminal.display(devs[0]))

                # Terminal 1's "approval" is unknown to the acquirer: the order stands, no money comes, a case.
                case = wait(lambda: fleet.request("GET", "/payments/fix-cases", token=token)[1], what="the case")[0]
                assert (case["serial"], case["reason"]) == (CARD_SERIALS[1], "not_authorized")
                [refused] = [c for c in charges() if c["serial"] == CARD_SERIALS[1]]
                assert refused["status"] == "refused"

                # The day's settlement (fetched from the gateway) matches the captured card payment.
                today = time.strftime("%Y-%m-%d", time.gmtime())
                status, run = fleet.request("POST", f"/payments/reconciliations?date={today}", None, token)
                assert status == 201, run
                assert (run["settled"], run["matched"], run["unmatched"]) == (1, 1, 0)
                assert run["unsettled"] == 1  # terminal 1's card payment: nothing settled it
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
            gateway.stop()
