"""Refund, return and complaint requests (RF1-RF5): load, call the rule, save, notify."""

from datetime import datetime
from typing import Any

from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from fleet.audit import service as audit
from fleet.devices.models import Device, Merchant
from fleet.devices.service import merchant_zone
from fleet.domain import refunds
from fleet.domain.calendar import DEFAULT_ZONE, EASTERNMOST_ZONE, local_day
from fleet.notifications import service as notifications
from fleet.notifications.models import Notification
from fleet.payments import paylinks
from fleet.payments.exceptions import BadRefund, RefundConflict
from fleet.payments.gateway import Acquirer
from fleet.payments.models import BalanceEntry, Reconciliation, RefundRequest
from fleet.web.i18n import rupiah
from fleet.workdays import calendar_for


async def balance(merchant_id: int) -> int:
    row = await BalanceEntry.filter(merchant_id=merchant_id).annotate(total=Sum("amount")).first().values("total")
    return int(row["total"] or 0) if row else 0


async def sale_settled(request: RefundRequest) -> bool:
    """RF5: whether the refunded sale's day (the merchant's) has been settled: a settlement report of that
    day or a later one was reconciled."""
    order = await paylinks.order(request.serial, request.receipt)
    return await _settled(order, request.merchant_id)  # type: ignore[attr-defined]


async def _settled(order: dict[str, Any] | None, merchant_id: int) -> bool:
    if order is None:
        return True  # no sale on record: nothing is held for it, the balance must pay
    zone = await merchant_zone(merchant_id)
    latest = await Reconciliation.all().order_by("-day").first().values_list("day", flat=True)
    return refunds.settled(local_day(order["at"], zone), latest)  # type: ignore[arg-type]


async def answer_terminal(device: Device, args: dict[str, Any]) -> dict[str, Any]:
    """RF5 at the terminal: the cashier refunds a sale of an earlier day (`req` refund). Not yet settled, it
    goes ahead whatever the balance; settled, the balance must hold the amount. The answer is the
    `refund_answer` command's args; the money leaves the balance when the terminal's refund event arrives
    (`take_terminal_refund`), so a refund the terminal never makes costs nothing."""
    answer: dict[str, Any] = {"ref": args["ref"], "ok": False}
    merchant_id = device.merchant_id  # type: ignore[attr-defined]
    if merchant_id is None:
        return answer | {"detail": "the terminal belongs to no merchant"}
    order = await paylinks.order(device.serial, args["original"], merchant_id)
    if order is None or not order["paid"]:
        return answer | {"detail": "the fleet has no paid sale with this receipt yet"}
    outcome = refunds.refund_outcome(args["amount"], await _settled(order, merchant_id), await balance(merchant_id))
    if outcome == refunds.REFUSED:
        return answer | {"detail": "the merchant's balance is too low (RF5)"}
    return answer | {"ok": True}


async def take_terminal_refund(
    merchant_id: int | None, serial: str, key: str, data: dict[str, Any], at: datetime
) -> bool:
    """The ledger takes a refund the terminal made (its `refund` event, identified by `key`) once: money
    that came through the gateway goes back out of the balance (RF5); a cash refund came from the drawer."""
    if merchant_id is None or data.get("method") == "cash":
        return False
    reason = f"refund {serial}/{data['original']} at the terminal ({key})"[:120]
    if await BalanceEntry.exists(merchant_id=merchant_id, reason=reason):
        return False
    await BalanceEntry.create(merchant_id=merchant_id, amount=-int(data["amount"]), reason=reason, at=at)
    return True


async def create(
    device: Device,
    *,
    receipt: str,
    kind: str,
    solution: str | None,
    shipping: int,
    email: str | None,
    phone: str | None,
    who: str,
    now: datetime,
) -> RefundRequest:
    if device.merchant_id is None:  # type: ignore[attr-defined]
        raise BadRefund("the terminal belongs to no merchant")
    order = await paylinks.order(device.serial, receipt, device.merchant_id)  # type: ignore[attr-defined]
    if order is None or order["status"] != "paid":
        raise RefundConflict("refunds, returns and complaints are for paid orders")
    try:
        asked = refunds.amounts(kind, solution, int(order["paid"]), shipping)
    except refunds.RefundError as e:
        raise BadRefund(str(e), rule=e.rule) from e
    if await RefundRequest.exists(serial=device.serial, receipt=receipt, status="pending"):
        raise RefundConflict("this order already has a request waiting for an answer")
    due = refunds.answer_due(now, calendar_for(now.date()), await merchant_zone(device.merchant_id))  # type: ignore[attr-defined]
    async with in_transaction():
        made = await RefundRequest.create(
            merchant_id=device.merchant_id,  # type: ignore[attr-defined]
            serial=device.serial,
            receipt=receipt,
            kind=kind,
            solution=solution if kind == "complaint" else None,
            paid=int(order["paid"]),
            shipping=shipping,
            refund_amount=asked.refund,
            customer_email=email,
            customer_phone=phone,
            made_at=now,
            answer_due=due,
        )
        await audit.record(
            actor=who, action=f"refund.{kind}", target=f"refund:{made.id}", at=now,
            merchant_id=made.merchant_id,  # type: ignore[attr-defined]
            after={"receipt": receipt, "refund_amount": made.refund_amount, "answer_due": due},
        )  # fmt: skip
    return made


async def approve(
    request: RefundRequest, *, who: str, now: datetime, acquirer: Acquirer | None = None
) -> RefundRequest:
    """Approve; an after-sale refund comes out of the merchant's balance and is refused when it is too low (RF5)."""
    if request.status != "pending":
        raise RefundConflict(f"the request is already {request.status}")
    async with in_transaction():
        if request.refund_amount:
            merchant_id = request.merchant_id  # type: ignore[attr-defined]
            outcome = refunds.refund_outcome(
                request.refund_amount, await sale_settled(request), await balance(merchant_id)
            )
            if outcome == refunds.REFUSED:
                request.status, request.reason = "refused_balance", "the merchant's balance is too low (RF5)"
            else:
                during = outcome == refunds.AT_ONCE  # the sale's own money, not yet settled: never refused
                await BalanceEntry.create(
                    merchant_id=merchant_id,
                    amount=-request.refund_amount,
                    reason=f"refund {request.serial}/{request.receipt}" + (" before settlement" if during else ""),
                    at=now,
                )
                request.status = "approved"
        else:
            request.status = "approved"  # a replacement product (RF3)
        request.answered_at, request.answered_by = now, who
        await request.save()
        await _audit(request, who, now)
        queued = []
        if request.status == "approved":
            what = (
                f"pengembalian dana {rupiah(request.refund_amount)}" if request.refund_amount else "penggantian produk"
            )
            queued = await _tell(request, now, "Permintaan disetujui", f"{request.receipt}: {what} disetujui.")
    await notifications.deliver(queued, acquirer, now)
    return request


async def _audit(request: RefundRequest, who: str, now: datetime) -> None:
    after = {"status": request.status, "refund_amount": request.refund_amount, "reason": request.reason}
    await audit.record(
        actor=who, action=f"refund.{request.status}", target=f"refund:{request.id}", at=now,
        merchant_id=request.merchant_id,  # type: ignore[attr-defined]
        before={"status": "pending"}, after=after,
    )  # fmt: skip


async def _tell(request: RefundRequest, now: datetime, subject: str, text: str) -> list[Notification]:
    """Queue the customer's notice of an answer (email and/or SMS), in the answer's transaction."""
    return await notifications.enqueue(
        f"refund:{request.id}",
        now,
        email=request.customer_email,
        phone=request.customer_phone,
        subject=subject,
        text=text,
    )


async def reject(
    request: RefundRequest, *, reason: str, who: str, now: datetime, acquirer: Acquirer | None
) -> RefundRequest:
    """RF4: a rejection carries its reason and is notified to the customer."""
    if request.status != "pending":
        raise RefundConflict(f"the request is already {request.status}")
    if not reason.strip():
        raise BadRefund("a rejection needs its reason (RF4)", rule="RF4")
    request.status, request.reason = "rejected", reason.strip()[:300]
    request.answered_at, request.answered_by = now, who
    text = f"Permintaan {request.kind} untuk struk {request.receipt} ditolak: {request.reason}"
    async with in_transaction():
        await request.save()
        await _audit(request, who, now)
        queued = await _tell(request, now, "Permintaan ditolak", text)
    await notifications.deliver(queued, acquirer, now)
    return request


async def auto_approve(now: datetime, acquirer: Acquirer | None = None) -> int:
    """RF1: requests unanswered for 3 working days are approved (RF5 still applies to refunds)."""
    done = 0
    # Past its answer day in the merchant's own zone; no zone's day is later than the easternmost one's.
    due = await RefundRequest.filter(status="pending", answer_due__lt=local_day(now, EASTERNMOST_ZONE))
    merchant_ids = {r.merchant_id for r in due}  # type: ignore[attr-defined]
    zones: dict[int, str] = dict(await Merchant.filter(id__in=merchant_ids).values_list("id", "time_zone"))
    for request in due:
        if local_day(now, zones.get(request.merchant_id, DEFAULT_ZONE)) <= request.answer_due:  # type: ignore[attr-defined]
            continue
        await approve(request, who="system (RF1: 3 working days unanswered)", now=now, acquirer=acquirer)
        done += 1
    return done
