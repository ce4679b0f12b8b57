"""Devices and merchants: what other features ask of them, and the merchants' onboarding (O1)."""

from datetime import datetime

from tortoise.expressions import Q

from fleet.devices.models import Merchant
from fleet.domain import onboarding
from fleet.domain.calendar import DEFAULT_ZONE, local_day
from fleet.ingest.models import Event
from fleet.workdays import calendar_for


async def merchant_zone(merchant_id: int | None) -> str:
    """The time zone whose days count for this merchant's rules (the default zone for no merchant)."""
    if merchant_id is None:
        return DEFAULT_ZONE
    zone = await Merchant.filter(id=merchant_id).values_list("time_zone", flat=True)
    return str(zone[0]) if zone else DEFAULT_ZONE


def matching(text: str) -> Q:
    """The one device search (API and portal): the serial or the merchant's name holds `text`, in any case."""
    text = text.strip()[:32]
    return Q(serial__icontains=text) | Q(merchant__name__icontains=text)


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


async def finish_onboarding(merchant: Merchant, now: datetime) -> Merchant:
    """Biz Support ends the merchant's onboarding: the account is active from today (O1), unless its
    deadline already activated it."""
    if merchant.onboarding_finished_at is None:
        merchant.onboarding_finished_at = now
    merchant.activated_on = merchant.activated_on or onboarding_of(merchant, now).activated_on
    await merchant.save(update_fields=["onboarding_finished_at", "activated_on"])
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
