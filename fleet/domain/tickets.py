"""The repair ticket as an explicit state machine: which action is allowed in which state, by whom,
with what it records. `apply` returns the new ticket and the transition to audit, or raises
TicketError; nothing here reads a clock or a database.

opened → awaiting_shipment → in_transit → received (the SLA clock starts, S1) → diagnosing → warranty
decision: covered → repairing, or not → quoted (accept → repairing, decline → returned_unrepaired);
repairing ⇄ waiting_parts → repaired | replaced | refunded; repaired, replaced and returned_unrepaired
→ return_shipment → closed. An opened ticket may instead be referred to a service centre (SR1) or
cancelled. A merchant's refund or replacement request (RF3) unanswered for 3 working days is approved
automatically (RF1); a dispute over a warranty decision allows each side 3 evidence submissions (RF2).
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from fleet.domain import shipping, sla
from fleet.domain.calendar import OFFICE_ZONE, WorkingCalendar, local_day
from fleet.domain.warranty import Cause


class State(StrEnum):
    """The states of a repair ticket, from opened to closed (or referred, or cancelled)."""

    OPENED = "opened"
    AWAITING_SHIPMENT = "awaiting_shipment"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    DIAGNOSING = "diagnosing"
    QUOTED = "quoted"
    REPAIRING = "repairing"
    WAITING_PARTS = "waiting_parts"
    REPAIRED = "repaired"
    REPLACED = "replaced"
    REFUNDED = "refunded"
    RETURNED_UNREPAIRED = "returned_unrepaired"
    RETURN_SHIPMENT = "return_shipment"
    CLOSED = "closed"
    REFERRED = "referred"
    CANCELLED = "cancelled"


FINAL = frozenset({State.CLOSED, State.CANCELLED})
NO_SLA = frozenset({State.REFERRED, State.CANCELLED})  # never received: no repair clock runs
WITH_VENDOR = frozenset({State.RECEIVED, State.DIAGNOSING, State.QUOTED, State.REPAIRING, State.WAITING_PARTS})


class Role(StrEnum):
    """Who acts on a ticket: the merchant, Biz Support, or the service itself (RF1's automatic approval)."""

    MERCHANT = "merchant"
    BIZ_SUPPORT = "biz_support"
    SYSTEM = "system"  # the service itself: automatic approvals (RF1)


M, B, S = Role.MERCHANT, Role.BIZ_SUPPORT, Role.SYSTEM
MAX_EVIDENCE = 3  # RF2, per side
REQUEST_ANSWER_DAYS = 3  # RF1, working days


class TicketError(ValueError):
    """An action that is not allowed. `reason`: "state" (not now), "role" (not by this actor) or "data"
    (not with these details); `rule` names the domain rule when one decides."""

    def __init__(self, message: str, rule: str | None = None, reason: str = "data") -> None:
        super().__init__(message + (f" ({rule})" if rule else ""))
        self.rule = rule
        self.reason = reason


@dataclass(frozen=True)
class Request:
    """A refund or replacement request on a ticket (RF1, RF3), with when it was made."""

    kind: str  # "refund" or "replacement" (RF3)
    made_at: datetime
    order_total: int = 0  # Rupiah, for a refund
    shipping: int = 0  # Rupiah; a refund excludes it (RF3)


@dataclass(frozen=True)
class Transition:
    """One step of a ticket's history: the action, from and to which state, by whom, when, with what."""

    action: str
    source: State
    target: State
    role: Role
    actor: str
    at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class Ticket:
    """A repair ticket as the rules see it: the device's type and ownership, its state, its due window,
    the warranty decision, the quote, the evidence, the shipments and the requests."""

    device_type: str
    ownership: str
    state: State = State.OPENED
    received_on: date | None = None
    due_earliest: date | None = None
    due_latest: date | None = None
    covered: bool | None = None
    cause: Cause | None = None
    quote_amount: int | None = None
    evidence_photos: tuple[str, ...] = ()
    inbound: shipping.Shipment | None = None
    outbound: shipping.Shipment | None = None
    request: Request | None = None
    dispute_open: bool = False
    evidence: dict[str, int] = field(default_factory=dict)  # submissions per side in the dispute
    replacement_serial: str | None = None
    replacement_approved: bool = False
    refund_amount: int | None = None
    referral: dict[str, str] | None = None
    finished_on: date | None = None  # repaired, replaced, refunded or returned unrepaired
    service_plan: str = sla.BASIC  # basic or premium: the lead time (S1)
    merchant_zone: str = OFFICE_ZONE  # the merchant's time zone: its requests' days (RF1)
    office_zone: str = OFFICE_ZONE  # the service office's: the days a repair is received and finished (S1)


# action → (states it is allowed in, roles allowed to do it)
ACTIONS: dict[str, tuple[frozenset[State], frozenset[Role]]] = {
    "request_shipment": (frozenset({State.OPENED}), frozenset({B})),
    "refer_self_repair": (frozenset({State.OPENED}), frozenset({B})),
    "cancel": (frozenset({State.OPENED, State.AWAITING_SHIPMENT}), frozenset({M, B})),
    "ship": (frozenset({State.AWAITING_SHIPMENT}), frozenset({M, B})),
    "change_courier": (frozenset({State.IN_TRANSIT, State.RETURN_SHIPMENT}), frozenset({M, B})),
    "correct_tracking": (frozenset({State.IN_TRANSIT, State.RETURN_SHIPMENT}), frozenset({M, B})),
    "receive": (frozenset({State.IN_TRANSIT}), frozenset({B})),
    "diagnose": (frozenset({State.RECEIVED}), frozenset({B})),
    "decide": (frozenset({State.DIAGNOSING}), frozenset({B})),
    "accept_quote": (frozenset({State.QUOTED}), frozenset({M})),
    "decline_quote": (frozenset({State.QUOTED}), frozenset({M})),
    "dispute": (frozenset({State.QUOTED}), frozenset({M})),
    "submit_evidence": (frozenset({State.QUOTED}), frozenset({M, B})),
    "resolve_dispute": (frozenset({State.QUOTED}), frozenset({B})),
    "request": (frozenset({State.DIAGNOSING, State.QUOTED, State.REPAIRING, State.WAITING_PARTS}), frozenset({M})),
    "approve_request": (
        frozenset({State.DIAGNOSING, State.QUOTED, State.REPAIRING, State.WAITING_PARTS}),
        frozenset({B, S}),
    ),
    "reject_request": (
        frozenset({State.DIAGNOSING, State.QUOTED, State.REPAIRING, State.WAITING_PARTS}),
        frozenset({B}),
    ),
    "wait_parts": (frozenset({State.REPAIRING}), frozenset({B})),
    "parts_arrived": (frozenset({State.WAITING_PARTS}), frozenset({B})),
    "repaired": (frozenset({State.REPAIRING}), frozenset({B})),
    "replace": (frozenset({State.DIAGNOSING, State.REPAIRING, State.WAITING_PARTS}), frozenset({B})),
    "return_unrepaired": (frozenset({State.DIAGNOSING, State.QUOTED}), frozenset({B})),
    "ship_return": (frozenset({State.REPAIRED, State.REPLACED, State.RETURNED_UNREPAIRED}), frozenset({B})),
    "delivered": (frozenset({State.RETURN_SHIPMENT}), frozenset({M, B})),
    "close": (frozenset({State.REFUNDED, State.REFERRED}), frozenset({B})),
}


def allowed(ticket: Ticket, role: Role) -> list[str]:
    """The actions `role` may try on `ticket` now (the data may still be refused)."""
    return [name for name, (states, roles) in ACTIONS.items() if ticket.state in states and role in roles]


def _need(data: dict[str, Any], name: str, kind: type, rule: str | None = None) -> Any:
    value = data.get(name)
    if kind is int and (type(value) is not int or value < 0):
        raise TicketError(f"{name} must be a whole number of Rupiah, not negative", rule)
    if kind is str and (not isinstance(value, str) or not value.strip()):
        raise TicketError(f"{name} is required", rule)
    if kind is bool and type(value) is not bool:
        raise TicketError(f"{name} must be true or false", rule)
    return value


def apply(
    ticket: Ticket,
    action: str,
    role: Role,
    actor: str,
    at: datetime,
    calendar: WorkingCalendar,
    data: dict[str, Any] | None = None,
) -> tuple[Ticket, Transition]:
    """Perform `action` on `ticket` as `role` at `at`; the new ticket and its audit record."""
    data = dict(data or {})
    if action not in ACTIONS:
        raise TicketError(f"unknown action {action!r}", reason="state")
    states, roles = ACTIONS[action]
    if ticket.state not in states:
        raise TicketError(f"cannot {action} a ticket that is {ticket.state}", reason="state")
    if role not in roles:
        raise TicketError(f"a {role} user cannot {action}", reason="role")
    new = _ACT[action](ticket, role, at, calendar, data)
    return new, Transition(action, ticket.state, new.state, role, actor, at, data)


def _request_shipment(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.AWAITING_SHIPMENT)


def _refer(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    card = _need(d, "warranty_card_number", str, "SR1")
    invoice = _need(d, "invoice_number", str, "SR1")
    centre = _need(d, "service_centre", str, "SR1")
    return replace(
        t,
        state=State.REFERRED,
        referral={"warranty_card_number": card, "invoice_number": invoice, "service_centre": centre},
    )


def _cancel(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.CANCELLED)


def _ship(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    shipment = _shipping(lambda: shipping.ship("inbound", _need(d, "courier", str), _need(d, "tracking", str), at))
    d["tracking_valid"] = shipment.tracking_valid
    return replace(t, state=State.IN_TRANSIT, inbound=shipment)


def _shipping(step: Any) -> shipping.Shipment:
    try:
        result: shipping.Shipment = step()
    except shipping.ShippingError as e:
        raise TicketError(str(e)) from e
    return result


def _leg(t: Ticket, role: Role) -> tuple[str, shipping.Shipment]:
    if t.state is State.IN_TRANSIT:
        assert t.inbound is not None
        return "inbound", t.inbound
    if role is not Role.BIZ_SUPPORT:
        raise TicketError("only Biz Support changes the return shipment", reason="role")
    assert t.outbound is not None
    return "outbound", t.outbound


def _change_courier(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    leg, current = _leg(t, role)
    changed = _shipping(
        lambda: shipping.change_courier(current, _need(d, "courier", str), _need(d, "tracking", str), at)
    )
    d["tracking_valid"] = changed.tracking_valid
    return _with_leg(t, leg, changed)


def _correct_tracking(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    leg, current = _leg(t, role)
    d["previous"] = current.tracking
    return _with_leg(t, leg, _shipping(lambda: shipping.correct_tracking(current, _need(d, "tracking", str))))


def _with_leg(t: Ticket, leg: str, shipment: shipping.Shipment) -> Ticket:
    return replace(t, inbound=shipment) if leg == "inbound" else replace(t, outbound=shipment)


def _receive(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    received = local_day(at, t.office_zone)  # S1 counts from the day the office receives it
    window = sla.repair_window(t.device_type, received, cal, t.service_plan)
    d.update(due_earliest=str(window.earliest), due_latest=str(window.latest))
    return replace(
        t, state=State.RECEIVED, received_on=received, due_earliest=window.earliest, due_latest=window.latest
    )


def _diagnose(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.DIAGNOSING)


def _decide(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    covered = _need(d, "covered", bool)
    try:
        cause = Cause(str(d.get("cause")))
    except ValueError:
        raise TicketError("cause must be one of " + ", ".join(Cause)) from None
    photos = d.get("evidence_photos") or []
    if not isinstance(photos, list) or not all(isinstance(p, str) and p for p in photos):
        raise TicketError("evidence_photos is a list of photo references")
    if covered:
        return replace(t, state=State.REPAIRING, covered=True, cause=cause, evidence_photos=tuple(photos))
    if not photos:
        raise TicketError("a decision that the warranty does not cover needs evidence photos")
    quote = _need(d, "quote_amount", int)
    return replace(t, state=State.QUOTED, covered=False, cause=cause, evidence_photos=tuple(photos), quote_amount=quote)


def _accept_quote(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.REPAIRING, dispute_open=False)


def _decline_quote(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.RETURNED_UNREPAIRED, dispute_open=False, finished_on=local_day(at, t.office_zone))


def _dispute(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    if t.dispute_open:
        raise TicketError("a dispute is already open", reason="state")
    if sum(t.evidence.values()):
        raise TicketError("this decision has already been disputed", "RF2", reason="state")
    return replace(t, dispute_open=True)


def _submit_evidence(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    if not t.dispute_open:
        raise TicketError("there is no open dispute")
    _need(d, "evidence", str)
    used = t.evidence.get(role, 0)
    if used >= MAX_EVIDENCE:
        raise TicketError(f"each side may submit evidence {MAX_EVIDENCE} times", "RF2")
    return replace(t, evidence={**t.evidence, str(role): used + 1})


def _resolve_dispute(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    if not t.dispute_open:
        raise TicketError("there is no open dispute")
    if _need(d, "covered", bool):  # the merchant was right: the warranty covers it after all
        return replace(t, state=State.REPAIRING, covered=True, quote_amount=None, dispute_open=False)
    return replace(t, dispute_open=False)


def _request(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    if t.request is not None:
        raise TicketError("a request is already waiting for an answer")
    kind = d.get("kind")
    if kind == "refund":
        total, ship_cost = _need(d, "order_total", int, "RF3"), _need(d, "shipping", int, "RF3")
        if ship_cost > total:
            raise TicketError("shipping cannot exceed the order total", "RF3")
        return replace(t, request=Request("refund", at, total, ship_cost))
    if kind == "replacement":
        return replace(t, request=Request("replacement", at))
    raise TicketError("a request is for a refund or a replacement", "RF3")


def _approve_request(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    request = t.request
    if request is None:
        raise TicketError("there is no request to answer")
    if request.kind == "refund":
        amount = request.order_total - request.shipping  # RF3: the order total excluding shipping
        d["refund_amount"] = amount
        return replace(
            t, state=State.REFUNDED, request=None, refund_amount=amount, finished_on=local_day(at, t.office_zone)
        )
    return replace(t, request=None, replacement_approved=True)


def _reject_request(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    if t.request is None:
        raise TicketError("there is no request to answer")
    _need(d, "reason", str, "RF4")  # the rejection notice to the merchant says why
    return replace(t, request=None)


def _wait_parts(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.WAITING_PARTS)


def _parts_arrived(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.REPAIRING)


def _repaired(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.REPAIRED, finished_on=local_day(at, t.office_zone))


def _replace(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    serial = _need(d, "new_serial", str).strip().upper()
    d["new_serial"] = serial
    return replace(t, state=State.REPLACED, replacement_serial=serial, finished_on=local_day(at, t.office_zone))


def _return_unrepaired(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.RETURNED_UNREPAIRED, dispute_open=False, finished_on=local_day(at, t.office_zone))


def _ship_return(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    shipment = _shipping(lambda: shipping.ship("return", _need(d, "courier", str), _need(d, "tracking", str), at))
    d["tracking_valid"] = shipment.tracking_valid
    return replace(t, state=State.RETURN_SHIPMENT, outbound=shipment)


def _delivered(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.CLOSED)


def _close(t: Ticket, role: Role, at: datetime, cal: WorkingCalendar, d: dict[str, Any]) -> Ticket:
    return replace(t, state=State.CLOSED)


_ACT = {
    "request_shipment": _request_shipment,
    "refer_self_repair": _refer,
    "cancel": _cancel,
    "ship": _ship,
    "change_courier": _change_courier,
    "correct_tracking": _correct_tracking,
    "receive": _receive,
    "diagnose": _diagnose,
    "decide": _decide,
    "accept_quote": _accept_quote,
    "decline_quote": _decline_quote,
    "dispute": _dispute,
    "submit_evidence": _submit_evidence,
    "resolve_dispute": _resolve_dispute,
    "request": _request,
    "approve_request": _approve_request,
    "reject_request": _reject_request,
    "wait_parts": _wait_parts,
    "parts_arrived": _parts_arrived,
    "repaired": _repaired,
    "replace": _replace,
    "return_unrepaired": _return_unrepaired,
    "ship_return": _ship_return,
    "delivered": _delivered,
    "close": _close,
}
assert set(_ACT) == set(ACTIONS)


def answer_due(request: Request, calendar: WorkingCalendar, zone: str) -> date:
    """RF1: the last day to answer a request: the 3rd working day after the day it was made, in the
    merchant's `zone`."""
    return calendar.add_working_days(local_day(request.made_at, zone), REQUEST_ANSWER_DAYS)


def request_overdue(ticket: Ticket, now: datetime, calendar: WorkingCalendar) -> bool:
    """RF1: a merchant's request unanswered for 3 working days is approved automatically."""
    request = ticket.request
    if request is None or ticket.state not in ACTIONS["approve_request"][0]:
        return False
    zone = ticket.merchant_zone
    return local_day(now, zone) > answer_due(request, calendar, zone)


def sla_overdue(ticket: Ticket, today: date) -> bool:
    """S1: not finished by the latest due date."""
    if ticket.due_latest is None or ticket.state in NO_SLA:
        return False
    return sla.late(ticket.due_latest, today, ticket.finished_on)
