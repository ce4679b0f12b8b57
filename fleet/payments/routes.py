"""Payments API: the acquirer's webhook (public, signed), charges, fix-payment cases, reconciliation."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from fleet.api.inputs import FIRST_DAY, LAST_DAY
from fleet.api.params import Limit, Now, Offset
from fleet.api.problems import Problem
from fleet.auth.deps import (
    Caller,
    Principal,
    Staff,
    VisibleDevice,
    VisibleMerchant,
    scoped,
    visible_device,
)
from fleet.notifications import service as notifications
from fleet.payments import paylater, paylinks, refunds, service
from fleet.payments.gateway import Acquirer, WebhookRefused
from fleet.payments.models import FixPaymentCase, PayLaterSession, PayLink, Reconciliation, RefundRequest
from fleet.payments.schemas import (
    BalanceOut,
    CaseOut,
    ChargeOut,
    OrderOut,
    OtpIn,
    PayLaterIn,
    PayLaterOut,
    PayLinkIn,
    ReconciliationOut,
    RefundIn,
    RefundOut,
    RejectIn,
    ResolveIn,
    TenorIn,
)

router = APIRouter(tags=["payments"])
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_SETTLEMENT_BYTES = 32 * 1024 * 1024


def _acquirer(request: Request) -> Acquirer:
    acquirer: Acquirer | None = request.app.state.acquirer
    if acquirer is None:
        raise Problem(404, "payments are not enabled on this service (FLEET_GATEWAY_URL)", type_="payments-off")
    return acquirer


@router.post("/payments/webhooks/sandbox")
async def webhook(request: Request, now: Now) -> dict[str, str]:
    """The acquirer's signed notification. Forged, stale or malformed ones are refused and counted; a
    replayed one is acknowledged and changes nothing."""
    acquirer = _acquirer(request)
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    counters = request.app.state.counters
    try:
        outcome = await service.accept_webhook(acquirer, headers, body, now)
    except WebhookRefused as e:
        counters[f"webhook.refused.{e.reason}"] += 1
        raise Problem(401 if e.reason != "malformed" else 400, f"webhook refused: {e.reason}", type_="webhook") from e
    counters[f"webhook.{outcome}"] += 1
    return {"outcome": outcome}


@router.get("/payments/charges", response_model=list[ChargeOut])
async def charges(
    who: Caller, status: Annotated[str | None, Query(max_length=12)] = None, limit: Limit = 50, offset: Offset = 0
) -> list[ChargeOut]:
    query = await service.visible_charges(who, status=status)
    return [ChargeOut.model_validate(c) for c in await query.offset(offset).limit(limit)]


@router.get("/payments/fix-cases", response_model=list[CaseOut])
async def cases(
    who: Staff, status: Annotated[str | None, Query(max_length=12)] = "open", limit: Limit = 100, offset: Offset = 0
) -> list[CaseOut]:
    query = FixPaymentCase.all()
    if status:
        query = query.filter(status=status)
    return [CaseOut.model_validate(c) for c in await query.order_by("-id").offset(offset).limit(limit)]


@router.post("/payments/fix-cases/{case_id}/resolve", response_model=CaseOut)
async def resolve(request: Request, now: Now, case_id: CaseId, body: ResolveIn, who: Staff) -> CaseOut:
    case = await FixPaymentCase.get_or_none(id=case_id)
    if case is None:
        raise Problem(404, f"no case {case_id}", type_="not-found")
    case = await service.resolve_case(case, body.outcome, who.username, now)
    return CaseOut.model_validate(case)


@router.post(
    "/payments/reconciliations",
    response_model=ReconciliationOut,
    status_code=201,
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def reconcile(
    request: Request, now: Now, who: Staff, day: Annotated[date, Query(alias="date", ge=FIRST_DAY, le=LAST_DAY)]
) -> ReconciliationOut:
    """Reconcile a day: the settlement report in the body (CSV), or fetched from the gateway when empty."""
    body = await request.body()
    if len(body) > MAX_SETTLEMENT_BYTES:
        raise Problem(413, "the settlement report is too large", type_="too-large")
    try:
        text = body.decode("utf-8-sig") if body else await _acquirer(request).settlement(day)
    except UnicodeDecodeError as e:
        raise Problem(422, "the report is not UTF-8 text", type_="bad-file") from e
    run = await service.reconcile_day(day, text, now)
    return ReconciliationOut.model_validate(run)


@router.get("/payments/reconciliations/{run_id}", response_model=ReconciliationOut)
async def reconciliation(run_id: CaseId, who: Staff) -> ReconciliationOut:
    run = await Reconciliation.get_or_none(id=run_id)
    if run is None:
        raise Problem(404, f"no reconciliation {run_id}", type_="not-found")
    return ReconciliationOut.model_validate(run)


Receipt = Annotated[str, Path(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9-]+$")]


async def _order_out(who: Principal, serial: str, receipt: str) -> OrderOut:
    state = await paylinks.order(serial, receipt, None if who.is_staff else who.merchant_id)
    if state is None:
        raise Problem(404, f"no order {receipt} from {serial}", type_="not-found")
    links = await PayLink.filter(serial=serial, receipt=receipt).order_by("id")
    return OrderOut(
        serial=serial,
        receipt=receipt,
        status=str(state["status"]),
        total=int(state["total"]),
        paid=int(state["paid"]),
        outstanding=int(state["outstanding"]),
        paylinks=[
            {
                "status": link.status,
                "amount": link.amount,
                "methods": link.methods,
                "created_at": link.created_at,
                "notices": await notifications.states(f"paylink:{link.token}"),  # queued, sent or failed
            }
            for link in links
        ],
    )


@router.get("/devices/{serial}/orders/{receipt}", response_model=OrderOut)
async def order(who: Caller, device: VisibleDevice, receipt: Receipt) -> OrderOut:
    """An order's payment status (P1: Unpaid, Partially paid or Paid) and its pay links."""
    return await _order_out(who, device.serial, receipt)


@router.post("/devices/{serial}/orders/{receipt}/paylinks", response_model=OrderOut, status_code=201)
async def send_paylink(
    request: Request, now: Now, who: Caller, device: VisibleDevice, receipt: Receipt, body: PayLinkIn
) -> OrderOut:
    """Send an invoice for the outstanding amount (P1), by email and/or SMS to a +62 number (P2)."""
    await paylinks.create(
        _acquirer(request),
        device,
        receipt=receipt,
        email=body.email,
        phone=body.phone,
        methods=body.methods,
        who=who.username,
        now=now,
    )
    return await _order_out(who, device.serial, receipt)


SessionId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$")]


def _session_out(row: PayLaterSession, outcome: str | None = None) -> PayLaterOut:
    return PayLaterOut(
        id=row.id,
        status=row.status,
        outcome=outcome,
        offer=row.offer,
        tenor_months=row.tenor_months,
        charge_ref=row.charge_ref,
    )


async def _session(who: Principal, session_id: str) -> PayLaterSession:
    row = await PayLaterSession.get_or_none(id=session_id)
    if row is None:
        raise Problem(404, "no such PayLater session", type_="not-found")
    await visible_device(who, row.serial)  # another merchant's session is not found either
    return row


@router.post("/paylater/sessions", response_model=PayLaterOut, status_code=201)
async def paylater_start(request: Request, now: Now, body: PayLaterIn, who: Caller) -> PayLaterOut:
    """P4: the customer's phone number; an OTP goes to it by SMS."""
    device = await visible_device(who, body.serial)
    row = await paylater.start(
        _acquirer(request),
        request.app.state.otp_key,
        device,
        body.receipt,
        body.amount,
        body.phone,
        who.username,
        now,
    )
    return _session_out(row)


@router.post("/paylater/sessions/{session_id}/otp", response_model=PayLaterOut)
async def paylater_otp(request: Request, now: Now, session_id: SessionId, body: OtpIn, who: Caller) -> PayLaterOut:
    """The code the customer received: when right, the offer (tenors, down payment, deadline) or a refusal."""
    row = await _session(who, session_id)
    outcome = await paylater.verify(_acquirer(request), request.app.state.otp_key, row, body.code, now)
    return _session_out(row, outcome)


@router.post("/paylater/sessions/{session_id}/confirm", response_model=PayLaterOut)
async def paylater_confirm(
    request: Request, now: Now, session_id: SessionId, body: TenorIn, who: Caller
) -> PayLaterOut:
    row = await _session(who, session_id)
    row = await paylater.confirm(_acquirer(request), row, body.tenor_months, now)
    return _session_out(row)


async def _refund(who: Principal, refund_id: int) -> RefundRequest:
    request = await scoped(RefundRequest.filter(id=refund_id), who).first()
    if request is None:
        raise Problem(404, f"no request {refund_id}", type_="not-found")
    return request


@router.post("/refunds", response_model=RefundOut, status_code=201)
async def refund_request(request: Request, now: Now, body: RefundIn, who: Caller) -> RefundOut:
    """A customer's refund, return or complaint (RF3: a replacement, or a refund excluding shipping) on a
    paid order; to be answered within 3 working days (RF1)."""
    device = await visible_device(who, body.serial)
    made = await refunds.create(
        device,
        receipt=body.receipt,
        kind=body.kind,
        solution=body.solution,
        shipping=body.shipping,
        email=body.email,
        phone=body.phone,
        who=who.username,
        now=now,
    )
    return RefundOut.model_validate(made)


@router.get("/refunds", response_model=list[RefundOut])
async def refund_list(
    who: Caller, status: Annotated[str | None, Query(max_length=16)] = None, limit: Limit = 100, offset: Offset = 0
) -> list[RefundOut]:
    query = scoped(RefundRequest.all(), who)
    if status:
        query = query.filter(status=status)
    return [RefundOut.model_validate(r) for r in await query.order_by("answer_due", "id").offset(offset).limit(limit)]


@router.post("/refunds/{refund_id}/approve", response_model=RefundOut)
async def refund_approve(request: Request, now: Now, refund_id: CaseId, who: Caller) -> RefundOut:
    """Approve; an after-sale refund is paid from the merchant's balance, refused when too low (RF5)."""
    found = await _refund(who, refund_id)
    done = await refunds.approve(found, who=who.username, now=now, acquirer=request.app.state.acquirer)
    return RefundOut.model_validate(done)


@router.post("/refunds/{refund_id}/reject", response_model=RefundOut)
async def refund_reject(request: Request, now: Now, refund_id: CaseId, body: RejectIn, who: Caller) -> RefundOut:
    """Reject with a reason; the customer is notified by email or SMS (RF4)."""
    found = await _refund(who, refund_id)
    done = await refunds.reject(
        found, reason=body.reason, who=who.username, now=now, acquirer=request.app.state.acquirer
    )
    return RefundOut.model_validate(done)


@router.get("/merchants/{merchant_id}/balance", response_model=BalanceOut)
async def merchant_balance(merchant: VisibleMerchant) -> BalanceOut:
    return BalanceOut(merchant_id=merchant.id, balance=await refunds.balance(merchant.id))
