"""Repair tickets, warranty and rental checks, suggestions: load, call the domain rule, save.

The clock comes in as a parameter (`now`/`today`); the holiday calendar is Indonesia's, from the
`holidays` package, for the years around `now`.
"""

from collections import Counter
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from fleet import db
from fleet.alerts import service as alerts
from fleet.api.ratelimit import RateLimiter
from fleet.audit import service as audit
from fleet.commands import service as commands
from fleet.devices.models import Device
from fleet.devices.service import merchant_zone, sync_onboarding
from fleet.domain import calendar as cal
from fleet.domain import costs, rental, suggestions, tickets, warranty
from fleet.domain.shipping import Shipment
from fleet.errors import Invalid, NotFound
from fleet.ingest.models import Event
from fleet.payments.gateway import Acquirer
from fleet.repairs.exceptions import BadSwap, NotRegistered, StaleTicket, TooManyChecks, TransitionRefused
from fleet.repairs.models import Suggestion, SuggestionStatus, Ticket, TicketTransition
from fleet.workdays import calendar_for
from protocol import command

SUGGEST_BATCH = 500  # terminals weighed at a time by the suggestion job


def office_day(now: datetime) -> date:
    """Today at the service office: the day of Biz Support's rules (S1's due dates, the queue)."""
    return cal.local_day(now, cal.OFFICE_ZONE)


async def device_day(device: Device | None, now: datetime) -> date:
    """Today for a device: the day in its merchant's zone (warranty W1-W2, rental)."""
    zone = await merchant_zone(device.merchant_id if device else None)  # type: ignore[attr-defined]
    return cal.local_day(now, zone)


def late_q(today: date) -> Q:
    """S1 in SQL, as tickets.sla_overdue: past the latest due day, unfinished then or finished after it
    (never a referred or cancelled ticket). The database filters; no list of ids is sent to it."""
    no_sla = [str(state) for state in tickets.NO_SLA]
    unfinished_or_late = Q(finished_on__isnull=True) | Q(finished_on__gt=F("due_latest"))
    return Q(due_latest__lt=today) & ~Q(state__in=no_sla) & unfinished_or_late


def on_time_q(today: date) -> Q:
    """Every ticket late_q leaves out (tickets without a due day included)."""
    no_sla = [str(state) for state in tickets.NO_SLA]
    finished_in_time = Q(finished_on__isnull=False) & Q(finished_on__lte=F("due_latest"))
    return Q(due_latest__isnull=True) | Q(due_latest__gte=today) | Q(state__in=no_sla) | finished_in_time


def terms(device: Device) -> warranty.Terms:
    return warranty.Terms(str(device.ownership), device.invoice_date, device.rental_start, device.rental_end)


def warranty_of(
    device: Device | None, on: date, cause: str | None = None, part: str | None = None
) -> warranty.WarrantyStatus:
    try:
        cause_ = warranty.Cause(cause) if cause else None
        part_ = warranty.Part(part) if part else None
    except ValueError as e:
        raise Invalid(str(e)) from e
    return warranty.warranty(terms(device) if device else None, on, cause_, part_)


def rental_of(device: Device, on: date) -> rental.RentalStatus:
    return rental.rental_status(
        str(device.ownership), device.rental_start, device.rental_end, device.returned_on, on, calendar_for(on)
    )


async def public_check(
    limiter: RateLimiter, counters: Counter[str], *, client: str, serial: str, invoice: str, today: date
) -> warranty.WarrantyStatus:
    """The public warranty check (API and page): serial and invoice number together, rate-limited per
    client; a wrong pair answers exactly like an unknown serial, so serials cannot be probed (W4)."""
    wait = limiter.retry_after(client)
    if wait:
        counters["refused.rate-limited"] += 1
        raise TooManyChecks("too many warranty checks; try again shortly", retry_after=wait)
    device = await Device.get_or_none(serial=serial.strip().upper()[:32])
    # A device registered without an invoice number (a rental imported without one) cannot be checked:
    # a blank "invoice" must not make the serial alone enough.
    expected = (device.invoice_number or "").strip().upper() if device is not None else ""
    if not expected or expected != invoice.strip().upper():
        counters["public.not-registered"] += 1
        raise NotRegistered("no registered device has this serial and invoice number (W4)")
    return warranty_of(device, today)


# -- tickets: between the database row and the domain's ticket ------------------------------------------


def _shipment_out(s: Shipment | None) -> dict[str, Any] | None:
    return None if s is None else asdict(s) | {"shipped_at": s.shipped_at.isoformat()}


def _shipment_in(d: dict[str, Any] | None) -> Shipment | None:
    return None if d is None else Shipment(**(d | {"shipped_at": datetime.fromisoformat(d["shipped_at"])}))


def to_domain(row: Ticket, device: Device, merchant_zone: str = cal.DEFAULT_ZONE) -> tickets.Ticket:
    """The ticket as the rules see it; `merchant_zone` decides the days of the merchant's requests (RF1)."""
    d = row.detail
    request = d.get("request")
    return tickets.Ticket(
        device_type=device.device_type,
        ownership=str(device.ownership),
        service_plan=device.service_plan,
        state=tickets.State(row.state),
        received_on=row.received_on,
        due_earliest=row.due_earliest,
        due_latest=row.due_latest,
        covered=d.get("covered"),
        cause=warranty.Cause(d["cause"]) if d.get("cause") else None,
        quote_amount=d.get("quote_amount"),
        evidence_photos=tuple(d.get("evidence_photos", ())),
        inbound=_shipment_in(d.get("inbound")),
        outbound=_shipment_in(d.get("outbound")),
        request=None
        if request is None
        else tickets.Request(**(request | {"made_at": datetime.fromisoformat(request["made_at"])})),
        dispute_open=d.get("dispute_open", False),
        evidence=d.get("evidence", {}),
        replacement_serial=d.get("replacement_serial"),
        replacement_approved=d.get("replacement_approved", False),
        refund_amount=d.get("refund_amount"),
        referral=d.get("referral"),
        finished_on=row.finished_on,
        merchant_zone=merchant_zone,
    )


def _detail(t: tickets.Ticket) -> dict[str, Any]:
    return {
        "covered": t.covered,
        "cause": str(t.cause) if t.cause else None,
        "quote_amount": t.quote_amount,
        "evidence_photos": list(t.evidence_photos),
        "inbound": _shipment_out(t.inbound),
        "outbound": _shipment_out(t.outbound),
        "request": None if t.request is None else asdict(t.request) | {"made_at": t.request.made_at.isoformat()},
        "dispute_open": t.dispute_open,
        "evidence": dict(t.evidence),
        "replacement_serial": t.replacement_serial,
        "replacement_approved": t.replacement_approved,
        "refund_amount": t.refund_amount,
        "referral": t.referral,
    }


def costs_of(t: tickets.Ticket) -> costs.Costs | None:
    if t.covered is None:
        return None
    return costs.who_pays(t.ownership, t.covered, t.cause)


async def open_ticket(
    device: Device, *, problem: str, opened_by: str, now: datetime, suggestion: Suggestion | None = None
) -> Ticket:
    """Open a ticket (by a merchant, by Biz Support, or from an accepted suggestion)."""
    async with in_transaction():
        row = await Ticket.create(
            device=device,
            merchant_id=device.merchant_id,  # type: ignore[attr-defined]
            state=tickets.State.OPENED,
            problem=problem,
            opened_by=opened_by,
            opened_at=now,
            updated_at=now,
            detail=_detail(tickets.Ticket(device.device_type, str(device.ownership))),
        )
        data: dict[str, Any] = {"problem": problem}
        if suggestion is not None:
            data["suggestion"] = {"id": suggestion.id, "kind": suggestion.kind, "reason": suggestion.reason}
        await TicketTransition.create(
            ticket=row, action="open", source="", target=row.state, role="", actor=opened_by, at=now, data=data
        )
        await audit.record(
            actor=opened_by, action="ticket.open", target=f"ticket:{row.id}", at=now,
            merchant_id=row.merchant_id, after={"serial": device.serial, "state": row.state, **data},  # type: ignore[attr-defined]
        )  # fmt: skip
    return row


async def accept_suggestion(suggestion_id: int, who: str, now: datetime) -> Ticket:
    """Biz Support opens a ticket from a suggestion (suggestions never open tickets by themselves)."""
    found = await Suggestion.get_or_none(id=suggestion_id, status=SuggestionStatus.OPEN).select_related("device")
    if found is None:
        raise NotFound(f"no open suggestion {suggestion_id}")
    async with in_transaction():
        row = await open_ticket(
            found.device, problem=f"suggested: {found.reason}", opened_by=who, now=now, suggestion=found
        )
        found.status, found.ticket_id, found.decided_by = SuggestionStatus.ACCEPTED, row.id, who
        await found.save()
    return row


async def dismiss_suggestion(suggestion_id: int, *, who: str, now: datetime) -> Suggestion:
    """Biz Support decides a suggestion is not worth a ticket."""
    found = await Suggestion.get_or_none(id=suggestion_id, status=SuggestionStatus.OPEN).select_related("device")
    if found is None:
        raise NotFound(f"no open suggestion {suggestion_id}")
    found.status, found.decided_by = SuggestionStatus.DISMISSED, who
    async with in_transaction():
        await found.save()
        await audit.record(
            actor=who, action="suggestion.dismiss", target=f"suggestion:{found.id}", at=now,
            merchant_id=found.device.merchant_id,  # type: ignore[attr-defined]
            before={"status": "open"}, after={"status": "dismissed", "serial": found.device.serial},
        )  # fmt: skip
    return found


async def act(
    row: Ticket,
    *,
    action: str,
    role: tickets.Role,
    actor: str,
    now: datetime,
    data: dict[str, Any] | None = None,
    version: int | None = None,
) -> Ticket:
    """Perform one transition; 409 when someone else moved the ticket since `version`."""
    device = await Device.get(id=row.device_id)  # type: ignore[attr-defined]
    zone = await merchant_zone(device.merchant_id)  # type: ignore[attr-defined]
    if version is not None and version != row.version:
        raise StaleTicket("the ticket changed since you loaded it; reload and try again")
    try:
        new, transition = tickets.apply(
            to_domain(row, device, zone), action, role, actor, now, calendar_for(now.date()), data
        )
    except tickets.TicketError as e:
        raise TransitionRefused(e, row.state) from e
    async with in_transaction():
        if action == "replace":
            await _swap(device, transition.data["new_serial"], now)
        updated = await Ticket.filter(id=row.id, version=row.version).update(
            state=new.state,
            received_on=new.received_on,
            due_earliest=new.due_earliest,
            due_latest=new.due_latest,
            finished_on=new.finished_on,
            detail=_detail(new),
            updated_at=now,
            version=row.version + 1,
        )
        if not updated:
            raise StaleTicket("the ticket changed meanwhile; reload and try again")
        await TicketTransition.create(
            ticket_id=row.id,
            action=transition.action,
            source=transition.source,
            target=transition.target,
            role=transition.role,
            actor=actor,
            at=now,
            data=_jsonable(transition.data),
        )
        await audit.record(
            actor=actor, action=f"ticket.{transition.action}", target=f"ticket:{row.id}", at=now,
            merchant_id=row.merchant_id,  # type: ignore[attr-defined]
            before={"state": transition.source}, after={"state": transition.target, **_jsonable(transition.data)},
        )  # fmt: skip
    return await Ticket.get(id=row.id)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | bool | float | list | dict | type(None)) else str(v) for k, v in data.items()
    }


async def _swap(old: Device, serial: str, now: datetime) -> None:
    """A replacement unit inherits the merchant, the fleet's config and the remaining warranty (the same
    invoice date or rental period); the old unit stays linked to it."""
    new = await Device.get_or_none(serial=serial)
    if new is None:
        raise BadSwap(f"the replacement {serial!r} is not registered; register the unit first")
    if new.id == old.id or (new.merchant_id not in (None, old.merchant_id)):  # type: ignore[attr-defined]
        raise BadSwap(f"{serial!r} belongs to another merchant")
    new.merchant_id = old.merchant_id  # type: ignore[attr-defined]
    new.ownership = old.ownership
    new.invoice_number, new.invoice_date = old.invoice_number, old.invoice_date
    new.rental_start, new.rental_end = old.rental_start, old.rental_end
    new.config = dict(old.config or {})
    new.replaces_id = old.id
    await new.save()
    if new.config:
        await commands.enqueue(new, command.CONFIG, args={"config": new.config}, requested_by="swap", now=now)


# -- periodic jobs --------------------------------------------------------------------------------------


async def auto_approve(now: datetime) -> int:
    """RF1: merchants' requests unanswered for 3 working days are approved; returns how many."""
    approved = 0
    for row in await Ticket.filter(state__in=[s.value for s in tickets.ACTIONS["approve_request"][0]]):
        if row.detail.get("request") is None:
            continue
        device = await Device.get(id=row.device_id)  # type: ignore[attr-defined]
        zone = await merchant_zone(device.merchant_id)  # type: ignore[attr-defined]
        if tickets.request_overdue(to_domain(row, device, zone), now, calendar_for(now.date())):
            await act(
                row,
                action="approve_request",
                role=tickets.Role.SYSTEM,
                actor="system (RF1: 3 working days unanswered)",
                now=now,
            )
            approved += 1
    return approved


def lock_candidates(today: date) -> QuerySet[Device]:
    """The rented terminals whose sales lock may change on `today` (see sync_rental_locks)."""
    ended_before = today - timedelta(days=rental.RentalPolicy().grace_working_days)
    return Device.filter(Q(sales_locked=True) | Q(rental_end__lt=ended_before, sales_locked=False), ownership="rented")


async def sync_rental_locks(today: date, now: datetime) -> int:
    """Lock the sales of overdue rented terminals, unlock the others; returns the commands queued.

    Only the rented terminals whose lock may change are read, a batch at a time: those locked now, and
    those not locked whose rental ended at least the grace period's length of calendar days ago (working
    days are never fewer), so a fleet of rentals in good standing costs one indexed query."""
    queued = 0
    async for batch in db.in_batches(lock_candidates(today)):
        for device in batch:
            status = rental_of(device, today)
            if status.lock_sales == device.sales_locked:
                continue
            if status.lock_sales:
                await commands.enqueue(
                    device,
                    command.LOCK,
                    args={"reason": "rental overdue"},
                    requested_by="rental",
                    now=now,
                    ttl=timedelta(days=7),
                )
            else:
                await commands.enqueue(
                    device, command.UNLOCK, args={}, requested_by="rental", now=now, ttl=timedelta(days=7)
                )
            device.sales_locked = status.lock_sales
            await device.save(update_fields=["sales_locked"])
            queued += 1
    return queued


async def run_suggestions(
    now: datetime,
    limits: suggestions.Thresholds = suggestions.Thresholds(),  # noqa: B008
    after_event: int | None = None,
) -> int:
    """Propose tickets from telemetry (never open one); one open suggestion per device and kind.

    The fault rules are weighed for the terminals with a fault event after `after_event` (the periodic
    job's mark: what is new since its last round), or, without a mark, with a fault in the window; the
    print-head rule for the terminals past its share of the head's life that have no open suggestion of
    it. Either way a few hundred terminals at a time, never the fleet."""
    created = 0
    since = now - limits.window
    if after_event is None:
        faulty = Event.filter(type="fault", device_time__gte=since)
    else:
        faulty = Event.filter(id__gt=after_event, type="fault")
    serials = sorted(set(await faulty.values_list("serial", flat=True)))
    for start in range(0, len(serials), SUGGEST_BATCH):
        batch = serials[start : start + SUGGEST_BATCH]
        rows = await Event.filter(serial__in=batch, type="fault", device_time__gte=since).values_list(
            "serial", "device_time", "data"
        )
        faults: dict[str, list[suggestions.Fault]] = {}
        for serial, at, data in rows:
            data = data if isinstance(data, dict) else {}
            fault = suggestions.Fault(at, str(data.get("code")), bool(data.get("active")), data.get("detail"))
            faults.setdefault(str(serial), []).append(fault)
        for device in await Device.filter(serial__in=batch):
            found = suggestions.suggest(None, faults.get(device.serial, []), now, limits)
            created += await _propose(device, found, now)
    worn = Device.filter(printed_mm__gte=int(limits.head_life_mm * limits.head_warn_share)).exclude(
        id__in=Subquery(Suggestion.filter(kind="print_head_wear", status=SuggestionStatus.OPEN).values("device_id"))
    )
    async for devices in db.in_batches(worn, SUGGEST_BATCH):
        for device in devices:  # printed_mm: the latest heartbeat's, kept on the row by the ingest
            created += await _propose(device, suggestions.suggest(device.printed_mm, [], now, limits), now)
    return created


async def _propose(device: Device, found: list[suggestions.Suggestion], now: datetime) -> int:
    created = 0
    for s in found:
        if await Suggestion.exists(device=device, kind=s.kind, status=SuggestionStatus.OPEN):
            continue
        await Suggestion.create(device=device, kind=s.kind, reason=s.reason, created_at=now)
        created += 1
    return created


async def housekeeping(
    now: datetime, acquirer: Acquirer | None = None, after_event: int | None = None
) -> dict[str, int]:
    """One round of the periodic jobs; what each did (`acquirer`: the carrier alerts' SMS go through;
    `after_event`: the suggestion job's mark, see run_suggestions)."""
    return {
        "suggestions": await run_suggestions(now, after_event=after_event),
        "rental_commands": await sync_rental_locks(office_day(now), now),
        "auto_approved": await auto_approve(now),
        "merchants_activated": await sync_onboarding(now),
        **{f"alerts_{k}": v for k, v in (await alerts.evaluate(now, acquirer)).items()},
    }
