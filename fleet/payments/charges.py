"""The fleet's record of a charge made at the acquirer, which the webhooks then settle."""

from datetime import datetime
from typing import Any

from fleet.payments.models import Charge


async def follow(
    provider: str,
    made: dict[str, Any],
    *,
    reference: str,
    serial: str,
    receipt: str,
    method: str,
    amount: int,
    now: datetime,
) -> Charge:
    """Record the acquirer's charge `made` once per reference (a repeated call returns the first)."""
    charge, _ = await Charge.get_or_create(
        reference=reference,
        defaults={
            "provider": provider,
            "provider_ref": made["id"],
            "serial": serial,
            "receipt": receipt,
            "method": method,
            "amount": amount,
            "created_at": now,
            "updated_at": now,
        },
    )
    return charge
