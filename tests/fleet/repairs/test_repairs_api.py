"""Warranty, rental and repair tickets through the API and the periodic jobs, on SQLite and PostgreSQL:
the public warranty check (W4, rate limit), rental locks (commands to the terminal), RF1 automatic
approval, a replacement unit inheriting the old one's terms, stale updates refused."""

import asyncio
from datetime import UTC, date, datetime

from fleet.commands.models import Command
from fleet.devices.models import Device, DeviceType, Ownership
from fleet.repairs import service as repairs
from fleet.repairs.models import Ticket, TicketTransition
from tests.api_helpers import fleet_api, login
from tests.fleet_helpers import Clock


def test_public_warranty_check_needs_the_invoice_and_is_rate_limited(database_url):
    async def body() -> None:
        clock = Clock(datetime(2026, 11, 20, 9, tzinfo=UTC))
        async with fleet_api(database_url, clock) as (client, _seed):
            right = await client.post(
                "/public/warranty-check", json={"serial": "tkm-a000", "invoice_number": "inv-tkm-a000"}
            )
            assert right.status_code == 200, right.text
            assert right.json() | {"covers": ""} == {
                "covered": True,
                "rule": "W1",
                "reason": "within a year of the invoice date",
                "expires": "2027-01-04",
                "days_left": 46,
                "covers": "",
            }
            wrong = await client.post("/public/warranty-check", json={"serial": "TKM-A000", "invoice_number": "INV-X"})
            unknown = await client.post(
                "/public/warranty-check", json={"serial": "NOPE-0001", "invoice_number": "INV-X"}
            )
            assert wrong.status_code == unknown.status_code == 404
            assert wrong.json()["detail"] == unknown.json()["detail"]  # a wrong pair tells nothing more (W4)
            answers = [
                (
                    await client.post("/public/warranty-check", json={"serial": f"TKM-{n:04d}", "invoice_number": "x"})
                ).status_code
                for n in range(10)
            ]
            assert answers[:7] == [404] * 7 and answers[7:] == [429] * 3  # 10 a minute, 3 used above
            limited = await client.post(
                "/public/warranty-check", json={"serial": "TKM-A000", "invoice_number": "INV-TKM-A000"}
            )
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
            health = (await client.get("/healthz")).json()["refused_requests"]
            assert health["refused.rate-limited"] == 4 and health["public.not-registered"] == 9

    asyncio.run(body())


def test_rental_locks_follow_the_rental_and_reach_the_terminal_as_commands(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (_client, _seed):
            device = await Device.get(serial="TKM-A001")  # rented 2026-06-01 .. 2027-05-31
            during = datetime(2027, 5, 20, 9, tzinfo=UTC)
            assert await repairs.sync_rental_locks(during.date(), during) == 0
            # Ends Monday 31 May 2027; 3 working days of grace (1 June is Pancasila Day): 2, 3, 4 June.
            assert repairs.rental_of(device, date(2027, 6, 4)).state == "expired"
            late = datetime(2027, 6, 7, 9, tzinfo=UTC)
            assert await repairs.sync_rental_locks(late.date(), late) == 2  # both merchants' rented units
            assert await repairs.sync_rental_locks(late.date(), late) == 0  # told once
            lock = await Command.filter(device=device, name="lock").get()
            assert lock.args == {"reason": "rental overdue"} and (await Device.get(id=device.id)).sales_locked
            await Device.filter(id=device.id).update(returned_on=date(2027, 6, 8))
            back = datetime(2027, 6, 8, 12, tzinfo=UTC)
            assert await repairs.sync_rental_locks(back.date(), back) == 1
            assert await Command.filter(device=device, name="unlock").count() == 1

    asyncio.run(body())


def test_rf1_unanswered_refund_request_is_approved_after_three_working_days(database_url):
    async def body() -> None:
        clock = Clock(datetime(2026, 12, 21, 9, tzinfo=UTC))
        async with fleet_api(database_url, clock) as (client, seed):
            support = await login(client, "support")
            merchant = await login(client, "merchant_a")
            path = f"/tickets/{seed.tickets['A']}/actions"
            for action, data in (
                ("request_shipment", {}),
                ("ship", {"courier": "pos", "tracking": "RR473124829ID"}),
                ("receive", {}),
                ("diagnose", {}),
            ):
                assert (await client.post(f"{path}/{action}", json={"data": data}, headers=support)).status_code == 200
            clock.now = datetime(2026, 12, 23, 15, tzinfo=UTC)
            request = {"kind": "refund", "order_total": 3_200_000, "shipping": 45_000}
            made = await client.post(f"{path}/request", json={"data": request}, headers=merchant)
            assert made.status_code == 200, made.text
            # S1: received Monday 21 December, due by Monday 28 (4 working days past Christmas): late on the 29th.
            clock.now = datetime(2026, 12, 29, 9, tzinfo=UTC)
            late = (await client.get("/tickets?overdue=true", headers=support)).json()
            assert [t["id"] for t in late] == [seed.tickets["A"]] and late[0]["due_latest"] == "2026-12-28"
            on_time = (await client.get("/tickets?overdue=false", headers=support)).json()
            assert seed.tickets["A"] not in [t["id"] for t in on_time]
            # Thu, Mon, Tue in the merchant's zone (WIB): Tuesday 23:30 WIB is in time, Wednesday 00:30 is not.
            assert await repairs.auto_approve(datetime(2026, 12, 29, 16, 30, tzinfo=UTC)) == 0
            assert await repairs.auto_approve(datetime(2026, 12, 29, 17, 30, tzinfo=UTC)) == 1
            ticket = await Ticket.get(id=seed.tickets["A"])
            assert ticket.state == "refunded" and ticket.detail["refund_amount"] == 3_155_000  # RF3
            last = await TicketTransition.filter(ticket_id=ticket.id).order_by("-id").first()
            assert last is not None and last.role == "system" and "RF1" in last.actor

    asyncio.run(body())


def test_replacement_inherits_the_terms_and_stale_updates_are_refused(database_url):
    async def body() -> None:
        clock = Clock(datetime(2026, 11, 23, 9, tzinfo=UTC))
        async with fleet_api(database_url, clock) as (client, seed):
            support = await login(client, "support")
            spare = await Device.create(
                serial="TKM-SPARE1", model="TKM-58", device_type=DeviceType.MPOS, ownership=Ownership.PURCHASED
            )
            path = f"/tickets/{seed.tickets['A']}/actions"
            first = await client.post(f"{path}/request_shipment", json={"data": {}, "version": 0}, headers=support)
            assert first.status_code == 200 and first.json()["version"] == 1
            stale = await client.post(f"{path}/cancel", json={"data": {}, "version": 0}, headers=support)
            assert stale.status_code == 409 and "reload" in stale.json()["detail"]
            for action, data in (
                ("ship", {"courier": "jnt", "tracking": "JP12"}),  # a bad number is flagged (SH2)...
                ("correct_tracking", {"tracking": "JP1234567890"}),  # ...and corrected explicitly
                ("receive", {}),
                ("diagnose", {}),
            ):
                answer = await client.post(f"{path}/{action}", json={"data": data}, headers=support)
                assert answer.status_code == 200, answer.text
            assert answer.json()["detail"]["inbound"] | {"shipped_at": ""} == {
                "leg": "inbound",
                "courier": "jnt",
                "tracking": "JP1234567890",
                "shipped_at": "",
                "tracking_valid": True,
                "courier_changes": 0,
                "corrections": 1,
            }
            old = await Device.get(serial="TKM-A000")
            await Device.filter(id=old.id).update(config={"receipt_header": "TOKO A"})
            swapped = await client.post(f"{path}/replace", json={"data": {"new_serial": "tkm-spare1"}}, headers=support)
            assert swapped.status_code == 200 and swapped.json()["state"] == "replaced"
            new = await Device.get(id=spare.id)
            assert (new.merchant_id, new.invoice_date, new.replaces_id) == (
                seed.merchants["A"],
                old.invoice_date,
                old.id,
            )
            assert await Command.filter(device=new, name="config").count() == 1  # the old unit's settings
            warranty = (await client.get("/devices/TKM-SPARE1/warranty?on=2027-01-04", headers=support)).json()
            assert warranty["covered"] and warranty["expires"] == "2027-01-04"  # the remaining warranty
            merchant = await login(client, "merchant_a")
            assert (await client.get("/devices/TKM-SPARE1", headers=merchant)).status_code == 200

    asyncio.run(body())
