"""Who pays each shipping leg and the parts of a repair (C1, C2).

- C1, purchased: the merchant ships to the service office, the vendor pays the return; parts not covered
  by the warranty are the merchant's.
- C2, rented: the vendor pays all shipping; parts needed because of negligence are the merchant's (a
  rented device is the vendor's: other parts, accessories included, are the vendor's).
"""

from dataclasses import dataclass
from enum import StrEnum

from fleet.domain.warranty import NEGLIGENCE, Cause


class Payer(StrEnum):
    """Who pays a cost: the merchant or the vendor."""

    MERCHANT = "merchant"
    VENDOR = "vendor"


@dataclass(frozen=True)
class Costs:
    """Who pays each part of one repair, and the rule that decided (C1 or C2)."""

    inbound_shipping: Payer
    return_shipping: Payer
    parts: Payer
    rule: str


def who_pays(ownership: str, covered: bool, cause: Cause | None) -> Costs:
    """Who pays the shipping each way and the parts of a repair: C2 for a rented device (the vendor, but
    the merchant for parts needed because of negligence), C1 otherwise (the merchant ships in and pays for
    parts the warranty does not cover, `covered` being the warranty's answer)."""
    if ownership == "rented":
        parts = Payer.MERCHANT if cause in NEGLIGENCE else Payer.VENDOR
        return Costs(Payer.VENDOR, Payer.VENDOR, parts, "C2")
    return Costs(Payer.MERCHANT, Payer.VENDOR, Payer.VENDOR if covered else Payer.MERCHANT, "C1")
