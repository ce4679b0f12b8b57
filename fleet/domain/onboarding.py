"""A merchant's onboarding and activation (O1).

A merchant account is activated when its onboarding ends, and at the latest on the 14th working day (S2)
after the day of its first payment, counted in the merchant's own zone. Before its first payment a
merchant is new; between the first payment and activation it is onboarding.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from fleet.domain.calendar import WorkingCalendar, local_day

ACTIVATION_DAYS = 14
DEADLINE_NEAR_DAYS = 3  # Biz Support is alerted this many working days before an activation deadline


class Stage(StrEnum):
    NEW = "new"  # no payment yet
    ONBOARDING = "onboarding"  # paid, onboarding not finished, the deadline not reached
    ACTIVE = "active"


@dataclass(frozen=True)
class Onboarding:
    """Where a merchant's onboarding stands on a day: its stage, the day of its first payment, the last day
    it may stay inactive (O1) and the day it was activated."""

    stage: Stage
    first_payment_on: date | None = None
    activation_due: date | None = None
    activated_on: date | None = None
    rule: str = "O1"


def activation_due(first_payment_on: date, calendar: WorkingCalendar) -> date:
    """O1: the day the account is activated at the latest: the 14th working day after the first payment's."""
    return calendar.add_working_days(first_payment_on, ACTIVATION_DAYS)


def onboarding(
    first_payment_at: datetime | None,
    finished_at: datetime | None,
    now: datetime,
    calendar: WorkingCalendar,
    zone: str,
) -> Onboarding:
    """The merchant's onboarding at `now` (O1): active from the day its onboarding finished, or from its
    activation deadline if that came first; every day is the merchant's own (`zone`)."""
    finished = local_day(finished_at, zone) if finished_at is not None else None
    if first_payment_at is None:
        return Onboarding(Stage.ACTIVE, activated_on=finished) if finished else Onboarding(Stage.NEW)
    first = local_day(first_payment_at, zone)
    due = activation_due(first, calendar)
    today = local_day(now, zone)
    if finished is not None and finished <= due:
        return Onboarding(Stage.ACTIVE, first, due, finished)
    if today >= due:
        return Onboarding(Stage.ACTIVE, first, due, due)
    return Onboarding(Stage.ONBOARDING, first, due)


def deadline_near(state: Onboarding, today: date, calendar: WorkingCalendar) -> bool:
    """O1: the merchant is still onboarding and its activation deadline is at most DEADLINE_NEAR_DAYS
    working days away: Biz Support should finish its onboarding now."""
    if state.stage is not Stage.ONBOARDING or state.activation_due is None:
        return False
    return state.activation_due <= calendar.add_working_days(today, DEADLINE_NEAR_DAYS)
