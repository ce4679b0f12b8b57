"""The service's working calendar (S2): Indonesia's public holidays, and the collective leave days when the
office closes on them (FLEET_COLLECTIVE_LEAVE). Rules take it as a parameter; services get it here."""

import functools
from datetime import date

from fleet.domain import calendar as cal
from fleet.settings import get_settings


@functools.lru_cache(maxsize=8)
def _calendar(year: int, collective_leave: bool) -> cal.WorkingCalendar:
    return cal.indonesia(range(year - 1, year + 3), collective_leave)


def calendar_for(day: date) -> cal.WorkingCalendar:
    """Indonesia's working days (S2) for the years around `day`, with the collective leave days when the
    office closes on them (FLEET_COLLECTIVE_LEAVE)."""
    return _calendar(day.year, get_settings().collective_leave)
