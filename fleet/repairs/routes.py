"""Warranty, rental, repair tickets and suggestions; the public warranty check."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from fleet.api.params import Limit, Now, Offset, TicketId
from fleet.api.ratelimit import client_address
from fleet.auth.deps import (
    Caller,
    Principal,
    Staff,
    VisibleDevice,
    VisibleTicket,
    scoped,
    visible_device,
)
from fleet.devices.models import Device
from fleet.domain import tickets
from fleet.repairs import service
from fleet.repairs.models import Suggestion, SuggestionStatus, Ticket, TicketTransition
from fleet.repairs.schemas import (
    ActionIn,
    PublicCheckIn,
    PublicCheckOut,
    RentalOut,
    SuggestionOut,
    TicketIn,
    TicketOut,
    TransitionOut,
    WarrantyOut,
)

router = APIRouter(tags=["warranty and repairs"])

Action = Annotated[str, Path(pattern=r"^[a-z_]{1,32}$")]
# The public check answers this many requests per client and minute, so serials cannot be enumerated.
PUBLIC_CHECKS_PER_MINUTE = 10


def _role(who: Principal) -> tickets.Role:
    return tickets.Role.BIZ_SUPPORT if who.is_staff else tickets.Role.MERCHANT


async def ticket_out(row: Ticket, who: Principal, today: date, with_history: bool = False) -> TicketOut:
    device = await Device.get(id=row.device_id)  # type: ignore[attr-defined]
    domain = service.to_domain(row, device)
    split = service.costs_of(domain)
    out = TicketOut(
        id=row.id,
        serial=device.serial,
        merchant_id=row.merchant_id,  # type: ignore[attr-defined]
        state=row.state,
        problem=row.problem,
        opened_by=row.opened_by,
        opened_at=row.opened_at,
        received_on=row.received_on,
        due_earliest=row.due_earliest,
        due_latest=row.due_latest,
        finished_on=row.finished_on,
        overdue=tickets.sla_overdue(domain, today),
        detail=row.detail,
        costs=None
        if split is None
        else {
            "inbound_shipping": split.inbound_shipping,
            "return_shipping": split.return_shipping,
            "parts": split.parts,
            "rule": split.rule,
        },
        allowed_actions=tickets.allowed(domain, _role(who)),
        version=row.version,
    )
    if with_history:
        rows = await TicketTransition.filter(ticket_id=row.id).order_by("id")
        out.transitions = [TransitionOut.model_validate(t, from_attributes=True) for t in rows]
    return out


@router.get("/devices/{serial}/warranty", response_model=WarrantyOut)
async def device_warranty(
    request: Request,
    now: Now,
    device: VisibleDevice,
    on: date | None = None,
    cause: Annotated[str | None, Query(max_length=24)] = None,
    part: Annotated[str | None, Query(max_length=24)] = None,
) -> WarrantyOut:
    """Warranty on a date (default today), optionally for a damage cause and a part (W1-W3)."""
    day = on or await service.device_day(device, now)
    status = service.warranty_of(device, day, cause, part)
    return WarrantyOut(serial=device.serial, on=day, **vars(status))


@router.get("/devices/{serial}/rental", response_model=RentalOut)
async def device_rental(now: Now, device: VisibleDevice, on: date | None = None) -> RentalOut:
    day = on or await service.device_day(device, now)
    status = service.rental_of(device, day)
    return RentalOut(serial=device.serial, on=day, **vars(status))


@router.post("/tickets", response_model=TicketOut, status_code=201)
async def open_ticket(request: Request, now: Now, body: TicketIn, who: Caller) -> TicketOut:
    device = await visible_device(who, body.serial)
    row = await service.open_ticket(device, problem=body.problem, opened_by=who.username, now=now)
    return await ticket_out(row, who, service.office_day(now), True)


@router.get("/tickets", response_model=list[TicketOut])
async def list_tickets(
    request: Request,
    now: Now,
    who: Caller,
    state: tickets.State | None = None,
    overdue: bool | None = None,
    serial: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[TicketOut]:
    """Tickets by state, with their SLA due dates; `overdue=true` lists those past their latest due date."""
    query = scoped(Ticket.all(), who)
    if state:
        query = query.filter(state=state)
    if serial:
        query = query.filter(device__serial=serial.upper())
    today = service.office_day(now)
    if overdue is not None:
        query = query.filter(service.late_q(today) if overdue else service.on_time_q(today))
    rows = await query.order_by("due_latest", "id").offset(offset).limit(limit)
    return [await ticket_out(r, who, today) for r in rows]


@router.get("/tickets/{ticket_id}", response_model=TicketOut)
async def ticket_detail(now: Now, who: Caller, row: VisibleTicket) -> TicketOut:
    return await ticket_out(row, who, service.office_day(now), True)


@router.post("/tickets/{ticket_id}/actions/{action}", response_model=TicketOut)
async def ticket_action(now: Now, who: Caller, row: VisibleTicket, action: Action, body: ActionIn) -> TicketOut:
    """Perform one transition. Refused: 409 when the state does not allow it, 403 when the caller's role
    may not, 422 when the details are wrong; the problem names the rule."""
    row = await service.act(
        row, action=action, role=_role(who), actor=who.username, now=now, data=body.data, version=body.version
    )
    return await ticket_out(row, who, service.office_day(now), True)


@router.get("/suggestions", response_model=list[SuggestionOut])
async def list_suggestions(
    who: Staff, status: SuggestionStatus | None = SuggestionStatus.OPEN, limit: Limit = 100, offset: Offset = 0
) -> list[SuggestionOut]:
    query = Suggestion.all().select_related("device")
    if status:
        query = query.filter(status=status)
    rows = await query.order_by("-created_at", "-id").offset(offset).limit(limit)
    return [_suggestion_out(s) for s in rows]


def _suggestion_out(s: Suggestion) -> SuggestionOut:
    return SuggestionOut(
        id=s.id,
        serial=s.device.serial,
        kind=s.kind,
        reason=s.reason,
        status=str(s.status),
        created_at=s.created_at,
        ticket_id=s.ticket_id,  # type: ignore[attr-defined]
    )


@router.post("/suggestions/{suggestion_id}/accept", response_model=TicketOut, status_code=201)
async def accept_suggestion(request: Request, now: Now, suggestion_id: TicketId, who: Staff) -> TicketOut:
    """Open a ticket from a suggestion (Biz Support decides; suggestions never open tickets)."""
    row = await service.accept_suggestion(suggestion_id, who.username, now)
    return await ticket_out(row, who, service.office_day(now), True)


@router.post("/suggestions/{suggestion_id}/dismiss", response_model=SuggestionOut)
async def dismiss_suggestion(now: Now, suggestion_id: TicketId, who: Staff) -> SuggestionOut:
    return _suggestion_out(await service.dismiss_suggestion(suggestion_id, who=who.username, now=now))


@router.post("/public/warranty-check", response_model=PublicCheckOut)
async def public_warranty_check(body: PublicCheckIn, request: Request, now: Now) -> PublicCheckOut:
    """For merchants, without logging in: the serial and the invoice number together (rented devices: the
    rental contract number in place of the invoice). Rate-limited per client; a serial alone tells
    nothing, and a wrong pair answers exactly like an unknown serial (W4)."""
    state = request.app.state
    status = await service.public_check(
        state.public_limiter,
        state.counters,
        client=client_address(request),
        serial=body.serial,
        invoice=body.invoice_number,
        today=service.office_day(now),
    )
    covers = (
        "repairs of defects; not damage by negligence (dropped, water) nor accessories such as charger "
        "cables and heads (W3)"
    )
    return PublicCheckOut(
        covered=status.covered,
        rule=status.rule,
        reason=status.reason,
        expires=status.expires,
        days_left=status.days_left,
        covers=covers,
    )
