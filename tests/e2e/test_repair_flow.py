"""End to end: a virtual terminal (real firmware) reports repeated printer errors → the fleet suggests a
repair → Biz Support opens a ticket → shipment → received the day before Christmas → covered →
repaired → return shipment → closed, with the S1 due dates counted in working days across the holiday."""

import asyncio
import subprocess
from datetime import UTC, date, datetime

import httpx
import pytest

from fleet import db
from fleet.app import create_app
from fleet.auth.models import Role, User
from fleet.devices.models import Device, DeviceType, Merchant, Ownership
from fleet.ingest.models import Event
from fleet.ingest.worker import IngestWorker
from fleet.repairs import service as repairs
from tests.api_helpers import PASSWORD_HASH, SECRET, login
from tests.fleet_helpers import Clock, expected_keys, wait_until
from tools import mosquitto, terminal, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

SERIAL = vterm.serial_for(51, 0)
SALE = "1A B 1#"
# Six sales; after the 2nd, 4th and 6th receipt the printer reports an error (cutter, cutter, unrecoverable).
SCRIPT = (
    f"{SALE} !printer_error=cutter {SALE} !printer_error=none {SALE} !printer_error=cutter {SALE} "
    f"!printer_error=none {SALE} !printer_error=unrecoverable {SALE}"
)
TERMINAL_CLOCK = int(datetime(2026, 12, 22, 8, tzinfo=UTC).timestamp())


def test_printer_faults_to_a_closed_repair_across_christmas(database_url, tmp_path):
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        asyncio.run(_scenario(database_url, broker, tmp_path))


async def _scenario(url: str, broker: mosquitto.Mosquitto, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await db.migrate(url)
    await db.connect(url)
    stop = asyncio.Event()
    ingest = None
    try:
        merchant = await Merchant.create(name="Toko Natal")
        await Device.create(
            serial=SERIAL,
            model="TKM-58",
            device_type=DeviceType.MPOS,
            ownership=Ownership.PURCHASED,
            invoice_number="INV-NATAL-1",
            invoice_date=date(2026, 11, 2),
            merchant=merchant,
        )
        await User.create(username="support", password_hash=PASSWORD_HASH, role=Role.BIZ_SUPPORT)
        await User.create(username="owner", password_hash=PASSWORD_HASH, role=Role.MERCHANT, merchant=merchant)
        worker = IngestWorker("127.0.0.1", broker.port, batch_wait=0.02)
        ingest = asyncio.create_task(worker.run(stop))
        assert await asyncio.to_thread(worker.subscribed.wait, 10)

        # The terminal sells and its printer errs; everything reaches the fleet over the broker.
        dev = vterm.provision(tmp_path / "terminals", broker.url, 51, 0)
        (dev / "script.txt").write_text(SCRIPT)
        argv, env = terminal.command(dev, dev / "script.txt", clock=TERMINAL_CLOCK, drain_timeout=60)
        done = await asyncio.to_thread(subprocess.run, argv, env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        keys = expected_keys(dev)

        async def stored() -> bool:
            return await Event.filter(serial=SERIAL).count() == len(keys)

        assert await wait_until(stored, 30)

        clock = Clock(datetime(2026, 12, 22, 9, tzinfo=UTC))
        assert (await repairs.housekeeping(clock()))["suggestions"] == 1
        app = create_app(SECRET, clock=clock)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fleet.test") as client:
            support = await login(client, "support")
            owner = await login(client, "owner")
            [suggestion] = (await client.get("/suggestions", headers=support)).json()
            assert suggestion["serial"] == SERIAL and suggestion["kind"] == "printer_errors"
            assert "3 printer errors" in suggestion["reason"] and "cutter" in suggestion["reason"]
            assert (await client.get("/tickets", headers=support)).json() == []  # suggested, never opened
            opened = await client.post(f"/suggestions/{suggestion['id']}/accept", headers=support)
            assert opened.status_code == 201
            ticket = opened.json()
            path = f"/tickets/{ticket['id']}/actions"

            async def step(who, action, at, data=None, status=200):  # type: ignore[no-untyped-def]
                clock.now = at
                answer = await client.post(f"{path}/{action}", json={"data": data or {}}, headers=who)
                assert answer.status_code == status, answer.text
                return answer.json()

            await step(support, "request_shipment", datetime(2026, 12, 22, 10, tzinfo=UTC))
            await step(owner, "receive", datetime(2026, 12, 22, 11, tzinfo=UTC), status=409)  # not yet shipped
            shipped = await step(
                owner, "ship", datetime(2026, 12, 23, 9, tzinfo=UTC), {"courier": "jne", "tracking": "CGK1234567890"}
            )
            assert shipped["detail"]["inbound"]["tracking_valid"] is True
            await step(owner, "receive", datetime(2026, 12, 24, 10, tzinfo=UTC), status=403)  # Biz Support's step
            received = await step(support, "receive", datetime(2026, 12, 24, 10, tzinfo=UTC))
            # S1/S2: mPOS, 3-4 working days from Thursday 24 December: Christmas (Friday) and the weekend
            # do not count, so Monday 28, Tuesday 29, Wednesday 30 (earliest), Thursday 31 (latest).
            assert (received["due_earliest"], received["due_latest"]) == ("2026-12-30", "2026-12-31")
            await step(support, "diagnose", datetime(2026, 12, 28, 9, tzinfo=UTC))
            warranty = await client.get(f"/devices/{SERIAL}/warranty?part=cutter&cause=defect", headers=support)
            assert warranty.json()["covered"] is True and warranty.json()["rule"] == "W1"
            decided = await step(
                support,
                "decide",
                datetime(2026, 12, 28, 11, tzinfo=UTC),
                {"covered": True, "cause": "defect", "evidence_photos": ["cutter-1.jpg"]},
            )
            assert decided["costs"] == {
                "inbound_shipping": "merchant",
                "return_shipping": "vendor",
                "parts": "vendor",
                "rule": "C1",
            }
            await step(support, "repaired", datetime(2026, 12, 29, 16, tzinfo=UTC))
            await step(
                support,
                "ship_return",
                datetime(2026, 12, 30, 9, tzinfo=UTC),
                {"courier": "sicepat", "tracking": "000123456789"},
            )
            closed = await step(owner, "delivered", datetime(2027, 1, 4, 12, tzinfo=UTC))
            assert closed["state"] == "closed" and closed["overdue"] is False and closed["allowed_actions"] == []
            trail = [(t["action"], t["actor"]) for t in closed["transitions"]]
            assert trail == [
                ("open", "support"),
                ("request_shipment", "support"),
                ("ship", "owner"),
                ("receive", "support"),
                ("diagnose", "support"),
                ("decide", "support"),
                ("repaired", "support"),
                ("ship_return", "support"),
                ("delivered", "owner"),
            ]
            assert closed["transitions"][0]["data"]["suggestion"]["kind"] == "printer_errors"
            overdue = (await client.get("/tickets?overdue=true", headers=support)).json()
            assert overdue == []  # finished on 29 December, inside its window
            mine = (await client.get("/tickets", headers=owner)).json()
            assert [t["id"] for t in mine] == [ticket["id"]]
            # #19: the audit trail holds the walk, each step once with its actor, for staff and the owner.
            for who in (support, owner):
                audit = (await client.get(f"/audit?target=ticket:{ticket['id']}", headers=who)).json()["items"]
                assert [(e["action"], e["actor"]) for e in reversed(audit)] == [
                    (f"ticket.{action}", actor) for action, actor in trail
                ]
            received_entry = next(e for e in audit if e["action"] == "ticket.receive")
            assert (
                received_entry["before"] == {"state": "in_transit"} and received_entry["after"]["state"] == "received"
            )
    finally:
        stop.set()
        if ingest is not None:
            await asyncio.wait_for(ingest, 10)
        await db.disconnect()
