"""#19, alert rules: an alert opens once when its condition starts, is kept while it lasts, resolves
itself when it ends, and each opening and resolution is told once, by email through the outbox, to a real
SMTP server (aiosmtpd); an offline terminal outside its merchant's business hours is no alert."""

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest

from fleet.alerts import service as alerts
from fleet.alerts.models import Alert, Subscription
from fleet.devices.models import Device, Merchant
from fleet.domain import alerts as rules
from fleet.payments.models import FixPaymentCase, RefundRequest
from fleet.repairs.models import Suggestion
from fleet.settings import get_settings
from tests.api_helpers import fleet_api, login
from tests.mail_helpers import Smtp
from tools.mosquitto import free_port


async def _only_terminals_alerting() -> None:
    """The seed's alert, suggestions, pending refunds and subscriptions out of the way: each test here is
    about one rule, told by the merchant's alert address (and FLEET_SUPPORT_EMAIL)."""
    await Alert.all().delete()
    await Subscription.all().delete()
    await Suggestion.all().delete()
    await RefundRequest.all().delete()


def test_episodes_open_once_last_and_resolve():
    a = rules.Condition(rules.OFFLINE, "T-1", 1, "09:00")
    b = rules.Condition(rules.PAPER_OUT, "T-2", 1, "paper out")
    first = rules.changes(set(), [a, b, a])
    assert first.to_open == [a, b] and first.to_keep == [] and first.to_resolve == []
    second = rules.changes({a.key, b.key}, [a])
    assert second.to_open == [] and second.to_keep == [a.key] and second.to_resolve == [b.key]


@pytest.mark.parametrize(
    ("local", "hours", "inside"),
    [
        ("07:59", "08:00-21:00", False),
        ("08:00", "08:00-21:00", True),
        ("20:59", "08:00-21:00", True),
        ("21:00", "08:00-21:00", False),
        ("23:30", "18:00-02:00", True),  # a night shop: past midnight
        ("01:59", "18:00-02:00", True),
        ("02:00", "18:00-02:00", False),
    ],
)
def test_business_hours(local, hours, inside):
    opens, closes = rules.parse_hours(hours)
    assert (
        rules.within_hours(datetime.combine(datetime(2026, 12, 1), time.fromisoformat(local)), opens, closes) is inside
    )


def test_an_offline_terminal_is_one_alert_one_email_and_one_all_clear(database_url, monkeypatch):
    port = free_port()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", port)
    server = Smtp(port).start()

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            await _only_terminals_alerting()
            serial = seed.devices["A"][0]
            await Merchant.filter(id=seed.merchants["A"]).update(alert_email="pemilik@toko-a.id")
            now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 WIB: the shop is open
            await Device.all().update(online=True, last_seen=now, paper="ok", battery_pct=80)
            await Device.filter(serial=serial).update(online=False, last_seen=now - timedelta(minutes=20))
            assert await alerts.evaluate(now) == {"opened": 0, "resolved": 0}  # 20 minutes: under the 30
            later = now + timedelta(minutes=15)
            assert await alerts.evaluate(later) == {"opened": 1, "resolved": 0}
            assert await alerts.evaluate(later + timedelta(minutes=5)) == {"opened": 0, "resolved": 0}  # lasting
            [alert] = await Alert.all()
            assert alert.kind == "offline" and alert.serial == serial and alert.resolved_at is None
            assert alert.last_seen_at == later + timedelta(minutes=5)
            owner = await login(client, "merchant_a")
            [shown] = (await client.get("/alerts", headers=owner)).json()
            assert shown["id"] == alert.id
            acked = await client.post(f"/alerts/{alert.id}/acknowledge", headers=owner)
            assert acked.json()["acknowledged_by"] == "merchant_a"
            other = await login(client, "merchant_b")
            assert (await client.get("/alerts", headers=other)).json() == []

            back = later + timedelta(minutes=10)
            await Device.filter(serial=serial).update(online=True, last_seen=back)
            assert await alerts.evaluate(back) == {"opened": 0, "resolved": 1}
            assert (await client.get("/alerts", headers=owner)).json() == []
            assert [a["id"] for a in (await client.get("/alerts?resolved=true", headers=owner)).json()] == [alert.id]

            night = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 22:00 WIB: closed
            await Device.filter(serial=serial).update(online=False, last_seen=night - timedelta(hours=1))
            assert await alerts.evaluate(night) == {"opened": 0, "resolved": 0}
            await Device.filter(serial=serial).update(paper="out")
            assert await alerts.evaluate(night) == {"opened": 1, "resolved": 0}  # paper out counts at any hour

    try:
        asyncio.run(body())
    finally:
        server.stop()
    subjects = [m["Subject"] for m in server.inbox]
    assert subjects == [
        f"Terminal {'TKM-A000'} offline",
        "Terminal TKM-A000 terhubung kembali.",
        "Kertas habis di TKM-A000",
    ], subjects
    assert all(m["To"] == "pemilik@toko-a.id" for m in server.inbox)


def test_o1_the_deadline_is_near_three_working_days_before_it_and_never_once_active():
    from fleet.domain import onboarding
    from fleet.workdays import calendar_for

    first = datetime(2026, 12, 7, 2, tzinfo=UTC)  # Monday 09:00 WIB
    calendar = calendar_for(first.date())
    due = onboarding.activation_due(first.date(), calendar)
    state = onboarding.onboarding(first, None, first, calendar, "Asia/Jakarta")
    assert state.activation_due == due
    four_before = next(d for d in (due - timedelta(days=n) for n in range(1, 15)) if
                       calendar.working_days_between(d, due) == 4)  # fmt: skip
    three_before = next(d for d in (due - timedelta(days=n) for n in range(1, 15)) if
                        calendar.working_days_between(d, due) == 3)  # fmt: skip
    assert not onboarding.deadline_near(state, four_before, calendar)
    assert onboarding.deadline_near(state, three_before, calendar)
    assert onboarding.deadline_near(state, due - timedelta(days=1), calendar)
    finished = onboarding.onboarding(first, first, first, calendar, "Asia/Jakarta")
    assert not onboarding.deadline_near(finished, three_before, calendar)


def test_o1_an_activation_deadline_near_is_one_alert_to_biz_support_resolved_when_onboarding_ends(
    database_url, monkeypatch
):
    """#21: O1's alert through the alerts' mechanism: opened once when the deadline is three working days
    away, emailed once to Biz Support (FLEET_SUPPORT_EMAIL), kept, and resolved when onboarding ends."""
    from fleet.devices import service as devices
    from fleet.workdays import calendar_for

    port = free_port()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", port)
    monkeypatch.setattr(get_settings(), "support_email", "biz-support@fleet.example")
    server = Smtp(port).start()

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            await _only_terminals_alerting()
            await Device.all().update(online=True, last_seen=datetime(2027, 1, 1, tzinfo=UTC), paper="ok")
            first = datetime(2026, 12, 7, 2, tzinfo=UTC)
            merchant_id = seed.merchants["A"]
            await Merchant.filter(id=merchant_id).update(
                first_payment_at=first, activated_on=None, onboarding_finished_at=None, alert_email="x@toko-a.id"
            )
            calendar = calendar_for(first.date())
            due = devices.onboarding_of(await Merchant.get(id=merchant_id), first).activation_due
            assert due is not None
            early = datetime.combine(calendar.add_working_days(first.date(), 5), time(3), UTC)
            assert await alerts.evaluate(early) == {"opened": 0, "resolved": 0}
            near = datetime.combine(due - timedelta(days=1), time(3), UTC)
            assert await alerts.evaluate(near) == {"opened": 1, "resolved": 0}
            assert await alerts.evaluate(near + timedelta(hours=1)) == {"opened": 0, "resolved": 0}
            [alert] = await Alert.all()
            assert (alert.kind, alert.serial, alert.merchant_id) == ("activation_due", "", merchant_id)
            assert str(due) in alert.detail
            support = await login(client, "support")
            [shown] = (await client.get("/alerts", headers=support)).json()
            assert shown["kind"] == "activation_due"
            finished = await client.post(f"/merchants/{merchant_id}/onboarding/finish", headers=support)
            assert finished.status_code == 200, finished.text
            assert await alerts.evaluate(near + timedelta(hours=2)) == {"opened": 0, "resolved": 1}

    try:
        asyncio.run(body())
    finally:
        server.stop()
    assert [(m["To"], m["Subject"]) for m in server.inbox] == [
        ("biz-support@fleet.example", "Aktivasi merchant segera jatuh tempo"),
        ("biz-support@fleet.example", "Akun merchant sudah aktif (O1)."),
    ]


def test_work_waiting_by_a_day_alerts_who_must_do_it(database_url, monkeypatch):
    """#19: a repair due by the next working day (S1), a rental ending within three working days, a refund
    request on its last day before its automatic approval (RF1), an open fix-payment case (FP1) and a
    printer that keeps failing each open one alert, told once: Biz Support's by FLEET_SUPPORT_EMAIL, the
    merchant's by its alert address; each resolves when the work is done."""
    from fleet.devices.models import Ownership
    from fleet.repairs.models import SuggestionStatus, Ticket

    port = free_port()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", port)
    monkeypatch.setattr(get_settings(), "support_email", "biz-support@fleet.example")
    server = Smtp(port).start()
    now = datetime(2026, 12, 2, 3, tzinfo=UTC)  # Wednesday 10:00 WIB

    async def body() -> None:
        async with fleet_api(database_url) as (_client, seed):
            await _only_terminals_alerting()
            await Device.all().update(online=True, last_seen=now, paper="ok", battery_pct=80)
            a = seed.merchants["A"]
            await Merchant.filter(id=a).update(alert_email="pemilik@toko-a.id")
            s0, s1 = seed.devices["A"][:2]
            assert await alerts.evaluate(now) == {"opened": 0, "resolved": 0}

            ticket = await Ticket.get(id=seed.tickets["A"])
            await Ticket.filter(id=ticket.id).update(state="received", due_latest=datetime(2026, 12, 3).date())
            await Device.filter(serial=s1).update(ownership=Ownership.RENTED, rental_end=datetime(2026, 12, 4).date())
            refund = await RefundRequest.create(
                merchant_id=a, serial=s0, receipt="R-1", kind="refund", paid=10_000, refund_amount=10_000,
                made_at=now, answer_due=now.date(),
            )  # fmt: skip
            case = await FixPaymentCase.create(
                source="late_payment", reason="cancelled_at_terminal", reference=f"{s0}:R-2/1", rrn="RRN9",
                paid_at=now, amount=27_750, serial=s0, merchant_id=a, created_at=now,
            )  # fmt: skip
            failing = await Suggestion.create(device_id=(await Device.get(serial=s1)).id, kind="printer_errors",
                                              reason="5 errors in 24 h", created_at=now)  # fmt: skip
            assert await alerts.evaluate(now) == {"opened": 5, "resolved": 0}
            assert await alerts.evaluate(now + timedelta(minutes=1)) == {"opened": 0, "resolved": 0}
            kinds = {(r.kind, r.serial) for r in await Alert.filter(resolved_at__isnull=True)}
            assert kinds == {
                ("repair_due", s0), ("rental_ending", s1), ("refund_due", s0), ("fix_case", s0),
                ("printer_errors", s1),
            }  # fmt: skip

            await Ticket.filter(id=ticket.id).update(finished_on=now.date())
            await Device.filter(serial=s1).update(returned_on=now.date())
            await RefundRequest.filter(id=refund.id).update(status="approved")
            await FixPaymentCase.filter(id=case.id).update(status="resolved")
            await Suggestion.filter(id=failing.id).update(status=SuggestionStatus.ACCEPTED)
            assert await alerts.evaluate(now + timedelta(minutes=2)) == {"opened": 0, "resolved": 5}

    try:
        asyncio.run(body())
    finally:
        server.stop()
    to = {}
    for m in server.inbox:
        to.setdefault(m["To"], []).append(m["Subject"])
    assert sorted(to) == ["biz-support@fleet.example", "pemilik@toko-a.id"]
    assert len(to["biz-support@fleet.example"]) == 6 and len(to["pemilik@toko-a.id"]) == 4  # opened + resolved
    assert any("Sewa" in s for s in to["pemilik@toko-a.id"]) and any("refund" in s for s in to["pemilik@toko-a.id"])


def test_a_cover_left_open_is_an_alert_until_the_terminal_says_it_is_closed(database_url):
    """#19: the terminal journals a `fault` cover_open when the cover opens and again, inactive, when it
    closes; the alert follows the latest of them."""
    from tests import factories

    async def body() -> None:
        async with fleet_api(database_url) as (_client, seed):
            await _only_terminals_alerting()
            now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
            await Device.all().update(online=True, last_seen=now, paper="ok", battery_pct=80)
            serial = seed.devices["A"][0]
            opened = {"code": "cover_open", "active": True}
            await factories.event(serial, 100, "fault", now - timedelta(minutes=3), opened)
            await factories.event(
                serial, 101, "fault", now - timedelta(minutes=2), {"code": "paper_low", "active": True}
            )
            assert await alerts.evaluate(now) == {"opened": 1, "resolved": 0}
            [alert] = await Alert.filter(resolved_at__isnull=True)
            assert (alert.kind, alert.serial) == ("cover_open", serial)
            await factories.event(serial, 102, "fault", now - timedelta(minutes=1), opened | {"active": False})
            assert await alerts.evaluate(now) == {"opened": 0, "resolved": 1}

    asyncio.run(body())
