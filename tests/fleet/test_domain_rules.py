"""Table-driven tests of the pure domain rules, named by rule ID (../shared/BRIEF.md): warranty W1-W4,
working days S2, repair lead times S1, who pays C1-C2, rentals, shipping SH1-SH2."""

from datetime import UTC, date, datetime, timedelta

import pytest

from fleet.domain import costs, rental, shipping, sla, warranty
from fleet.domain.calendar import WorkingCalendar, indonesia
from fleet.domain.warranty import Cause, Part, Terms

ID = indonesia([2024, 2025, 2026, 2027, 2028])
PURCHASED = Terms("purchased", invoice_date=date(2026, 1, 5))
LEAP = Terms("purchased", invoice_date=date(2024, 2, 29))
RENTED = Terms("rented", rental_start=date(2026, 6, 1), rental_end=date(2027, 5, 31))


@pytest.mark.parametrize(
    ("rule", "terms", "on", "cause", "part", "covered", "expires", "days_left"),
    [
        ("W1", PURCHASED, date(2026, 1, 5), None, None, True, date(2027, 1, 4), 365),  # the invoice day
        ("W1", PURCHASED, date(2027, 1, 4), None, None, True, date(2027, 1, 4), 1),  # the last day
        ("W1", PURCHASED, date(2027, 1, 5), None, None, False, date(2027, 1, 4), 0),  # the anniversary
        ("W1", PURCHASED, date(2026, 1, 4), None, None, False, date(2027, 1, 4), 0),  # before the invoice
        ("W1", LEAP, date(2025, 2, 28), None, None, True, date(2025, 2, 28), 1),  # a leap-day invoice
        ("W1", LEAP, date(2025, 3, 1), None, None, False, date(2025, 2, 28), 0),
        ("W1", Terms("purchased"), date(2026, 3, 1), None, None, False, None, 0),  # no invoice on record
        ("W2", RENTED, date(2026, 6, 1), None, None, True, date(2027, 5, 31), 365),  # rental's first day
        ("W2", RENTED, date(2027, 5, 31), None, None, True, date(2027, 5, 31), 1),  # its last day
        ("W2", RENTED, date(2027, 6, 1), None, None, False, date(2027, 5, 31), 0),
        ("W2", RENTED, date(2026, 5, 31), None, None, False, date(2027, 5, 31), 0),  # not started
        ("W3", PURCHASED, date(2026, 3, 1), Cause.DROPPED, None, False, date(2027, 1, 4), 0),
        ("W3", PURCHASED, date(2026, 3, 1), Cause.WATER, Part.MAINBOARD, False, date(2027, 1, 4), 0),
        ("W3", RENTED, date(2026, 7, 1), None, Part.CHARGER_CABLE, False, date(2027, 5, 31), 0),
        ("W3", RENTED, date(2026, 7, 1), Cause.NEGLIGENCE, None, False, date(2027, 5, 31), 0),
        ("W1", PURCHASED, date(2026, 3, 1), Cause.DEFECT, Part.PRINT_HEAD, True, date(2027, 1, 4), 310),
        ("W4", None, date(2026, 3, 1), None, None, False, None, 0),  # unknown serial
    ],
)
def test_warranty_rules(rule, terms, on, cause, part, covered, expires, days_left):
    status = warranty.warranty(terms, on, cause, part)
    assert (status.rule, status.covered, status.expires, status.days_left) == (rule, covered, expires, days_left)
    assert status.reason


@pytest.mark.parametrize(
    ("day", "working", "why"),
    [
        (date(2026, 11, 23), True, "a Monday"),
        (date(2026, 11, 21), False, "a Saturday"),
        (date(2026, 8, 17), False, "Independence Day, a Monday"),
        (date(2026, 12, 25), False, "Christmas, a Friday"),
        (date(2027, 3, 10), False, "Eid al-Fitr 2027, a Wednesday"),
        (date(2026, 3, 20), True, "the Friday between Nyepi and Eid (no collective leave in the calendar)"),
    ],
)
def test_s2_working_days_follow_the_indonesian_calendar(day, working, why):
    assert ID.is_working_day(day) is working, why


def test_s2_working_day_arithmetic_edges():
    plain = WorkingCalendar()
    friday = date(2026, 11, 20)
    assert plain.add_working_days(friday, 0) == friday
    assert plain.add_working_days(friday, 1) == date(2026, 11, 23)
    assert plain.working_days_between(friday, date(2026, 11, 23)) == 1
    assert plain.working_days_between(friday, friday) == 0
    assert ID.working_days_between(date(2026, 12, 24), date(2026, 12, 28)) == 1  # across Christmas
    with pytest.raises(ValueError):
        plain.add_working_days(friday, -1)


@pytest.mark.parametrize(
    ("device_type", "received", "earliest", "latest", "why"),
    [
        ("mpos", date(2026, 11, 23), date(2026, 11, 26), date(2026, 11, 27), "a plain week"),
        ("mpos", date(2027, 3, 5), date(2027, 3, 15), date(2027, 3, 16), "the Friday before Nyepi and Eid"),
        ("printer", date(2026, 12, 24), date(2026, 12, 30), date(2026, 12, 31), "the day before Christmas"),
        ("tablet", date(2026, 12, 24), date(2027, 1, 7), date(2027, 1, 18), "across New Year and Isra Mi'raj"),
        ("scanner", date(2026, 11, 21), date(2026, 11, 25), date(2026, 11, 26), "received on a Saturday"),
    ],
)
def test_s1_repair_window_in_working_days(device_type, received, earliest, latest, why):
    window = sla.repair_window(device_type, received, ID)
    assert (window.earliest, window.latest) == (earliest, latest), why
    assert not window.overdue(latest) and window.overdue(latest + timedelta(days=1))
    assert not window.overdue(latest + timedelta(days=9), finished=latest)


def test_s1_unknown_device_type_is_refused():
    with pytest.raises(ValueError):
        sla.repair_window("toaster", date(2026, 11, 23), ID)


@pytest.mark.parametrize(
    ("rule", "ownership", "covered", "cause", "inbound", "back", "parts"),
    [
        ("C1", "purchased", True, Cause.DEFECT, "merchant", "vendor", "vendor"),
        ("C1", "purchased", False, Cause.DROPPED, "merchant", "vendor", "merchant"),
        ("C1", "purchased", False, Cause.DEFECT, "merchant", "vendor", "merchant"),  # out of warranty
        ("C2", "rented", True, Cause.DEFECT, "vendor", "vendor", "vendor"),
        ("C2", "rented", False, Cause.WATER, "vendor", "vendor", "merchant"),
    ],
)
def test_c1_c2_who_pays(rule, ownership, covered, cause, inbound, back, parts):
    split = costs.who_pays(ownership, covered, cause)
    assert (split.rule, split.inbound_shipping, split.return_shipping, split.parts) == (rule, inbound, back, parts)


CHRISTMAS_RENTAL = (date(2026, 1, 1), date(2026, 12, 25))  # ends on a holiday (a Friday)


@pytest.mark.parametrize(
    ("on", "returned", "state", "lock"),
    [
        (date(2025, 12, 31), None, "upcoming", False),
        (date(2026, 6, 1), None, "active", False),
        (date(2026, 12, 12), None, "ending_soon", False),  # 13 days left
        (date(2026, 12, 25), None, "ending_soon", False),  # the last day, a holiday
        (date(2026, 12, 28), None, "expired", False),  # grace: 3 working days after Christmas
        (date(2026, 12, 30), None, "expired", False),  # the last day of grace
        (date(2026, 12, 31), None, "overdue", True),  # sales locked
        (date(2027, 1, 4), date(2027, 1, 2), "returned", False),
    ],
)
def test_rental_status_and_lock_across_a_holiday(on, returned, state, lock):
    status = rental.rental_status("rented", *CHRISTMAS_RENTAL, returned, on, ID)
    assert (status.state, status.lock_sales) == (state, lock)
    assert status.grace_until == (None if returned else date(2026, 12, 30))


def test_rental_status_of_a_purchased_device():
    assert rental.rental_status("purchased", None, None, None, date(2026, 1, 1), ID).state == "not_rented"


NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("courier", "tracking", "valid"),
    [
        ("jne", "CGK1234567890", True),
        ("jne", "1234567890123456", True),
        ("jne", "12345", False),
        ("jnt", "JP1234567890", True),
        ("jnt", "JX12345", False),
        ("sicepat", "000123456789", True),
        ("anteraja", "10000123456789", True),
        ("pos", "RR473124829ID", True),  # a UPU S10 number with its right check digit
        ("pos", "RR473124828ID", False),  # the wrong check digit
    ],
)
def test_sh2_tracking_numbers_are_checked_per_courier(courier, tracking, valid):
    assert shipping.tracking_valid(courier, tracking) is valid


def test_sh1_courier_changes_once_within_24_hours_and_sh2_corrections_are_explicit():
    sent = shipping.ship("inbound", "JNE", "cgk12345", NOW)
    assert sent.courier == "jne" and sent.tracking == "CGK12345" and sent.tracking_valid is False  # flagged
    fixed = shipping.correct_tracking(sent, "CGK1234567890")
    assert fixed.tracking_valid and fixed.corrections == 1
    with pytest.raises(shipping.ShippingError, match="SH2"):
        shipping.correct_tracking(fixed, "nope")
    changed = shipping.change_courier(fixed, "jnt", "JP1234567890", NOW + timedelta(hours=23, minutes=59))
    assert (changed.courier, changed.courier_changes, changed.shipped_at) == ("jnt", 1, NOW)
    with pytest.raises(shipping.ShippingError, match="once"):
        shipping.change_courier(changed, "sicepat", "000123456789", NOW + timedelta(hours=1))
    with pytest.raises(shipping.ShippingError, match="24 hours"):
        shipping.change_courier(fixed, "jnt", "JP1234567890", NOW + timedelta(hours=24, seconds=1))
    with pytest.raises(shipping.ShippingError):
        shipping.ship("inbound", "carrier-pigeon", "X1", NOW)


@pytest.mark.parametrize(
    ("rule", "sale_day", "reconciled_through", "refund", "balance", "outcome"),
    [
        ("RF5", date(2026, 12, 23), None, 90_000, 0, "at_once"),  # nothing reconciled yet: during the sale
        ("RF5", date(2026, 12, 23), date(2026, 12, 22), 90_000, 0, "at_once"),  # its day not settled yet
        ("RF5", date(2026, 12, 22), date(2026, 12, 22), 90_000, 0, "refused"),  # settled, the balance too low
        ("RF5", date(2026, 12, 22), date(2026, 12, 23), 90_000, 90_000, "from_balance"),  # settled, enough
        ("RF5", date(2026, 12, 1), date(2026, 12, 22), 90_000, 89_999, "refused"),
    ],
)
def test_rf5_a_refund_during_the_sale_succeeds_at_once_after_it_the_balance_pays(
    rule, sale_day, reconciled_through, refund, balance, outcome
):
    from fleet.domain import refunds

    settled = refunds.settled(sale_day, reconciled_through)
    assert refunds.refund_outcome(refund, settled, balance) == outcome, rule
