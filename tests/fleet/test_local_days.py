"""#21: a day in a rule is a local day in the zone that applies, never a UTC date. Times are given in UTC
around midnight and the early morning of WIB (UTC+7), WITA (UTC+8) and WIT (UTC+9), across Nyepi and
Eid in 2026 and 2027: S1 counts from the service office's day, RF1 from the merchant's."""

import asyncio
import typing
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fleet.devices.schemas import TimeZone
from fleet.domain import calendar, refunds, tickets
from fleet.domain.calendar import ZONES, indonesia, local_day
from tests import factories

ID = indonesia([2025, 2026, 2027, 2028])
WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_the_api_offers_exactly_the_zones_the_rules_know():
    assert set(typing.get_args(TimeZone)) == set(ZONES) and calendar.DEFAULT_ZONE in ZONES


@pytest.mark.parametrize(
    ("moment", "zone", "day"),
    [
        (utc(2026, 11, 29, 16, 59), WIB, date(2026, 11, 29)),  # 23:59 WIB
        (utc(2026, 11, 29, 17, 0), WIB, date(2026, 11, 30)),  # 00:00 WIB
        (utc(2026, 11, 29, 15, 59), WITA, date(2026, 11, 29)),
        (utc(2026, 11, 29, 16, 0), WITA, date(2026, 11, 30)),
        (utc(2026, 11, 29, 14, 59), WIT, date(2026, 11, 29)),
        (utc(2026, 11, 29, 15, 0), WIT, date(2026, 11, 30)),
        (utc(2026, 11, 29, 23, 30), WIB, date(2026, 11, 30)),  # 23:30 UTC is the next day everywhere here
    ],
)
def test_local_day_is_the_date_in_the_zone(moment, zone, day):
    assert local_day(moment, zone) == day


def test_a_moment_without_a_zone_has_no_local_day():
    with pytest.raises(ValueError):
        local_day(datetime(2026, 11, 30, 6, 0), WIB)


def _received(at: datetime, office: str = calendar.OFFICE_ZONE) -> tickets.Ticket:
    ticket = tickets.Ticket("mpos", "purchased", state=tickets.State.IN_TRANSIT, office_zone=office)
    received, _ = tickets.apply(ticket, "receive", tickets.Role.BIZ_SUPPORT, "support", at, ID)
    return received


@pytest.mark.parametrize(
    ("rule", "at", "office", "received_on", "earliest", "latest"),
    [
        # Monday 06:30 WIB is Sunday 23:30 UTC: the window counts from Monday (it counted from Sunday).
        ("S1", utc(2026, 11, 29, 23, 30), WIB, date(2026, 11, 30), date(2026, 12, 3), date(2026, 12, 4)),
        # Sunday 23:30 WIB: still Sunday.
        ("S1", utc(2026, 11, 29, 16, 30), WIB, date(2026, 11, 29), date(2026, 12, 2), date(2026, 12, 3)),
        # Tuesday 00:30 WIB after Nyepi 2027 (Monday 8 March), then Eid (Wednesday and Thursday).
        ("S1", utc(2027, 3, 8, 17, 30), WIB, date(2027, 3, 9), date(2027, 3, 16), date(2027, 3, 17)),
        # Wednesday 00:30 WIB the day before Nyepi 2026 (Thursday 19 March): Nyepi is skipped.
        ("S1", utc(2026, 3, 17, 17, 30), WIB, date(2026, 3, 18), date(2026, 3, 24), date(2026, 3, 25)),
        # The same moment at an office in WITA: 01:30 Wednesday too; in WIB at 23:30 it is still Tuesday.
        ("S1", utc(2026, 3, 17, 16, 30), WITA, date(2026, 3, 18), date(2026, 3, 24), date(2026, 3, 25)),
        ("S1", utc(2026, 3, 17, 16, 30), WIB, date(2026, 3, 17), date(2026, 3, 23), date(2026, 3, 24)),
    ],
)
def test_s1_counts_from_the_day_the_office_receives_the_device(rule, at, office, received_on, earliest, latest):
    ticket = _received(at, office)
    assert (ticket.received_on, ticket.due_earliest, ticket.due_latest) == (received_on, earliest, latest), rule


def test_s1_is_the_office_day_whatever_the_merchant_zone():
    at = utc(2026, 11, 29, 23, 30)  # Monday 06:30 WIB, 08:30 WIT
    base = tickets.Ticket("mpos", "purchased", state=tickets.State.IN_TRANSIT, merchant_zone=WIT)
    received, _ = tickets.apply(base, "receive", tickets.Role.BIZ_SUPPORT, "support", at, ID)
    assert received.received_on == date(2026, 11, 30) == _received(at).received_on


@pytest.mark.parametrize(
    ("rule", "made_at", "zone", "due"),
    [
        # Sunday 23:00 UTC is Monday morning in all three zones: due Thursday (it was Wednesday).
        ("RF1", utc(2026, 11, 29, 23, 0), WIB, date(2026, 12, 3)),
        ("RF1", utc(2026, 11, 29, 23, 0), WITA, date(2026, 12, 3)),
        ("RF1", utc(2026, 11, 29, 23, 0), WIT, date(2026, 12, 3)),
        # Monday 16:30 UTC: 23:30 Monday in WIB, but already Tuesday in WITA and WIT.
        ("RF1", utc(2026, 11, 30, 16, 30), WIB, date(2026, 12, 3)),
        ("RF1", utc(2026, 11, 30, 16, 30), WITA, date(2026, 12, 4)),
        ("RF1", utc(2026, 11, 30, 16, 30), WIT, date(2026, 12, 4)),
        # Around Nyepi 2026 (Thursday 19 March): Tuesday night in WIB, Wednesday in WITA and WIT.
        ("RF1", utc(2026, 3, 17, 16, 30), WIB, date(2026, 3, 23)),
        ("RF1", utc(2026, 3, 17, 16, 30), WITA, date(2026, 3, 24)),
        ("RF1", utc(2026, 3, 17, 16, 30), WIT, date(2026, 3, 24)),
        # Around Eid 2027 (Wednesday 10 and Thursday 11 March): both days skipped, whichever day it is.
        ("RF1", utc(2027, 3, 9, 15, 30), WIB, date(2027, 3, 16)),
        ("RF1", utc(2027, 3, 9, 15, 30), WIT, date(2027, 3, 16)),
    ],
)
def test_rf1_counts_from_the_merchants_own_day(rule, made_at, zone, due):
    assert refunds.answer_due(made_at, ID, zone) == due, rule
    request = tickets.Request("refund", made_at, 100_000)
    assert tickets.answer_due(request, ID, zone) == due, rule


@pytest.mark.parametrize(
    ("now", "zone", "overdue"),
    [
        (utc(2026, 12, 3, 16, 59), WIB, False),  # due Thursday 3 December: Thursday 23:59 WIB is not past it
        (utc(2026, 12, 3, 17, 0), WIB, True),  # Friday 00:00 WIB
        (utc(2026, 12, 3, 15, 30), WIT, True),  # the same Thursday evening in UTC is Friday 00:30 in WIT
        (utc(2026, 12, 3, 15, 30), WIB, False),  # and Thursday 22:30 in WIB
    ],
)
def test_rf1_is_overdue_only_after_the_merchants_answer_day(now, zone, overdue):
    made_at = utc(2026, 11, 29, 23, 0)  # Monday morning everywhere: due Thursday 3 December
    assert refunds.overdue(made_at, now, ID, zone) is overdue
    ticket = tickets.Ticket(
        "mpos",
        "purchased",
        state=tickets.State.DIAGNOSING,  # a state the request may be approved in
        request=tickets.Request("refund", made_at, 100_000),
        merchant_zone=zone,
    )
    assert tickets.request_overdue(ticket, now, ID) is overdue


def test_rf1_automatic_approval_in_the_fleet_follows_each_merchants_zone(database_url):
    """The fleet's refund requests: at one moment, a WIT merchant's request is past its answer day and is
    approved, a WIB merchant's is not (yet)."""
    from fleet import db
    from fleet.devices.models import Device, DeviceType, Merchant, Ownership
    from fleet.payments import refunds as fleet_refunds
    from fleet.payments.models import BalanceEntry, RefundRequest

    async def body() -> None:
        await db.migrate(database_url)
        await db.connect(database_url)
        try:
            made_at = utc(2026, 11, 29, 23, 0)  # Monday morning in every zone: due Thursday 3 December
            for name, zone in (("Toko Barat", WIB), ("Toko Timur", WIT)):
                merchant = await Merchant.create(name=name, time_zone=zone)
                serial = "TKM-" + name[-5:].upper()
                await Device.create(
                    serial=serial,
                    model="TKM-58",
                    device_type=DeviceType.MPOS,
                    merchant=merchant,
                    ownership=Ownership.PURCHASED,
                    invoice_number="INV-1",
                    invoice_date=date(2026, 1, 5),
                )
                await BalanceEntry.create(merchant=merchant, amount=1_000_000, reason="sales", at=made_at)
                await RefundRequest.create(
                    merchant=merchant,
                    serial=serial,
                    receipt="R-1",
                    kind="refund",
                    paid=50_000,
                    shipping=0,
                    refund_amount=50_000,
                    made_at=made_at,
                    answer_due=refunds.answer_due(made_at, ID, zone),
                )
            assert await fleet_refunds.auto_approve(utc(2026, 12, 3, 15, 30)) == 1  # Thu 22:30 WIB, Fri 00:30 WIT
            statuses = {r.serial: r.status for r in await RefundRequest.all()}
            assert statuses == {"TKM-BARAT": "pending", "TKM-TIMUR": "approved"}, statuses
            assert await fleet_refunds.auto_approve(utc(2026, 12, 3, 17, 0)) == 1  # Friday 00:00 WIB
        finally:
            await db.disconnect()

    asyncio.run(body())


def test_a_merchant_sets_its_own_time_zone(database_url):
    """The zone is the merchant's setting (its user or staff), one of WIB, WITA and WIT; other settings
    stay as they are."""
    from tests.api_helpers import fleet_api, login

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            owner = await login(client, "merchant_a")
            path = f"/merchants/{seed.merchants['A']}"
            before = (await client.get(path, headers=owner)).json()
            assert before["time_zone"] == WIB
            for bad in ("Europe/Paris", "UTC", "", 7):
                assert (await client.patch(path, json={"time_zone": bad}, headers=owner)).status_code == 422
            changed = await client.patch(path, json={"time_zone": WIT}, headers=owner)
            assert changed.status_code == 200, changed.text
            assert changed.json() | {"time_zone": WIB} == before and changed.json()["time_zone"] == WIT
            other = f"/merchants/{seed.merchants['B']}"
            assert (await client.patch(other, json={"time_zone": WIT}, headers=owner)).status_code == 404

    asyncio.run(body())


@pytest.mark.parametrize(
    ("rule", "device_type", "plan", "earliest", "latest"),
    [
        # Received Monday 30 November 2026 (WIB).
        ("S1", "tablet", "basic", date(2026, 12, 9), date(2026, 12, 18)),  # 7-14 working days
        ("S1", "tablet", "premium", date(2026, 12, 3), date(2026, 12, 4)),  # Premium: 3-4, whatever the type
        ("S1", "mpos", "premium", date(2026, 12, 3), date(2026, 12, 4)),
        ("S1", "printer", "basic", date(2026, 12, 3), date(2026, 12, 4)),
    ],
)
def test_s1_a_premium_plan_device_is_repaired_in_3_to_4_working_days(rule, device_type, plan, earliest, latest):
    ticket = tickets.Ticket(device_type, "purchased", state=tickets.State.IN_TRANSIT, service_plan=plan)
    received, _ = tickets.apply(ticket, "receive", tickets.Role.BIZ_SUPPORT, "support", utc(2026, 11, 30, 3), ID)
    assert (received.due_earliest, received.due_latest) == (earliest, latest), rule


def test_s2_collective_leave_is_a_setting_that_moves_a_due_date(monkeypatch):
    """Cuti bersama around Nyepi and Eid 2026 (18, 20, 23 and 24 March): working days unless the office
    closes on them (FLEET_COLLECTIVE_LEAVE)."""
    from fleet.domain import sla
    from fleet.settings import get_settings
    from fleet.workdays import calendar_for

    received = date(2026, 3, 17)  # a Tuesday; Nyepi is Thursday 19 March
    public = sla.repair_window("mpos", received, indonesia([2026], collective_leave=False))
    closed = sla.repair_window("mpos", received, indonesia([2026], collective_leave=True))
    assert (public.earliest, public.latest) == (date(2026, 3, 23), date(2026, 3, 24))
    assert (closed.earliest, closed.latest) == (date(2026, 3, 27), date(2026, 3, 30))
    for setting, window in ((False, public), (True, closed)):
        monkeypatch.setattr(get_settings(), "collective_leave", setting)
        assert sla.repair_window("mpos", received, calendar_for(received)) == window


def test_s1_a_premium_device_imported_from_csv_keeps_its_plan(database_url):
    from fleet import db
    from fleet.devices import importer
    from fleet.devices.models import Device

    csv = (
        "serial,model,device_type,merchant,ownership,invoice_number,invoice_date,rental_start,rental_end,service_plan\n"
        "TKM-P001,TAB-10,tablet,Toko P,purchased,INV-1,2026-01-05,,,premium\n"
        "TKM-P002,TAB-10,tablet,Toko P,purchased,INV-2,2026-01-05,,,\n"
        "TKM-P003,TAB-10,tablet,Toko P,purchased,INV-3,2026-01-05,,,gold\n"
    )

    async def body() -> None:
        await db.migrate(database_url)
        await db.connect(database_url)
        try:
            report = await importer.import_devices(csv, by="test", now=datetime.now(UTC))
            assert [(e.serial, e.field) for e in report.errors] == [("TKM-P003", "service_plan")]
            plans = dict(await Device.all().values_list("serial", "service_plan"))
            assert plans == {"TKM-P001": "premium", "TKM-P002": "basic"}
        finally:
            await db.disconnect()

    asyncio.run(body())


@pytest.mark.parametrize(
    ("rule", "first_payment_at", "zone", "first_on", "due"),
    [
        # Monday 30 November 2026 06:00 WIB (Sunday 23:00 UTC): 14 working days later is Friday 18 December.
        ("O1", utc(2026, 11, 29, 23, 0), WIB, date(2026, 11, 30), date(2026, 12, 18)),
        # Sunday 23:00 UTC is Monday in WITA and WIT too; 16:30 UTC on Monday is Tuesday there, not in WIB.
        ("O1", utc(2026, 11, 30, 16, 30), WIB, date(2026, 11, 30), date(2026, 12, 18)),
        ("O1", utc(2026, 11, 30, 16, 30), WITA, date(2026, 12, 1), date(2026, 12, 21)),
        ("O1", utc(2026, 11, 30, 16, 30), WIT, date(2026, 12, 1), date(2026, 12, 21)),
        # Across Nyepi and Eid 2026 (19, 21 and 22 March; the 21st and 22nd are a weekend anyway) and Good
        # Friday (3 April).
        ("O1", utc(2026, 3, 17, 16, 30), WIB, date(2026, 3, 17), date(2026, 4, 8)),
        ("O1", utc(2026, 3, 17, 16, 30), WIT, date(2026, 3, 18), date(2026, 4, 9)),
        # Across Nyepi and Eid 2027 (8, 10 and 11 March) and Good Friday (26 March).
        ("O1", utc(2027, 3, 7, 23, 0), WIB, date(2027, 3, 8), date(2027, 3, 31)),
    ],
)
def test_o1_activation_is_due_14_working_days_after_the_merchants_first_payment(
    rule, first_payment_at, zone, first_on, due
):
    from fleet.domain import onboarding

    state = onboarding.onboarding(first_payment_at, None, first_payment_at, ID, zone)
    assert (state.stage, state.first_payment_on, state.activation_due) == ("onboarding", first_on, due), rule
    # Activated on the deadline at the latest (its first local minute), or the day onboarding finished.
    midnight = datetime(due.year, due.month, due.day, tzinfo=ZoneInfo(zone))
    assert (
        onboarding.onboarding(first_payment_at, None, midnight - timedelta(minutes=1), ID, zone).stage == "onboarding"
    )
    assert onboarding.onboarding(first_payment_at, None, midnight, ID, zone).activated_on == due
    finished = first_payment_at + timedelta(days=2)
    early = onboarding.onboarding(first_payment_at, finished, finished, ID, zone)
    assert early.stage == "active" and early.activated_on == local_day(finished, zone)
    assert onboarding.onboarding(None, None, midnight, ID, zone).stage == "new"


def test_o1_the_fleet_notes_the_first_payment_activates_on_time_and_biz_support_can_finish_earlier(database_url):
    """Housekeeping finds each merchant's first paid sale and activates the account on its deadline; Biz
    Support may finish the onboarding before it (the API), and a merchant sees only its own."""
    from fleet.devices.models import Merchant
    from fleet.ingest.models import Event
    from fleet.repairs import service as repairs
    from tests.api_helpers import fleet_api, login
    from tests.fleet_helpers import Clock

    async def body() -> None:
        clock = Clock(utc(2026, 11, 30, 3, 0))
        async with fleet_api(database_url, clock) as (client, seed):
            await Event.filter(type="sale").delete()  # the seed's sales: these merchants start afresh
            for letter, at in (("A", utc(2026, 11, 29, 23, 0)), ("B", utc(2026, 11, 30, 2, 0))):
                serial = seed.devices[letter][0]
                for seq, (paid, when) in enumerate(((0, at - timedelta(days=1)), (25_000, at)), start=1):
                    data = {"receipt": f"O-{seq}", "total": 25_000, "paid": paid}
                    await factories.event(serial, seq, "sale", when, data, jid="o1", merchant_id=seed.merchants[letter])
            assert (await repairs.housekeeping(clock.now))["merchants_activated"] == 0
            owner = await login(client, "merchant_a")
            support = await login(client, "support")
            mine = await client.get(f"/merchants/{seed.merchants['A']}/onboarding", headers=owner)
            assert mine.json() == {
                "stage": "onboarding",
                "first_payment_on": "2026-11-30",  # the paid sale, not the unpaid one the day before
                "activation_due": "2026-12-18",
                "activated_on": None,
                "rule": "O1",
            }, mine.text
            theirs = f"/merchants/{seed.merchants['B']}/onboarding"
            assert (await client.get(theirs, headers=owner)).status_code == 404
            assert (await client.post(theirs + "/finish", headers=owner)).status_code == 403
            finished = await client.post(theirs + "/finish", headers=support)
            assert finished.json()["stage"] == "active" and finished.json()["activated_on"] == "2026-11-30"
            clock.now = utc(2026, 12, 17, 17, 0)  # Friday 18 December 00:00 WIB: A's deadline
            assert (await repairs.housekeeping(clock.now))["merchants_activated"] == 1
            a = await Merchant.get(id=seed.merchants["A"])
            assert a.activated_on == date(2026, 12, 18) and a.onboarding_finished_at is None
            assert (await repairs.housekeeping(clock.now))["merchants_activated"] == 0  # once

    asyncio.run(body())


def test_the_portal_shows_each_merchant_its_own_time_zone(database_url):
    """Times in the portal are in the reader's zone and say which: a WIT merchant reads WIT, Biz Support
    reads WIB."""
    import re

    from fleet.devices.models import Merchant
    from tests.api_helpers import fleet_api, portal_login

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            await Merchant.filter(id=seed.merchants["A"]).update(time_zone=WIT)
            serial = seed.devices["A"][0]  # last seen 2026-11-20 09:00 UTC (api_helpers.NOW)
            for username, shown in (("merchant_a", "20 Nov 2026 18:00 WIT"), ("support", "20 Nov 2026 16:00 WIB")):
                client.cookies.clear()
                await portal_login(client, username)
                device = await client.get(f"/portal/devices/{serial}")
                assert shown in device.text, (username, re.findall(r"\\d+ \\w+ 2026 \\d\\d:\\d\\d \\w+", device.text))

    asyncio.run(body())
