"""Pay links (P1-P3): an invoice for the outstanding amount of a terminal's Unpaid or Partially paid
sale, sent by email (SMTP) and by SMS only to +62 numbers, paid through a public checkout page; once
the acquirer says it is paid, the terminal is told at once and prints the final receipt."""

import secrets
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from fleet.audit import service as audit
from fleet.devices.models import Device, Merchant
from fleet.errors import NotFound
from fleet.ingest.models import Event
from fleet.notifications import service as notifications
from fleet.payments import charges
from fleet.payments.exceptions import BadPayLink, PayLinkConflict
from fleet.payments.gateway import Acquirer
from fleet.payments.models import Charge, PayLink
from fleet.settings import get_settings
from fleet.web.i18n import rupiah

METHODS = ("qris", "card", "paylater")


async def order(serial: str, receipt: str, merchant_id: int | None = None) -> dict[str, Any] | None:
    """The order as the terminal last reported it (its latest `sale` event): status, total, paid,
    outstanding. With `merchant_id`, only an order made while the terminal was that merchant's."""
    query = Event.filter(serial=serial, type="sale")
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    rows = await query.order_by("-seq").limit(500)
    for row in rows:
        if row.data.get("receipt") == receipt:
            state = {k: row.data.get(k) for k in ("receipt", "status", "total", "paid", "outstanding")}
            return state | {"at": row.device_time}  # when the terminal closed it
    return None


async def create(
    acquirer: Acquirer,
    device: Device,
    *,
    receipt: str,
    email: str | None,
    phone: str | None,
    methods: list[str],
    who: str,
    now: datetime,
) -> PayLink:
    state = await order(device.serial, receipt, device.merchant_id)  # type: ignore[attr-defined]
    if state is None:  # also an order from before the terminal was this merchant's: not theirs to collect
        raise NotFound(f"no order {receipt} from {device.serial}")
    if state["status"] not in ("unpaid", "partially_paid") or not state["outstanding"]:
        raise PayLinkConflict("a pay link is only for an Unpaid or Partially paid order (P1)", rule="P1")
    if not email and not phone:
        raise BadPayLink("an email address or a phone number is needed")
    if phone and not phone.startswith("+62"):
        raise BadPayLink("SMS goes only to Indonesian numbers (+62); send it by email (P2)", rule="P2")
    if not methods or any(m not in METHODS for m in methods):
        raise BadPayLink("methods: one or more of " + ", ".join(METHODS), rule="P2")
    if await PayLink.exists(serial=device.serial, receipt=receipt, status="open"):
        raise PayLinkConflict("this order already has an open pay link")
    merchant = await Merchant.get_or_none(id=device.merchant_id) if device.merchant_id else None  # type: ignore[attr-defined]
    shop = merchant.name if merchant else "POS Fleet"
    token = secrets.token_urlsafe(24)
    url = f"{get_settings().public_url.rstrip('/')}/pay/{token}"
    amount = state["outstanding"]
    text = f"{shop}: tagihan {receipt} sebesar {rupiah(amount)}. Bayar di {url}"
    body = f"{text}\n\nInvoice {receipt} from {shop}: {rupiah(amount)} outstanding. Pay at {url}\n"
    async with in_transaction():  # the link and its messages together: a message is never lost, nor sent alone
        link = await PayLink.create(
            token=token,
            serial=device.serial,
            receipt=receipt,
            amount=amount,
            methods=methods,
            email=email,
            phone=phone,
            created_by=who,
            created_at=now,
        )
        queued = await notifications.enqueue(
            f"paylink:{token}", now, email=email, subject=f"Tagihan {receipt} - {shop}", text=body
        )
        queued += await notifications.enqueue(f"paylink:{token}", now, phone=phone, subject="", text=text)
        await audit.record(  # the link's token is its secret: the trail names the order, not the link
            actor=who, action="paylink.sent", target=f"order:{device.serial}/{receipt}", at=now,
            merchant_id=device.merchant_id,  # type: ignore[attr-defined]
            after={"amount": amount, "methods": methods, "email": email, "phone": phone},
        )  # fmt: skip
    await notifications.deliver(queued, acquirer, now)  # at once; a channel that is down is retried by the job
    return link


async def checkout(acquirer: Acquirer, link: PayLink, method: str, now: datetime) -> str:
    """The customer chose a method on the public page: a charge at the acquirer; its hosted checkout URL."""
    if link.status != "open":
        raise PayLinkConflict(f"this pay link is {link.status}")
    if method not in link.methods:
        raise BadPayLink("the merchant did not offer this method (P2)", rule="P2")
    reference = f"paylink:{link.token}"
    made = await acquirer.create_charge(reference, link.amount, "paylink", link.serial)
    await charges.follow(
        acquirer.name,
        made,
        reference=reference,
        serial=link.serial,
        receipt=link.receipt,
        method="paylink",
        amount=link.amount,
        now=now,
    )
    link.charge_ref = made["id"]
    await link.save(update_fields=["charge_ref"])
    return str(made["checkout_url"])


async def on_paid(charge: Charge, now: datetime) -> None:
    if charge.reference.startswith("paylink:"):
        await PayLink.filter(token=charge.reference.split(":", 1)[1], status="open").update(status="paid", paid_at=now)
