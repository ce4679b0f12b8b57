"""Repair lead times (S1), counted in working days (S2) from the day Biz Support receives the device."""

from dataclasses import dataclass
from datetime import date

from fleet.domain.calendar import WorkingCalendar

BASIC, PREMIUM = "basic", "premium"  # service plans
PLANS = (BASIC, PREMIUM)
PREMIUM_LEAD_TIME = (3, 4)  # a Premium-plan device, whatever its type

# Working days (earliest, latest) by device type, on the basic plan.
LEAD_TIMES = {
    "tablet": (7, 14),  # Advan, X1 Basic, X2 Pro, Samsung tablets
    "mpos": (3, 4),  # IMIN, the vendor's own mPOS, Premium-plan devices
    "printer": (3, 4),  # accessories
    "cash_drawer": (3, 4),
    "scanner": (3, 4),
}


def late(latest: date, today: date, finished: date | None = None) -> bool:
    """Past the latest due date: judged on the day the repair finished once it has, else on `today`."""
    return (finished or today) > latest


@dataclass(frozen=True)
class RepairWindow:
    """The repair's due window (S1): the day the device was received, the earliest and the latest due day."""

    received: date
    earliest: date
    latest: date

    def overdue(self, today: date, finished: date | None = None) -> bool:
        """Late when not finished by `latest`."""
        return late(self.latest, today, finished)


def repair_window(device_type: str, received: date, calendar: WorkingCalendar, plan: str = BASIC) -> RepairWindow:
    """The due window of a repair of a `device_type` received on `received` (S1): the lead time's working
    days (S2) after that day. ValueError for a device type with no lead time."""
    if device_type not in LEAD_TIMES:
        raise ValueError(f"no lead time for device type {device_type!r}")
    if plan not in PLANS:
        raise ValueError(f"no service plan {plan!r}")
    low, high = PREMIUM_LEAD_TIME if plan == PREMIUM else LEAD_TIMES[device_type]
    return RepairWindow(received, calendar.add_working_days(received, low), calendar.add_working_days(received, high))
