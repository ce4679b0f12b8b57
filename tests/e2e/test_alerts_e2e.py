"""#19 end to end: a terminal's printer out of paper is one alert; a terminal that dies is one alert, told
once by email, and one all-clear when it is back. Real parts: `fleet serve` (its periodic jobs and
outbox), a real Mosquitto (the terminal's last will says it is offline), a virtual terminal on the real
firmware killed with SIGKILL, and a real SMTP server.

The merchant's threshold is at least five minutes; rather than wait for it, the test moves the terminal's
last message back in the database once the broker has said it is gone, as if that time had passed.
"""

import signal
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.fleet_server import FleetServer
from tests.gateway_helpers import wait
from tests.mail_helpers import Smtp
from tools import mosquitto, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

SERIAL = vterm.serial_for(75, 0)
CSV = (
    "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n"
    f"{SERIAL},TKM-58,mpos,Toko Alarm,purchased,INV-AL,2026-10-01\n"
)


def test_a_killed_terminal_is_one_offline_alert_by_email_and_one_all_clear(tmp_path):
    smtp = Smtp().start()
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        db_path = tmp_path / "fleet.sqlite3"
        fleet = FleetServer(tmp_path, f"sqlite://{db_path}", broker.url)
        fleet.env |= {"FLEET_SMTP_HOST": "127.0.0.1", "FLEET_SMTP_PORT": str(smtp.port), "FLEET_HOUSEKEEPING_S": "1"}
        (tmp_path / "devices.csv").write_text(CSV)
        assert fleet.cli("import-devices", "devices.csv").returncode == 0
        made = fleet.cli("create-user", "ops", "--role", "biz_support", FLEET_NEW_USER_PASSWORD="ops-pass-123")
        assert made.returncode == 0
        proc = None
        try:
            with fleet:
                token = fleet.token("ops", "ops-pass-123")
                dev = vterm.provision(tmp_path / "terminals", broker.url, 75, 0, {"heartbeat_s": 1})
                proc = vterm.start(dev, "1A B 1# !paper=out 1A B 1#", stay=True)

                def device() -> dict:
                    return fleet.request("GET", f"/devices/{SERIAL}", token=token)[1]

                merchant = wait(lambda: device().get("online") and device()["merchant_id"], what="online")
                settings = {"alert_email": "pemilik@toko-alarm.id", "business_hours": "00:00-23:59"}
                status, _ = fleet.request(
                    "PATCH", f"/merchants/{merchant}", settings | {"offline_alert_minutes": 5}, token
                )
                assert status == 200

                paper = f"Kertas habis di {SERIAL}"
                wait(lambda: [m for m in smtp.inbox if m["Subject"] == paper], timeout=30, what="the paper alert")

                proc.send_signal(signal.SIGKILL)  # no goodbye: the broker's last will says offline
                proc.wait()
                wait(lambda: device().get("online") is False, what="the last will")
                with sqlite3.connect(db_path) as db:
                    gone = (datetime.now(UTC) - timedelta(minutes=40)).isoformat()
                    db.execute("UPDATE device SET last_seen = ? WHERE serial = ?", (gone, SERIAL))
                offline = f"Terminal {SERIAL} offline"
                [told] = wait(lambda: [m for m in smtp.inbox if m["Subject"] == offline], timeout=30, what="offline")
                assert told["To"] == "pemilik@toko-alarm.id"
                kinds = {(a["kind"], a["serial"]) for a in fleet.request("GET", "/alerts", token=token)[1]}
                assert kinds == {("offline", SERIAL), ("paper_out", SERIAL)}

                proc = vterm.start(dev, "", stay=True)  # back, paper loaded: both resolve, each told once
                wait(lambda: len(smtp.inbox) == 4, timeout=40, what="the all-clears")
                assert fleet.request("GET", "/alerts", token=token)[1] == []
                subjects = sorted(m["Subject"] for m in smtp.inbox)
                assert subjects == sorted([
                    paper, offline, f"Terminal {SERIAL} terhubung kembali.",
                    f"Kertas printer terminal {SERIAL} sudah diganti.",
                ]), subjects  # fmt: skip
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
            smtp.stop()
