"""Shipments: couriers, tracking numbers (resi) checked per courier (SH2), and the one courier change
allowed within 24 hours of shipping (SH1)."""

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

COURIER_CHANGE_WINDOW = timedelta(hours=24)

# Tracking number formats per courier.
_FORMATS = {
    "jne": re.compile(r"^(?:[A-Z]{2,4}\d{10,13}|\d{13,16})$"),
    "jnt": re.compile(r"^J[PDX]\d{10}$"),
    "sicepat": re.compile(r"^\d{12}$"),
    "anteraja": re.compile(r"^1[01]\d{12}$"),
    "pos": re.compile(r"^[A-Z]{2}\d{9}ID$"),  # UPU S10, with its check digit
    "gosend": re.compile(r"^GK-\d{1,2}-\d{6,10}$"),
}
COURIERS = tuple(_FORMATS)


def _s10_check_digit_ok(tracking: str) -> bool:
    digits = [int(c) for c in tracking[2:10]]
    total = sum(d * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    check = 0 if check == 10 else 5 if check == 11 else check
    return check == int(tracking[10])


def tracking_valid(courier: str, tracking: str) -> bool:
    """Whether `tracking` has the format of `courier`'s tracking numbers (and, for Pos Indonesia's UPU S10
    numbers, the right check digit) (SH2)."""
    pattern = _FORMATS.get(courier)
    if pattern is None or not pattern.match(tracking):
        return False
    return courier != "pos" or _s10_check_digit_ok(tracking)


class ShippingError(ValueError):
    """A shipment change the rules refuse, with the rule (SH1 or SH2)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{message} ({rule})")
        self.rule = rule


@dataclass(frozen=True)
class Shipment:
    """One shipping leg of a repair: courier, tracking number, when it shipped, whether the tracking number
    looked valid, and the changes made to it so far."""

    leg: str  # "inbound" (merchant → service office) or "return"
    courier: str
    tracking: str
    shipped_at: datetime
    tracking_valid: bool  # False: flagged (SH2); fixed only through `correct_tracking`
    courier_changes: int = 0
    corrections: int = 0


def ship(leg: str, courier: str, tracking: str, at: datetime) -> Shipment:
    """A new shipment on `leg` by `courier` (SH1: a courier we know) with `tracking` (SH2: required; one
    that does not look valid is kept but flagged)."""
    courier = courier.lower()
    if courier not in _FORMATS:
        raise ShippingError("SH1", f"unknown courier {courier!r}; one of {', '.join(COURIERS)}")
    tracking = tracking.strip().upper()
    if not tracking:
        raise ShippingError("SH2", "a shipment needs a tracking number")
    return Shipment(leg, courier, tracking, at, tracking_valid(courier, tracking))


def change_courier(shipment: Shipment, courier: str, tracking: str, at: datetime) -> Shipment:
    """SH1: once, and only within 24 hours of shipping."""
    if shipment.courier_changes >= 1:
        raise ShippingError("SH1", "the courier has already been changed once")
    if at - shipment.shipped_at > COURIER_CHANGE_WINDOW:
        raise ShippingError("SH1", "the courier can only be changed within 24 hours of shipping")
    new = ship(shipment.leg, courier, tracking, shipment.shipped_at)
    return replace(new, courier_changes=shipment.courier_changes + 1, corrections=shipment.corrections)


def correct_tracking(shipment: Shipment, tracking: str) -> Shipment:
    """SH2: the explicit correction of a tracking number; the new one must be valid for the courier."""
    tracking = tracking.strip().upper()
    if not tracking_valid(shipment.courier, tracking):
        raise ShippingError("SH2", f"{tracking!r} is not a valid {shipment.courier} tracking number")
    return replace(shipment, tracking=tracking, tracking_valid=True, corrections=shipment.corrections + 1)
