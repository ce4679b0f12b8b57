"""RF5 at the terminal, end to end with real parts: `fleet serve`, the sandbox gateway as its own HTTP
service (it authorizes the card and settles the day), a real Mosquitto and a virtual terminal on the real
firmware whose card reader authorizes at the gateway.

A card sale reaches the merchant's balance; the day is reconciled (settled); the merchant is paid out
most of it. The next day the cashier refunds the sale with `D 2`: the terminal asks the fleet, which
refuses (the balance is too low); after more money reaches the balance it asks again, the fleet says yes,
and the terminal makes the refund, whose event the ledger takes out of the balance exactly once.
"""

import sqlite3
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.firmware_helpers import display, type_keys
from tests.fleet_server import FleetServer
from tests.gateway_helpers import Gateway, wait
from tools import mosquitto, terminal, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

SERIAL = vterm.serial_for(74, 0)
CSV = (
    "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n"
    f"{SERIAL},TKM-58,mpos,Toko Refund,purchased,INV-RF,2026-10-01\n"
)


def test_rf5_a_refund_of_a_settled_sale_at_the_terminal_waits_for_the_balance_and_is_taken_once(tmp_path):
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        db_path = tmp_path / "fleet.sqlite3"
        fleet = FleetServer(tmp_path, f"sqlite://{db_path}", broker.url)
        gateway = Gateway(f"{fleet.base}/payments/webhooks/sandbox").start()
        fleet.env |= gateway.env()
        proc = None
        try:
            (tmp_path / "devices.csv").write_text(CSV)
            assert fleet.cli("import-devices", "devices.csv").returncode == 0
            made = fleet.cli("create-user", "ops", "--role", "biz_support", FLEET_NEW_USER_PASSWORD="ops-pass-123")
            assert made.returncode == 0
            with fleet:
                token = fleet.token("ops", "ops-pass-123")
                dev = vterm.provision(tmp_path / "terminals", broker.url, 74, 0, {"tax_inclusive": True})
                (dev / "card_host.txt").write_text(gateway.url)
                yesterday = int(time.time()) - 90_000  # the sale is made a day before the refund
                proc = vterm.start(dev, f"!clock={yesterday} " + "!await_keys " * 4, stay=True)
                device = wait(lambda: fleet.request("GET", f"/devices/{SERIAL}", token=token)[1], what="registered")
                wait(lambda: fleet.request("GET", f"/devices/{SERIAL}", token=token)[1].get("online"), what="online")
                merchant = device["merchant_id"]

                def balance() -> int:
                    return int(fleet.request("GET", f"/merchants/{merchant}/balance", token=token)[1]["balance"])

                def journal(kind: str) -> list[dict]:
                    return [m["data"] for _, m in terminal.journal_records(dev) if m["type"] == kind]

                type_keys(dev, "30000# B 3")  # a Rp 30.000 card sale, authorized at the gateway
                [sale] = wait(lambda: journal("sale"), what="the card sale")
                wait(lambda: balance() == 30_000, what="the capture credited to the balance")
                day = datetime.fromtimestamp(yesterday, ZoneInfo("Asia/Jakarta")).date()
                status, run = fleet.request("POST", f"/payments/reconciliations?date={day}", token=token)
                assert status == 201, run  # the day is settled
                with sqlite3.connect(db_path) as db:  # the merchant is paid out most of it
                    db.execute(
                        "INSERT INTO balance_entry (merchant_id, amount, reason, at) VALUES (?, ?, ?, ?)",
                        (merchant, -25_000, "payout to the merchant's bank", datetime.now(UTC).isoformat()),
                    )
                assert balance() == 5_000

                number = int(sale["receipt"][-6:])
                type_keys(dev, f"!clock={int(time.time())} D 2 {number}#")  # today, at the terminal
                wait(lambda: "Refund ditolak | Saldo kurang" in display(dev), what="the refusal")
                assert journal("refund") == [] and balance() == 5_000

                with sqlite3.connect(db_path) as db:  # the day's takings reach the balance
                    db.execute(
                        "INSERT INTO balance_entry (merchant_id, amount, reason, at) VALUES (?, ?, ?, ?)",
                        (merchant, 40_000, "settlement of another day", datetime.now(UTC).isoformat()),
                    )
                type_keys(dev, f"D 2 {number}#")
                [refund] = wait(lambda: journal("refund"), what="the refund")
                assert refund["original"] == sale["receipt"] and refund["amount"] == 30_000
                assert refund["method"] == "card" and refund["ref"].startswith(sale["receipt"] + "/R")
                wait(lambda: balance() == 15_000, what="the refund taken out of the balance")
                health = fleet.request("GET", "/healthz")[1]["terminal_requests"]
                assert health.get("answered.refund") == 2, health
                with sqlite3.connect(db_path) as db:
                    taken = db.execute("SELECT COUNT(*) FROM balance_entry WHERE reason LIKE 'refund %'").fetchone()
                assert taken == (1,)
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
            gateway.stop()
