"""Rental status of a device on a date, and whether its sales should be locked.

upcoming → active → ending soon (the last `ending_soon_days`) → expired (the rental has ended; the
merchant has `grace_working_days` working days to return the device or extend) → overdue (the grace
has passed: sales are locked until the device is returned or the rental extended). A returned device
is returned, whatever the dates. Grace counts working days (S2), so a rental ending before a holiday
gets its full grace.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fleet.domain.calendar import WorkingCalendar


class RentalState(StrEnum):
    """Where a rental stands on a day (see the module)."""

    NOT_RENTED = "not_rented"
    UPCOMING = "upcoming"
    ACTIVE = "active"
    ENDING_SOON = "ending_soon"
    EXPIRED = "expired"
    OVERDUE = "overdue"
    RETURNED = "returned"


@dataclass(frozen=True)
class RentalPolicy:
    """How many days before the end a rental counts as ending soon, and the working days of grace after it."""

    ending_soon_days: int = 14
    grace_working_days: int = 3


@dataclass(frozen=True)
class RentalStatus:
    """A device's rental on a day: its state, whether its sales are locked, the days to the end and the
    last day of grace."""

    state: RentalState
    lock_sales: bool
    days_to_end: int | None = None  # calendar days from `on` to the last rental day (negative after)
    grace_until: date | None = None  # the last day of grace after the rental ends


def rental_status(
    ownership: str,
    start: date | None,
    end: date | None,
    returned_on: date | None,
    on: date,
    calendar: WorkingCalendar,
    policy: RentalPolicy = RentalPolicy(),
) -> RentalStatus:
    """The rental status of a device on the day `on` (W2 covers it while active), from its ownership, its
    rental period and the day it was returned, if it was; grace counts working days of `calendar` (S2)."""
    if ownership != "rented" or start is None or end is None:
        return RentalStatus(RentalState.NOT_RENTED, False)
    if returned_on is not None and returned_on <= on:
        return RentalStatus(RentalState.RETURNED, False)
    days_to_end = (end - on).days
    grace_until = calendar.add_working_days(end, policy.grace_working_days)
    if on < start:
        state = RentalState.UPCOMING
    elif on <= end:
        state = RentalState.ENDING_SOON if days_to_end < policy.ending_soon_days else RentalState.ACTIVE
    elif on <= grace_until:
        state = RentalState.EXPIRED
    else:
        state = RentalState.OVERDUE
    return RentalStatus(state, state is RentalState.OVERDUE, days_to_end, grace_until)
