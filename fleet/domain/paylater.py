"""PayLater (P4): what a customer may borrow, and the one-time password that confirms it.

- A customer with a bad payment history is refused.
- An amount within the credit limit is financed whole, in one of the offered tenors; above the limit,
  the customer pays the difference as a down payment and the limit is financed.
- The deadline to pay is the merchant's auto-cancel window from now.
- The OTP: a 6-digit code kept only as a hash, valid for `OTP_TTL`, at most `OTP_ATTEMPTS` tries, and
  at most `OTP_SENDS` codes per phone number in `OTP_SEND_WINDOW` (so it cannot be used to spam).
"""

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

TENORS = (1, 3, 6, 12)  # months
MONTHLY_FEE_BP = 250  # 2.5% a month on the financed amount, in basis points
OTP_TTL = timedelta(minutes=5)
OTP_ATTEMPTS = 3
OTP_SENDS = 3
OTP_SEND_WINDOW = timedelta(minutes=15)
# The merchant's auto-cancel window, in minutes: the least and most it may set, and the default.
AUTO_CANCEL_LEAST, AUTO_CANCEL_DEFAULT, AUTO_CANCEL_MOST = 5, 30, 7 * 24 * 60


def auto_cancel(minutes: int) -> timedelta:
    """The auto-cancel window a merchant set, as a duration (P4); a value outside the bounds is refused."""
    if not AUTO_CANCEL_LEAST <= minutes <= AUTO_CANCEL_MOST:
        raise ValueError(f"the auto-cancel window is {AUTO_CANCEL_LEAST} to {AUTO_CANCEL_MOST} minutes, not {minutes}")
    return timedelta(minutes=minutes)


@dataclass(frozen=True)
class Customer:
    """What the PayLater provider knows of a customer: their credit limit in Rupiah and whether their
    history allows credit (P4)."""

    phone: str
    credit_limit: int
    history_ok: bool


@dataclass(frozen=True)
class Plan:
    """One instalment plan: the tenor in months, the monthly instalment (rounded up) and the total."""

    tenor_months: int
    instalment: int  # Rupiah a month, rounded up
    total: int


@dataclass(frozen=True)
class Offer:
    """The answer to a PayLater request (P4): allowed or not and why, the down payment needed above the
    credit limit, the amount financed, the plans to choose from and the deadline to pay."""

    allowed: bool
    reason: str
    down_payment: int = 0
    financed: int = 0
    plans: tuple[Plan, ...] = ()
    deadline: datetime | None = None


def offer(customer: Customer, amount: int, now: datetime, auto_cancel: timedelta) -> Offer:
    """P4: the tenors a customer can take for `amount`, with a down payment above their limit."""
    if amount <= 0:
        return Offer(False, "nothing to pay")
    if not customer.history_ok:
        return Offer(False, "refused: the customer's payment history is bad")
    if customer.credit_limit <= 0:
        return Offer(False, "refused: no credit limit")
    financed = min(amount, customer.credit_limit)
    down = amount - financed
    plans = []
    for months in TENORS:
        total = financed + -(-financed * MONTHLY_FEE_BP * months // 10_000)
        plans.append(Plan(months, -(-total // months), total))
    reason = "within the credit limit" if not down else "above the credit limit: a down payment first"
    return Offer(True, reason, down, financed, tuple(plans), now + auto_cancel)


def _digest(key: str, session: str, code: str) -> str:
    """The OTP's keyed hash. `key` is the OTP's own key, derived from the service secret for this one
    purpose (fleet.auth.keys.OTP), so no other use of that secret ever computes the same function."""
    return hmac.new(key.encode(), f"{session}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Otp:
    """A one-time code as it is kept: only its keyed hash, when it expires, the tries so far and whether it
    was used."""

    session: str
    digest: str
    expires_at: datetime
    attempts: int = 0
    used: bool = False


def new_otp(secret: str, session: str, code: str, now: datetime) -> Otp:
    """The OTP for `session` with this `code`, kept as a hash under `secret` (the OTP key,
    fleet.auth.keys.OTP), expiring OTP_TTL after `now`."""
    return Otp(session, _digest(secret, session, code), now + OTP_TTL)


def check_otp(otp: Otp, secret: str, code: str, now: datetime) -> tuple[Otp, str]:
    """(the OTP after this try, the outcome: ok, wrong, expired, locked or used)."""
    if otp.used:
        return otp, "used"
    if otp.attempts >= OTP_ATTEMPTS:
        return otp, "locked"
    if now > otp.expires_at:
        return otp, "expired"
    if hmac.compare_digest(otp.digest, _digest(secret, otp.session, code)):
        return replace(otp, attempts=otp.attempts + 1, used=True), "ok"
    tried = replace(otp, attempts=otp.attempts + 1)
    return tried, "locked" if tried.attempts >= OTP_ATTEMPTS else "wrong"


def may_send(sent_at: list[datetime], now: datetime) -> bool:
    """The rate limit on OTP messages to one phone number."""
    return sum(1 for t in sent_at if now - t < OTP_SEND_WINDOW) < OTP_SENDS
