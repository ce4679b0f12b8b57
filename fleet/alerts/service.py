"""The alert job: what holds now, from what the fleet knows, turned into episodes and told once.

Run by the periodic jobs. Each round asks the rules which conditions hold (in SQL: terminals offline past
their merchant's threshold during its business hours, paper out, battery low; and merchants whose O1
activation deadline is near while their onboarding is still open, told to Biz Support), diffs them with the open
alerts (fleet.domain.alerts), opens the new episodes, keeps the lasting ones and resolves the ended ones;
an opening and a resolution are each told once, by email to the merchant's alert address, through the
outbox (fleet.notifications). Acknowledging an alert keeps it open but says someone is on it.
"""

import json
import re
import secrets
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from fleet.alerts.models import Alert, Subscription
from fleet.audit import service as audit
from fleet.devices import presence
from fleet.devices import service as devices
from fleet.devices.models import Device, Merchant, Ownership
from fleet.domain import alerts as rules
from fleet.domain import onboarding, tickets
from fleet.domain.calendar import DEFAULT_ZONE, EASTERNMOST_ZONE, OFFICE_ZONE, WESTERNMOST_ZONE, local_day
from fleet.errors import Invalid
from fleet.ingest.models import Event
from fleet.notifications import service as notifications
from fleet.notifications import webhooks
from fleet.notifications.models import Notification
from fleet.payments.gateway import Acquirer
from fleet.payments.models import FixPaymentCase, RefundRequest
from fleet.repairs.models import Suggestion, SuggestionStatus, Ticket
from fleet.settings import get_settings
from fleet.web.i18n import rupiah
from fleet.workdays import calendar_for

TEXTS = {
    rules.OFFLINE: ("Terminal {serial} offline", "Terminal {serial} tidak terhubung sejak {detail}."),
    rules.PAPER_OUT: ("Kertas habis di {serial}", "Printer terminal {serial} kehabisan kertas."),
    rules.LOW_BATTERY: ("Baterai lemah di {serial}", "Baterai terminal {serial} tinggal {detail}."),
    rules.ACTIVATION_DUE: (
        "Aktivasi merchant segera jatuh tempo",
        "Onboarding {detail} belum selesai; akun aktif otomatis pada tanggal itu (O1).",
    ),
    rules.REPAIR_DUE: ("Perbaikan {serial} harus selesai", "Tiket perbaikan terminal {serial}: {detail} (S1)."),
    rules.RENTAL_ENDING: ("Sewa {serial} segera berakhir", "Masa sewa terminal {serial} {detail}."),
    rules.REFUND_DUE: (
        "Permintaan refund {serial} menunggu jawaban",
        "Permintaan refund pada terminal {serial} belum dijawab: {detail}; setelah itu disetujui otomatis (RF1).",
    ),
    rules.FIX_CASE: ("Pembayaran tanpa pesanan", "Kasus perbaikan pembayaran {detail} di terminal {serial} (FP1)."),
    rules.PRINTER_ERRORS: ("Printer {serial} sering gagal", "Printer terminal {serial} berulang kali error."),
    rules.COVER_OPEN: ("Printer {serial} terbuka", "Tutup printer terminal {serial} terbuka; struk tidak tercetak."),
}
RESOLVED = {
    rules.OFFLINE: "Terminal {serial} terhubung kembali.",
    rules.PAPER_OUT: "Kertas printer terminal {serial} sudah diganti.",
    rules.LOW_BATTERY: "Baterai terminal {serial} sudah diisi.",
    rules.ACTIVATION_DUE: "Akun merchant sudah aktif (O1).",
    rules.REPAIR_DUE: "Perbaikan terminal {serial} selesai.",
    rules.RENTAL_ENDING: "Sewa terminal {serial} sudah diurus.",
    rules.REFUND_DUE: "Permintaan refund pada terminal {serial} sudah dijawab.",
    rules.FIX_CASE: "Kasus pembayaran terminal {serial} sudah diselesaikan.",
    rules.PRINTER_ERRORS: "Saran perbaikan printer {serial} sudah ditangani.",
    rules.COVER_OPEN: "Tutup printer terminal {serial} sudah ditutup.",
}


async def holding(now: datetime, merchants: dict[int, Merchant]) -> list[rules.Condition]:
    """The conditions that hold at `now` on registered terminals (`merchants` by id: their settings)."""
    found: list[rules.Condition] = []
    offline = Device.filter(presence.offline_q(now), merchant_id__isnull=False, last_seen__isnull=False)
    for serial, merchant_id, last_seen in await offline.values_list("serial", "merchant_id", "last_seen"):
        merchant = merchants.get(merchant_id)
        if merchant is None or last_seen > now - timedelta(minutes=merchant.offline_alert_minutes):
            continue
        try:
            opens, closes = rules.parse_hours(merchant.business_hours)
        except ValueError:
            opens, closes = rules.parse_hours("00:00-23:59")
        local = now.astimezone(ZoneInfo(merchant.time_zone))
        if rules.within_hours(local, opens, closes):  # outside them a closed shop's terminal is off: no alert
            seen = last_seen.astimezone(ZoneInfo(merchant.time_zone)).strftime("%H:%M")
            found.append(rules.Condition(rules.OFFLINE, serial, merchant_id, seen))
    paper = Device.filter(paper="out", merchant_id__isnull=False)
    for serial, merchant_id in await paper.values_list("serial", "merchant_id"):
        found.append(rules.Condition(rules.PAPER_OUT, serial, merchant_id, "paper out"))
    low = Device.filter(battery_pct__lt=rules.LOW_BATTERY_PCT, merchant_id__isnull=False)
    for serial, merchant_id, pct in await low.values_list("serial", "merchant_id", "battery_pct"):
        found.append(rules.Condition(rules.LOW_BATTERY, serial, merchant_id, f"{pct}%"))
    found += await _covers_open(now)
    for merchant in merchants.values():  # O1: onboarding still open days before the activation deadline
        if merchant.activated_on is not None or merchant.first_payment_at is None:
            continue
        state = devices.onboarding_of(merchant, now)
        today = local_day(now, merchant.time_zone)
        if onboarding.deadline_near(state, today, calendar_for(today)):
            detail = f"{merchant.name} ({state.activation_due})"
            found.append(rules.Condition(rules.ACTIVATION_DUE, "", merchant.id, detail))
    return found + await _work_waiting(now, merchants)


async def _covers_open(now: datetime) -> list[rules.Condition]:
    """Terminals whose latest cover fault of the last day says the cover is open (the terminal journals
    a `fault` cover_open when it opens and again, inactive, when it closes)."""
    since = now - timedelta(hours=rules.FAULTS_LOOKED_BACK_H)
    faults = Event.filter(type="fault", device_time__gte=since).order_by("device_time", "id")
    latest: dict[str, tuple[int | None, bool]] = {}
    for serial, merchant_id, data in await faults.values_list("serial", "merchant_id", "data"):
        if isinstance(data, dict) and data.get("code") == "cover_open":
            latest[str(serial)] = (merchant_id, bool(data.get("active")))
    return [
        rules.Condition(rules.COVER_OPEN, serial, merchant_id, "printer cover open")
        for serial, (merchant_id, active) in latest.items()
        if active and merchant_id is not None
    ]


async def _work_waiting(now: datetime, merchants: dict[int, Merchant]) -> list[rules.Condition]:
    """The rules on work someone must do by a day: repairs (S1), rentals ending, refunds (RF1), fix cases
    (FP1), and a printer that keeps failing (the suggestion rule's finding)."""
    found: list[rules.Condition] = []
    office = local_day(now, OFFICE_ZONE)
    calendar = calendar_for(office)
    eve = calendar.add_working_days(office, 1)  # due by the next working day: act today
    late = Ticket.filter(
        due_latest__lte=eve, finished_on__isnull=True, state__not_in=[str(s) for s in tickets.NO_SLA]
    ).order_by("due_latest")
    for serial, merchant_id, due in await late.values_list("device__serial", "merchant_id", "due_latest"):
        detail = f"late since {due}" if due < office else f"due {due}"
        found.append(rules.Condition(rules.REPAIR_DUE, serial, merchant_id, detail))
    # Ending between today and NEAR_DAYS working days on, in some merchant's zone: the rental_end
    # index reads just those days' rentals, not every rented terminal.
    first, last = local_day(now, WESTERNMOST_ZONE), local_day(now, EASTERNMOST_ZONE)
    rented = Device.filter(
        ownership=Ownership.RENTED,
        returned_on__isnull=True,
        rental_end__gte=first,
        rental_end__lte=calendar.add_working_days(last, rules.NEAR_DAYS),
        merchant_id__isnull=False,
    )
    for serial, merchant_id, end in await rented.values_list("serial", "merchant_id", "rental_end"):
        merchant = merchants.get(merchant_id)
        today = local_day(now, merchant.time_zone if merchant else DEFAULT_ZONE)
        if today <= end <= calendar.add_working_days(today, rules.NEAR_DAYS):
            found.append(rules.Condition(rules.RENTAL_ENDING, serial, merchant_id, f"ends {end}"))
    pending = RefundRequest.filter(status="pending")
    for serial, merchant_id, due in await pending.values_list("serial", "merchant_id", "answer_due"):
        merchant = merchants.get(merchant_id)
        today = local_day(now, merchant.time_zone if merchant else DEFAULT_ZONE)
        if due <= today:  # the last day to answer: approved by itself after it (RF1)
            found.append(rules.Condition(rules.REFUND_DUE, serial, merchant_id, f"answer by {due}"))
    for serial, merchant_id, amount in await FixPaymentCase.filter(status="open").values_list(
        "serial", "merchant_id", "amount"
    ):
        found.append(rules.Condition(rules.FIX_CASE, serial or "", merchant_id, rupiah(amount)))
    failing = Suggestion.filter(status=SuggestionStatus.OPEN, kind="printer_errors")
    for serial, merchant_id in await failing.values_list("device__serial", "device__merchant_id"):
        found.append(rules.Condition(rules.PRINTER_ERRORS, serial, merchant_id, "printer errors repeating"))
    return found


async def evaluate(now: datetime, acquirer: Acquirer | None = None) -> dict[str, int]:
    """One round of the alert rules; how many alerts were opened and resolved."""
    merchants = {m.id: m for m in await Merchant.all()}
    open_rows = {(a.kind, a.serial, a.merchant_id): a for a in await Alert.filter(resolved_at__isnull=True)}
    change = rules.changes(set(open_rows), await holding(now, merchants))
    subscriptions = await Subscription.all()
    queued: list[Notification] = []
    async with in_transaction():
        for condition in change.to_open:
            row = await Alert.create(
                kind=condition.kind,
                serial=condition.serial,
                merchant_id=condition.merchant_id,
                detail=condition.detail[:200],
                opened_at=now,
                last_seen_at=now,
            )
            subject, text = (t.format(serial=row.serial, detail=row.detail) for t in TEXTS[row.kind])
            queued += await _tell(row, "alert.opened", merchants, subscriptions, now, subject, text)
        keep = [open_rows[key].id for key in change.to_keep]
        for start in range(0, len(keep), 1000):  # a statement per thousand (drivers cap a statement's parameters)
            await Alert.filter(id__in=keep[start : start + 1000]).update(last_seen_at=now)
        for key in change.to_resolve:
            row = open_rows[key]
            row.resolved_at = now
            await row.save(update_fields=["resolved_at"])
            text = RESOLVED[row.kind].format(serial=row.serial)
            queued += await _tell(row, "alert.resolved", merchants, subscriptions, now, text, text)
    await notifications.deliver(queued, acquirer, now)
    return {"opened": len(change.to_open), "resolved": len(change.to_resolve)}


async def _tell(
    row: Alert,
    event: str,
    merchants: dict[int, Merchant],
    subscriptions: list[Subscription],
    now: datetime,
    subject: str,
    text: str,
) -> list[Notification]:
    """Queue the news of `row` to whoever hears it: Biz Support's alerts to FLEET_SUPPORT_EMAIL and the
    subscriptions without a merchant, a merchant's to its alert address and its subscriptions; each
    subscription on its channel, for its kinds, held back during its quiet hours."""
    support = row.kind in rules.FOR_SUPPORT  # Biz Support's to act on, not the merchant's
    merchant = merchants.get(row.merchant_id) if row.merchant_id is not None else None
    email = get_settings().support_email if support else merchant.alert_email if merchant else None
    cause = f"alert:{row.id}"
    queued = await notifications.enqueue(cause, now, email=email, subject=subject, text=text)
    owner = None if support else row.merchant_id
    zone = OFFICE_ZONE if support or merchant is None else merchant.time_zone
    for sub in subscriptions:
        if sub.merchant_id != owner or (owner is None and not support) or (sub.kinds and row.kind not in sub.kinds):
            continue
        held = rules.quiet_until(now.astimezone(ZoneInfo(zone)), _hours(sub.quiet_hours))
        body = text
        if sub.channel == notifications.WEBHOOK:
            body = json.dumps({"event": event, "alert": _plain(row), "text": text}, separators=(",", ":"))
        row_for = await notifications.enqueue_to(
            cause,
            channel=sub.channel,
            recipient=sub.address,
            subject=subject,
            text=body,
            now=now,
            not_before=held.astimezone(UTC) if held else None,
            subscription_id=sub.id,
        )
        queued.append(row_for)
    return [n for n in queued if n.next_at <= now]  # those held back go when the job finds them due


def _hours(text: str) -> tuple[time, time] | None:
    try:
        return rules.parse_hours(text) if text else None
    except ValueError:
        return None


def _plain(row: Alert) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "serial": row.serial,
        "merchant_id": row.merchant_id,
        "detail": row.detail,
        "opened_at": row.opened_at.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }


async def subscribe(
    *,
    merchant_id: int | None,
    channel: str,
    address: str,
    kinds: list[str],
    quiet_hours: str,
    by: str,
    now: datetime,
) -> Subscription:
    """A new way to hear alerts. SMS and WhatsApp go to +62 numbers only (P2's carrier); a webhook to a
    public https URL, signed with a secret made here (and shown once, in the answer)."""
    if channel not in notifications.CHANNELS:
        raise Invalid("channel: email, sms, whatsapp or webhook")
    if unknown := [k for k in kinds if k not in rules.KINDS]:
        raise Invalid("unknown alert kinds: " + ", ".join(unknown))
    if quiet_hours:
        try:
            rules.parse_hours(quiet_hours)
        except ValueError as e:
            raise Invalid("quiet_hours is HH:MM-HH:MM") from e
    if channel in (notifications.SMS, notifications.WHATSAPP) and not re.fullmatch(r"\+62\d{8,13}", address):
        raise Invalid("SMS and WhatsApp go to Indonesian numbers only (+62…) (P2)", rule="P2")
    if channel == notifications.EMAIL and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
        raise Invalid("not an email address")
    secret = None
    if channel == notifications.WEBHOOK:
        try:
            webhooks.check_url(address)
        except webhooks.UnsafeUrl as e:
            raise Invalid(str(e)) from e
        secret = "whsec_" + secrets.token_urlsafe(24)
    async with in_transaction():
        row = await Subscription.create(
            merchant_id=merchant_id, channel=channel, address=address[:254], kinds=kinds,
            quiet_hours=quiet_hours, secret=secret, created_by=by, created_at=now,
        )  # fmt: skip
        await audit.record(
            actor=by, action="subscription.create", target=f"subscription:{row.id}", at=now,
            merchant_id=merchant_id,
            after={"channel": channel, "address": address, "kinds": kinds, "quiet_hours": quiet_hours},
        )  # fmt: skip
    return row


async def unsubscribe(row: Subscription, *, by: str, now: datetime) -> None:
    async with in_transaction():
        await row.delete()
        await audit.record(
            actor=by, action="subscription.delete", target=f"subscription:{row.id}", at=now,
            merchant_id=row.merchant_id, before={"channel": row.channel, "address": row.address},
        )  # fmt: skip


async def acknowledge(row: Alert, who: str, now: datetime) -> Alert:
    """Someone is on it: the alert stays open until its condition ends."""
    if row.acknowledged_at is None:
        row.acknowledged_at, row.acknowledged_by = now, who
        async with in_transaction():
            await row.save(update_fields=["acknowledged_at", "acknowledged_by"])
            await audit.record(
                actor=who, action="alert.acknowledge", target=f"alert:{row.id}", at=now,
                merchant_id=row.merchant_id, after={"kind": row.kind, "serial": row.serial},
            )  # fmt: skip
    return row
