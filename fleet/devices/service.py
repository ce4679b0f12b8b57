"""Devices and merchants: what other features ask of them."""

from fleet.devices.models import Merchant
from fleet.domain.calendar import DEFAULT_ZONE


async def merchant_zone(merchant_id: int | None) -> str:
    """The time zone whose days count for this merchant's rules (the default zone for no merchant)."""
    if merchant_id is None:
        return DEFAULT_ZONE
    zone = await Merchant.filter(id=merchant_id).values_list("time_zone", flat=True)
    return str(zone[0]) if zone else DEFAULT_ZONE
