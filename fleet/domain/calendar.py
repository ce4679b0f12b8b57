"""Working days (S2): Monday to Friday, and not an Indonesian public holiday.

Rules take a `WorkingCalendar`; `indonesia(years)` builds one from the maintained `holidays` package,
never from a hand-kept list.

A day in a rule is a local day: the date of a moment in the zone that applies (the merchant's for what the
merchant does, RF1; the service office's for what Biz Support does, S1), never its UTC date. Indonesia
has three zones; `local_day` is the one place a moment becomes a day.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# Indonesia's time zones and what Indonesians call them.
ZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
DEFAULT_ZONE = "Asia/Jakarta"
OFFICE_ZONE = "Asia/Jakarta"  # Biz Support's service office, where repairs are received (S1)
EASTERNMOST_ZONE = "Asia/Jayapura"  # the first to start a new day
WESTERNMOST_ZONE = "Asia/Jakarta"  # the last to


def local_day(moment: datetime, zone: str) -> date:
    """The date of `moment` (timezone-aware) in `zone` (one of ZONES)."""
    if moment.tzinfo is None:
        raise ValueError("a moment without a time zone has no local day")
    return moment.astimezone(ZoneInfo(zone)).date()


class WorkingCalendar:
    """Which days are working days (S2): Monday to Friday, less the holidays it is given (a mapping of
    day to name, or just days)."""

    def __init__(self, holidays: Mapping[date, str] | Iterable[date] = ()) -> None:
        self.holidays: dict[date, str] = (
            dict(holidays) if isinstance(holidays, Mapping) else dict.fromkeys(holidays, "holiday")
        )

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day: a weekday that is not a holiday (S2)."""
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself is day 0, whatever it is)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: 0 when `end` is not after `start`."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def indonesia(years: Iterable[int], collective_leave: bool = False) -> WorkingCalendar:
    """Indonesia's public holidays for `years`, from the `holidays` package (S2); with `collective_leave`,
    the government's collective leave days (*cuti bersama*, the package's "government" category) too,
    for an office that closes on them (a business setting: FLEET_COLLECTIVE_LEAVE)."""
    import holidays

    categories = ("public", "government") if collective_leave else ("public",)
    days = holidays.country_holidays("ID", years=list(years), categories=categories)
    return WorkingCalendar({day: str(name) for day, name in days.items()})
