"""Refund, return and complaint requests on paid orders (RF1-RF5).

- RF1: a request must be answered within 3 working days (S2); unanswered, it is approved automatically.
- RF3: a complaint asks for a replacement product or a refund of the order total excluding shipping.
- RF4: a rejection is notified to the customer, with its reason.
- RF5: a refund during the sale (its day not yet settled: no settlement report reconciled for it) succeeds
  at once, whatever the merchant's balance: the sale's own money is still held. After the sale (settled)
  it is taken from the merchant's balance, and refused when the balance is too low.
"""

from dataclasses import dataclass
from datetime import date, datetime

from fleet.domain.calendar import WorkingCalendar, local_day

ANSWER_DAYS = 3
KINDS = ("refund", "return", "complaint")
SOLUTIONS = ("refund", "replacement")


class RefundError(ValueError):
    """A refund request the rules refuse, with the rule that decides."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(f"{message} ({rule})")
        self.rule = rule


@dataclass(frozen=True)
class Amounts:
    """What a request gives back: the Rupiah refunded (0 for a replacement) and whether it is a
    replacement."""

    refund: int  # what goes back to the customer (0 for a replacement)
    replacement: bool


def amounts(kind: str, solution: str | None, paid: int, shipping: int) -> Amounts:
    """What a request asks for, in whole Rupiah, from the order's paid amount and its shipping."""
    if kind not in KINDS:
        raise RefundError("a request is a refund, a return or a complaint", "RF3")
    if paid < 0 or shipping < 0 or shipping > paid:
        raise RefundError("shipping cannot exceed what was paid", "RF3")
    if kind == "complaint":
        if solution not in SOLUTIONS:
            raise RefundError("a complaint asks for a replacement or a refund", "RF3")
        if solution == "replacement":
            return Amounts(0, True)
        return Amounts(paid - shipping, False)  # RF3: excluding shipping
    return Amounts(paid, False)


def answer_due(made_at: datetime, calendar: WorkingCalendar, zone: str) -> date:
    """RF1: the last day to answer: the 3rd working day after the day the request was made, in the
    merchant's `zone`."""
    return calendar.add_working_days(local_day(made_at, zone), ANSWER_DAYS)


def overdue(made_at: datetime, now: datetime, calendar: WorkingCalendar, zone: str) -> bool:
    """RF1: whether the request made at `made_at` is past its answer day at `now`, both days in the
    merchant's `zone` (then it is approved automatically)."""
    return local_day(now, zone) > answer_due(made_at, calendar, zone)


def payable(balance: int, refund: int) -> bool:
    """RF5: an after-sale refund comes out of the merchant's balance."""
    return refund <= balance


def settled(sale_day: date, reconciled_through: date | None) -> bool:
    """RF5: whether a sale of `sale_day` (the merchant's day) is settled: a settlement report of that day
    or a later one has been reconciled (`reconciled_through`, the latest such day)."""
    return reconciled_through is not None and sale_day <= reconciled_through


AT_ONCE, FROM_BALANCE, REFUSED = "at_once", "from_balance", "refused"


def refund_outcome(refund: int, is_settled: bool, balance: int) -> str:
    """RF5: a refund during the sale (not settled) succeeds at once; after it, it is paid from the balance,
    or refused when the balance is too low."""
    if not is_settled:
        return AT_ONCE
    return FROM_BALANCE if payable(balance, refund) else REFUSED
