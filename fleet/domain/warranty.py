"""Warranty of a device on a date (W1-W4), optionally for a damage cause and a part.

- W4: only devices registered to a sale or rental are handled; anything else is "not registered".
- W3: negligence (dropped, water, ...) and accessories (charger cable, charger head, ...) are never covered.
- W1: a purchased device is covered for one year from its invoice date: from the invoice date up to the
  day before its first anniversary (an invoice of 29 February runs to 28 February).
- W2: a rented device is covered for its whole rental period, both ends included.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Cause(StrEnum):
    """What damaged a device, as diagnosed; dropped, water and negligence are the owner's (W3)."""

    DEFECT = "defect"  # the device failed by itself
    WEAR = "wear"  # normal wear in use (a worn print head)
    DROPPED = "dropped"
    WATER = "water"
    NEGLIGENCE = "negligence"  # other damage by the owner's negligence


NEGLIGENCE = frozenset({Cause.DROPPED, Cause.WATER, Cause.NEGLIGENCE})


class Part(StrEnum):
    """The part a repair needs; the charger cable and head and other accessories are never covered (W3)."""

    MAINBOARD = "mainboard"
    SCREEN = "screen"
    BATTERY = "battery"
    PRINT_HEAD = "print_head"
    CUTTER = "cutter"
    KEYPAD = "keypad"
    CHARGER_CABLE = "charger_cable"
    CHARGER_HEAD = "charger_head"
    ACCESSORY = "accessory"  # any other accessory


ACCESSORIES = frozenset({Part.CHARGER_CABLE, Part.CHARGER_HEAD, Part.ACCESSORY})


@dataclass(frozen=True)
class Terms:
    """What the registry knows of a device's sale or rental."""

    ownership: str  # "purchased" or "rented"
    invoice_date: date | None = None
    rental_start: date | None = None
    rental_end: date | None = None


@dataclass(frozen=True)
class WarrantyStatus:
    """The warranty of a device on a day: covered or not, the rule that decided and why, the covered
    period and the covered days left."""

    covered: bool
    rule: str  # the rule that decided: W1, W2, W3 or W4
    reason: str
    starts: date | None = None
    expires: date | None = None  # the last covered day
    days_left: int = 0  # covered days from `on` to `expires`, both included; 0 when not covered


def anniversary(day: date) -> date:
    """The same date a year later; 29 February's is 1 March."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


def period(terms: Terms) -> tuple[str, date | None, date | None]:
    """(rule, first covered day, last covered day) from the device's terms."""
    if terms.ownership == "rented":
        return "W2", terms.rental_start, terms.rental_end
    if terms.invoice_date is None:
        return "W1", None, None
    return "W1", terms.invoice_date, anniversary(terms.invoice_date) - timedelta(days=1)


def warranty(terms: Terms | None, on: date, cause: Cause | None = None, part: Part | None = None) -> WarrantyStatus:
    """The warranty of a device on the day `on` (W1-W4): not registered (W4); excluded by the damage's
    `cause` or the `part` (W3); else covered within the invoice year (W1) or the rental period (W2)."""
    if terms is None:
        return WarrantyStatus(False, "W4", "not registered: only devices bought or rented from us are handled")
    rule, starts, expires = period(terms)
    if starts is None or expires is None:
        missing = "rental period" if rule == "W2" else "invoice date"
        return WarrantyStatus(False, rule, f"no {missing} on record")
    if cause in NEGLIGENCE:
        return WarrantyStatus(False, "W3", f"damage by negligence ({cause}) is never covered", starts, expires)
    if part in ACCESSORIES:
        return WarrantyStatus(False, "W3", f"accessories ({part}) are never covered", starts, expires)
    if on < starts:
        what = "the rental has not started" if rule == "W2" else "before the invoice date"
        return WarrantyStatus(False, rule, what, starts, expires)
    if on > expires:
        what = "the rental period has ended" if rule == "W2" else "more than a year after the invoice date"
        return WarrantyStatus(False, rule, what, starts, expires)
    what = "within the rental period" if rule == "W2" else "within a year of the invoice date"
    return WarrantyStatus(True, rule, what, starts, expires, (expires - on).days + 1)
