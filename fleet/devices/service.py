"""Devices and merchants: what other features ask of them, and the merchants' onboarding (O1)."""

from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from fleet import paging
from fleet.audit import service as audit
from fleet.auth.deps import Principal, scoped
from fleet.commands.models import OPEN, Command
from fleet.devices import presence
from fleet.devices.models import Device, Merchant
from fleet.domain import onboarding
from fleet.domain.calendar import DEFAULT_ZONE, local_day
from fleet.errors import Conflict
from fleet.ingest.models import Event, TelemetrySample
from fleet.workdays import calendar_for


async def merchant_zone(merchant_id: int | None) -> str:
    """The time zone whose days count for this merchant's rules (the default zone for no merchant)."""
    if merchant_id is None:
        return DEFAULT_ZONE
    zone = await Merchant.filter(id=merchant_id).values_list("time_zone", flat=True)
    return str(zone[0]) if zone else DEFAULT_ZONE


NAMED_MERCHANTS = 1_000  # a search naming more merchants than this joins them instead of listing their ids


async def matching(text: str) -> Q:
    """The one device search (API and portal): the serial or the merchant's name holds `text`, in any case.
    The merchants are looked up first (their trigram index, migration 0024) and their ids given as a list,
    so that on PostgreSQL the device side is two index scans OR-ed as bitmaps (the serial's trigram index,
    the merchant index), not a scan of every device."""
    text = text.strip()[:32]
    named = await Merchant.filter(name__icontains=text).limit(NAMED_MERCHANTS + 1).values_list("id", flat=True)
    if len(named) > NAMED_MERCHANTS:
        return Q(serial__icontains=text) | Q(merchant__name__icontains=text)
    by_serial = Q(serial__icontains=text)
    return by_serial | Q(merchant_id__in=list(named)) if named else by_serial


async def listed(
    who: Principal,
    now: datetime,
    *,
    merchant_id: int | None = None,
    online: bool | None = None,
    model: str | None = None,
    firmware: str | None = None,
    q: str | None = None,
) -> QuerySet[Device]:
    """The devices the caller may see that pass every filter given, by serial: the one device list the
    API and the portal both show."""
    query = scoped(Device.all(), who)
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    if online is not None:
        query = query.filter(presence.online_q(now) if online else presence.offline_q(now))
    if model:
        query = query.filter(model=model)
    if firmware:
        query = query.filter(firmware=firmware)
    if q and q.strip():
        query = query.filter(await matching(q))
    return query.order_by("serial")


async def page_of(listing: QuerySet[Device], *, limit: int, after: str | None) -> paging.Page[Device]:
    """One page of a device listing (`listed`), by serial, after the cursor `after` (fleet.paging)."""
    return await paging.keyset(listing, ("serial",), limit=limit, after=after)


async def sales_lock(device: Device) -> dict[str, Any]:
    """Whether the terminal's sales are locked, as far as the fleet knows: by the newest lock or unlock
    command the terminal acknowledged (a person's, or the rental job's); else by what the rental job last
    told it. `waiting`: a newer lock or unlock is on its way and not yet acknowledged."""
    latest = Command.filter(device=device, name__in=("lock", "unlock")).order_by("-id")
    done = await latest.filter(status="acked").first()
    locked = done.name == "lock" if done is not None else device.sales_locked
    waiting = await latest.filter(status__in=OPEN).first()
    return {
        "locked": locked,
        "waiting": waiting.name if waiting is not None and (done is None or waiting.id > done.id) else None,
        "reason": str((done.args or {}).get("reason", "")) if done is not None and locked else "",
    }


async def latest_telemetry(serial: str) -> dict[str, Any] | None:
    """The terminal's newest telemetry sample, field by field (None before its first)."""
    sample = await TelemetrySample.filter(serial=serial).order_by("-device_time", "-id").first()
    if sample is None:
        return None
    return {k: getattr(sample, k) for k in sample._meta.fields_map if k not in ("id", "serial")}


async def open_commands(device: Device) -> int:
    """How many of the device's commands are still to be delivered or answered."""
    return await Command.filter(device=device, status__in=OPEN).count()


async def create_merchant(*, name: str, by: str, now: datetime) -> Merchant:
    """A new merchant; names are unique."""
    if await Merchant.exists(name=name):
        raise Conflict(f"merchant {name!r} exists")
    async with in_transaction():
        merchant = await Merchant.create(name=name)
        await audit.record(
            actor=by, action="merchant.created", target=f"merchant:{merchant.id}", at=now,
            merchant_id=merchant.id, after={"name": name},
        )  # fmt: skip
    return merchant


def onboarding_of(merchant: Merchant, now: datetime) -> onboarding.Onboarding:
    """Where the merchant's onboarding stands at `now` (O1)."""
    day = local_day(now, merchant.time_zone)
    return onboarding.onboarding(
        merchant.first_payment_at, merchant.onboarding_finished_at, now, calendar_for(day), merchant.time_zone
    )


async def first_payment(merchant_id: int) -> datetime | None:
    """When the merchant was first paid: the earliest sale of its terminals with money taken."""
    sales = Event.filter(merchant_id=merchant_id, type="sale").order_by("device_time", "id")
    for at, data in await sales.limit(50).values_list("device_time", "data"):
        if isinstance(data, dict) and isinstance(data.get("paid"), int) and data["paid"] > 0:
            return at  # type: ignore[no-any-return]
    return None


async def finish_onboarding(merchant: Merchant, *, by: str, now: datetime) -> Merchant:
    """Biz Support ends the merchant's onboarding: the account is active from today (O1), unless its
    deadline already activated it."""
    before = {"onboarding_finished_at": merchant.onboarding_finished_at, "activated_on": merchant.activated_on}
    if merchant.onboarding_finished_at is None:
        merchant.onboarding_finished_at = now
    merchant.activated_on = merchant.activated_on or onboarding_of(merchant, now).activated_on
    after = {"onboarding_finished_at": merchant.onboarding_finished_at, "activated_on": merchant.activated_on}
    async with in_transaction():
        await merchant.save(update_fields=["onboarding_finished_at", "activated_on"])
        await audit.record(
            actor=by, action="merchant.onboarded", target=f"merchant:{merchant.id}", at=now,
            merchant_id=merchant.id, before=before, after=after,
        )  # fmt: skip
    return merchant


async def change_settings(merchant: Merchant, changes: dict[str, Any], *, by: str, now: datetime) -> Merchant:
    """The merchant's own settings (P4's auto-cancel window, its zone, its alerts): those in `changes`."""
    before = {name: getattr(merchant, name) for name in changes}
    changed = {name: value for name, value in changes.items() if before[name] != value}
    if not changed:
        return merchant
    for name, value in changed.items():
        setattr(merchant, name, value)
    async with in_transaction():
        await merchant.save(update_fields=list(changed))
        await audit.record(
            actor=by, action="merchant.settings", target=f"merchant:{merchant.id}", at=now,
            merchant_id=merchant.id, before={n: before[n] for n in changed}, after=changed,
        )  # fmt: skip
    return merchant


async def sync_onboarding(now: datetime) -> int:
    """The periodic job of O1: note each merchant's first payment, and activate the accounts whose
    deadline has come. Returns how many were activated."""
    activated = 0
    for merchant in await Merchant.filter(activated_on__isnull=True):
        if merchant.first_payment_at is None:
            merchant.first_payment_at = await first_payment(merchant.id)
            if merchant.first_payment_at is None:
                continue
        state = onboarding_of(merchant, now)
        merchant.activated_on = state.activated_on
        await merchant.save(update_fields=["first_payment_at", "activated_on"])
        activated += state.stage is onboarding.Stage.ACTIVE
    return activated


def dashboard_filters(now: datetime, offline_before: datetime, low_battery: int) -> dict[str, Q]:
    """The dashboard's health figures as filters on the device table, by name: online, offline, paper out,
    battery under `low_battery` %, offline and unheard since `offline_before` (never heard counts)."""
    unheard = Q(last_seen__isnull=True) | Q(last_seen__lt=offline_before)
    return {
        "online": presence.online_q(now),
        "offline": presence.offline_q(now),
        "paper_out": Q(paper="out"),
        "low_battery": Q(battery_pct__lt=low_battery),
        "long_offline": presence.offline_q(now) & unheard,
    }


async def counted(filters: dict[str, Q]) -> dict[str, int]:
    """How many devices each filter holds, in one pass over the device table (a count per figure read
    it once each: five scans of a million rows per dashboard)."""
    counts = {f"n_{name}": Count("id", _filter=q) for name, q in filters.items()}  # n_: not a column's name
    [row] = await Device.annotate(**counts).values(*counts)
    return {name: int(row[f"n_{name}"] or 0) for name in filters}
