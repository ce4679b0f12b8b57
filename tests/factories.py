"""Rows as the fleet stores them, with the defaults a test does not care about: a stored event as the
ingest writes it (its key, its journal, the merchant the terminal had), a registered terminal, a charge.

    await factories.event("TKM-A000", 7, "sale", when, {"receipt": "V00-000007", "total": 25_000})
"""

from datetime import UTC, date, datetime
from typing import Any

from fleet.devices.models import Device, Merchant, Ownership
from fleet.ingest.models import Event
from fleet.payments.models import Charge

WHEN = datetime(2026, 11, 20, 9, tzinfo=UTC)


async def event(
    serial: str,
    seq: int,
    kind: str = "sale",
    when: datetime = WHEN,
    data: dict[str, Any] | None = None,
    *,
    jid: str = "j1",
    merchant_id: int | str | None = "device",
) -> Event:
    """The event `seq` of journal `jid` of `serial`, stamped (as the ingest does) with the merchant the
    terminal has now, unless `merchant_id` says another (or None)."""
    if merchant_id == "device":
        device = await Device.get_or_none(serial=serial)
        merchant_id = device.merchant_id if device is not None else None  # type: ignore[attr-defined]
    return await Event.create(
        key=f"{serial}/{jid}/{seq}",
        serial=serial,
        jid=jid,
        seq=seq,
        type=kind,
        device_time=when,
        data=data or {},
        merchant_id=merchant_id,
    )


async def sale(serial: str, seq: int, receipt: str, total: int, paid: int, when: datetime = WHEN, **kw: Any) -> Event:
    """A closed sale with its P1 status from what was paid of it."""
    status = "paid" if paid >= total else ("partially_paid" if paid else "unpaid")
    data = {"receipt": receipt, "total": total, "paid": paid, "outstanding": total - paid, "status": status}
    return await event(serial, seq, "sale", when, data, **kw)


async def terminal(merchant: Merchant | None, serial: str, **fields: Any) -> Device:
    """A purchased TKM-58 with its invoice, registered to `merchant`."""
    values: dict[str, Any] = {
        "model": "TKM-58",
        "device_type": "mpos",
        "ownership": Ownership.PURCHASED,
        "invoice_number": "INV-1",
        "invoice_date": date(2026, 1, 5),
    }
    return await Device.create(merchant=merchant, serial=serial, **(values | fields))


async def charge(serial: str, receipt: str, amount: int, when: datetime = WHEN, **fields: Any) -> Charge:
    """A QRIS charge at the sandbox acquirer for the first payment attempt of `receipt`."""
    values: dict[str, Any] = {
        "provider": "sandbox",
        "provider_ref": "ch_" + receipt,
        "reference": f"{serial}:{receipt}/1",
        "method": "qris",
        "created_at": when,
        "updated_at": when,
    }
    return await Charge.create(serial=serial, receipt=receipt, amount=amount, **(values | fields))
