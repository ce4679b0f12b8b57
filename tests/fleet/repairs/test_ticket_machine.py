"""The repair ticket state machine: every transition that is not allowed is refused with a clear error,
and random sequences of actions by random actors never reach an invalid ticket."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.domain import tickets
from fleet.domain.calendar import indonesia
from fleet.domain.tickets import Role, State, Ticket, TicketError

CAL = indonesia([2026, 2027])
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
M, B, S = Role.MERCHANT, Role.BIZ_SUPPORT, Role.SYSTEM

GOOD = {
    "ship": {"courier": "jne", "tracking": "CGK1234567890"},
    "ship_return": {"courier": "sicepat", "tracking": "000123456789"},
    "change_courier": {"courier": "jnt", "tracking": "JP1234567890"},
    "correct_tracking": {"tracking": "CGK9999999999"},
    "decide": {"covered": False, "cause": "dropped", "evidence_photos": ["p1.jpg"], "quote_amount": 350_000},
    "submit_evidence": {"evidence": "photo of the box"},
    "resolve_dispute": {"covered": True},
    "request": {"kind": "refund", "order_total": 2_500_000, "shipping": 50_000},
    "reject_request": {"reason": "the device is repairable"},
    "replace": {"new_serial": "tkm-new-1"},
    "refer_self_repair": {"warranty_card_number": "WC-1", "invoice_number": "INV-1", "service_centre": "Jakarta"},
}


def run(ticket: Ticket, *steps: tuple[str, Role] | tuple[str, Role, dict]) -> Ticket:
    at = T0
    for step in steps:
        action, role = step[0], step[1]
        data = step[2] if len(step) > 2 else GOOD.get(action, {})
        at += timedelta(hours=1)
        ticket, _ = tickets.apply(ticket, action, role, "someone", at, CAL, data)
    return ticket


def new() -> Ticket:
    return Ticket(device_type="mpos", ownership="purchased")


HAPPY = [
    ("request_shipment", B),
    ("ship", M),
    ("receive", B),
    ("diagnose", B),
    ("decide", B, {"covered": True, "cause": "defect"}),
    ("wait_parts", B),
    ("parts_arrived", B),
    ("repaired", B),
    ("ship_return", B),
    ("delivered", M),
]


def test_the_covered_repair_path_reaches_closed_with_sla_dates():
    t = run(new(), *HAPPY)
    assert t.state is State.CLOSED and tickets.allowed(t, B) == [] and tickets.allowed(t, M) == []
    assert t.received_on == T0.date() and (t.due_earliest, t.due_latest) == (
        CAL.add_working_days(T0.date(), 3),
        CAL.add_working_days(T0.date(), 4),
    )


@pytest.mark.parametrize(
    ("prefix", "action", "role", "data", "message"),
    [
        ([], "receive", B, {}, "cannot receive a ticket that is opened"),
        ([], "request_shipment", M, {}, "a merchant user cannot request_shipment"),
        ([("request_shipment", B)], "ship", M, {"courier": "owl", "tracking": "1"}, "unknown courier"),
        ([("request_shipment", B), ("ship", M)], "diagnose", B, {}, "cannot diagnose"),
        (HAPPY[:4], "decide", B, {"covered": False, "cause": "dropped", "quote_amount": 1}, "needs evidence photos"),
        (HAPPY[:4], "decide", B, {"covered": True, "cause": "aliens"}, "cause must be one of"),
        (HAPPY[:4], "accept_quote", M, {}, "cannot accept_quote a ticket that is diagnosing"),
        ([*HAPPY[:4], ("decide", B)], "accept_quote", B, {}, "a biz_support user cannot accept_quote"),
        ([*HAPPY[:4], ("decide", B)], "submit_evidence", M, GOOD["submit_evidence"], "no open dispute"),
        (HAPPY[:4], "request", M, {"kind": "refund", "order_total": 100, "shipping": 200}, "RF3"),
        (HAPPY[:4], "request", M, {"kind": "refund", "order_total": 1.5, "shipping": 0}, "whole number of Rupiah"),
        (HAPPY[:4], "approve_request", B, {}, "no request to answer"),
        ([], "refer_self_repair", B, {"warranty_card_number": "WC-1"}, "SR1"),
        (HAPPY, "cancel", M, {}, "cannot cancel a ticket that is closed"),
        ([], "teleport", B, {}, "unknown action"),
    ],
)
def test_refused_transitions_say_why(prefix, action, role, data, message):
    t = run(new(), *prefix)
    with pytest.raises(TicketError, match=message):
        tickets.apply(t, action, role, "someone", T0 + timedelta(days=1), CAL, data)


def test_rf2_each_side_has_three_evidence_submissions():
    t = run(new(), *HAPPY[:4], ("decide", B), ("dispute", M))
    for _ in range(3):
        t = run(t, ("submit_evidence", M), ("submit_evidence", B))
    with pytest.raises(TicketError, match="RF2"):
        run(t, ("submit_evidence", M))
    t = run(t, ("resolve_dispute", B, {"covered": False}))
    with pytest.raises(TicketError, match="RF2"):
        run(t, ("dispute", M))  # one dispute per decision


def test_rf1_rf3_a_refund_request_unanswered_for_three_working_days_is_approved_excluding_shipping():
    t = run(new(), *HAPPY[:5])
    made = datetime(2026, 12, 23, 15, tzinfo=UTC)  # a Wednesday before Christmas
    t, _ = tickets.apply(t, "request", M, "merchant", made, CAL, GOOD["request"])
    assert (
        t.request is not None and tickets.answer_due(t.request, CAL, t.merchant_zone) == datetime(2026, 12, 29).date()
    )
    # Thu 24, Mon 28, Tue 29, in the merchant's zone (WIB): Tuesday 23:59 WIB is in time, Wednesday 00:00 not
    assert not tickets.request_overdue(t, datetime(2026, 12, 29, 16, 59, tzinfo=UTC), CAL)
    assert tickets.request_overdue(t, datetime(2026, 12, 29, 17, 0, tzinfo=UTC), CAL)
    t = run(t, ("approve_request", S))
    assert t.state is State.REFUNDED and t.refund_amount == 2_450_000  # RF3: shipping excluded


def test_sr1_referral_needs_the_warranty_card_and_the_invoice():
    t = run(new(), ("refer_self_repair", B))
    assert t.state is State.REFERRED and t.referral == {
        "warranty_card_number": "WC-1",
        "invoice_number": "INV-1",
        "service_centre": "Jakarta",
    }


ALL_ACTIONS = sorted(tickets.ACTIONS)
BAD = [{}, {"covered": "yes"}, {"courier": "jne", "tracking": ""}, {"kind": "gift"}, {"new_serial": 5}]


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_random_action_sequences_never_reach_an_invalid_ticket(data):
    """Mostly actions the actor may take now (so sequences get deep), sometimes any action, any data."""
    ticket = new()
    at = T0
    for _ in range(data.draw(st.integers(min_value=0, max_value=60))):
        able = [r for r in (M, B, S) if tickets.allowed(ticket, r)]
        role = data.draw(st.sampled_from(able if able and data.draw(st.integers(0, 7)) else [M, B, S]))
        options = tickets.allowed(ticket, role)
        wild = not options or data.draw(st.integers(0, 7)) == 0
        action = data.draw(st.sampled_from(ALL_ACTIONS if wild else options))
        payload = dict(GOOD.get(action, {}))
        if action == "decide" and data.draw(st.booleans()):
            payload = {"covered": True, "cause": "defect"}
        if data.draw(st.integers(0, 9)) == 0:
            payload = data.draw(st.sampled_from(BAD))
        at += timedelta(hours=data.draw(st.integers(0, 72)))
        try:
            new_ticket, transition = tickets.apply(ticket, action, role, "x", at, CAL, payload)
        except TicketError as e:
            assert str(e)  # refused with a reason; the ticket is unchanged
            continue
        assert transition.source == ticket.state and transition.target == new_ticket.state
        assert role in tickets.ACTIONS[action][1] and ticket.state in tickets.ACTIONS[action][0]
        ticket = new_ticket
        check(ticket)


def test_every_state_is_reachable_and_every_reachable_ticket_is_valid():
    """Breadth-first over every allowed action (with valid data) from a new ticket."""

    def key(t: Ticket) -> tuple[object, ...]:
        return (t.state, t.request.kind if t.request else None, t.dispute_open, t.replacement_approved, t.covered)

    keys = {key(new())}
    seen = {State.OPENED}
    frontier = [new()]
    at = T0
    for _ in range(30):
        following = []
        for ticket in frontier:
            for role in (M, B, S):
                for action in tickets.allowed(ticket, role):
                    variants = [GOOD.get(action, {})]
                    if action == "decide":
                        variants.append({"covered": True, "cause": "defect"})
                    if action == "request":
                        variants.append({"kind": "replacement"})
                    for payload in variants:
                        at += timedelta(hours=1)
                        try:
                            nxt, _ = tickets.apply(ticket, action, role, "x", at, CAL, payload)
                        except TicketError:
                            continue
                        check(nxt)
                        seen.add(nxt.state)
                        if key(nxt) not in keys:
                            keys.add(key(nxt))
                            following.append(nxt)
        frontier = following
    assert seen == set(State)


BEFORE_RECEIPT = {State.OPENED, State.AWAITING_SHIPMENT, State.IN_TRANSIT, State.REFERRED, State.CANCELLED}


def check(t: Ticket) -> None:
    assert isinstance(t.state, State)
    if t.state in BEFORE_RECEIPT or (t.state is State.CLOSED and t.referral):  # a referral never comes in
        assert t.received_on is None and t.due_latest is None
    else:
        assert t.received_on is not None and t.due_earliest is not None and t.due_latest is not None
        assert t.due_earliest <= t.due_latest
    if t.state in (State.IN_TRANSIT, State.RECEIVED):
        assert t.inbound is not None
    if t.state is State.QUOTED:
        assert t.covered is False and t.quote_amount is not None and t.evidence_photos
    if t.state is State.REFUNDED:
        assert t.refund_amount is not None and t.refund_amount >= 0
    if t.state is State.REPLACED:
        assert t.replacement_serial
    if t.state is State.RETURN_SHIPMENT:
        assert t.outbound is not None
    if t.state in (State.REPAIRED, State.REPLACED, State.REFUNDED, State.RETURNED_UNREPAIRED):
        assert t.finished_on is not None
    if t.state is State.REFERRED:
        assert t.referral and all(t.referral.values())
    assert all(0 <= n <= tickets.MAX_EVIDENCE for n in t.evidence.values())
    if t.state in tickets.FINAL:
        assert tickets.allowed(t, Role.BIZ_SUPPORT) == [] and tickets.allowed(t, Role.MERCHANT) == []
