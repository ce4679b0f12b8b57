"""P4 PayLater rules, table-driven: credit limit, down payment, bad history, deadline, OTP expiry,
attempts and the send rate limit."""

from datetime import UTC, datetime, timedelta

import pytest

from fleet.domain import paylater
from fleet.domain.paylater import Customer

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
WINDOW = timedelta(minutes=30)  # the merchant's auto-cancel window


@pytest.mark.parametrize(
    ("limit", "history_ok", "amount", "allowed", "down", "financed"),
    [
        (2_000_000, True, 1_500_000, True, 0, 1_500_000),  # P4: within the limit
        (2_000_000, True, 2_000_000, True, 0, 2_000_000),  # exactly the limit
        (2_000_000, True, 2_750_000, True, 750_000, 2_000_000),  # P4: above it, a down payment
        (2_000_000, False, 100_000, False, 0, 0),  # P4: bad history, refused
        (0, True, 100_000, False, 0, 0),
        (2_000_000, True, 0, False, 0, 0),
    ],
)
def test_p4_offer(limit, history_ok, amount, allowed, down, financed):
    offer = paylater.offer(Customer("+6281200000001", limit, history_ok), amount, NOW, WINDOW)
    assert (offer.allowed, offer.down_payment, offer.financed) == (allowed, down, financed)
    if allowed:
        assert offer.deadline == NOW + WINDOW  # P4: the merchant's auto-cancel window
        assert [p.tenor_months for p in offer.plans] == list(paylater.TENORS)
        for plan in offer.plans:
            assert plan.total >= financed and plan.instalment * plan.tenor_months >= plan.total
            assert all(type(v) is int for v in (plan.instalment, plan.total))  # whole Rupiah


def test_p4_otp_expiry_attempts_and_single_use():
    otp = paylater.new_otp("secret", "s1", "123456", NOW)
    assert paylater.check_otp(otp, "secret", "123456", NOW + paylater.OTP_TTL + timedelta(seconds=1))[1] == "expired"
    otp, outcome = paylater.check_otp(otp, "secret", "000000", NOW)
    assert outcome == "wrong"
    otp, outcome = paylater.check_otp(otp, "secret", "123456", NOW)
    assert outcome == "ok"
    assert paylater.check_otp(otp, "secret", "123456", NOW)[1] == "used"
    locked = paylater.new_otp("secret", "s2", "654321", NOW)
    for expected in ("wrong", "wrong", "locked"):
        locked, outcome = paylater.check_otp(locked, "secret", "111111", NOW)
        assert outcome == expected
    assert paylater.check_otp(locked, "secret", "654321", NOW)[1] == "locked"  # even the right code now
    assert paylater.check_otp(paylater.new_otp("other", "s3", "1", NOW), "secret", "1", NOW)[1] == "wrong"


def test_p4_the_otp_is_kept_only_as_a_hash_under_a_key_of_its_own():
    import hashlib
    import hmac

    from fleet.auth import keys

    key = keys.derive("secret", keys.OTP)  # the key the service hashes OTPs with (fleet.app, fleet.service)
    otp = paylater.new_otp(key, "s1", "123456", NOW)
    assert "123456" not in otp.digest
    # Not the service secret's own HMAC of the same text (what any other use of the secret could compute).
    plain = hmac.new(b"secret", b"s1:123456", hashlib.sha256).hexdigest()
    assert otp.digest != plain and len(otp.digest) == 64
    assert paylater.new_otp(key, "s2", "123456", NOW).digest != otp.digest  # bound to its session


def test_p4_otp_send_rate_limit():
    sent = [NOW - timedelta(minutes=m) for m in (1, 5, 14)]
    assert not paylater.may_send(sent, NOW)
    assert paylater.may_send(sent, NOW + timedelta(minutes=2))  # the oldest left the window
    assert paylater.may_send([], NOW)


@pytest.mark.parametrize(
    ("minutes", "ok"), [(4, False), (5, True), (30, True), (90, True), (7 * 24 * 60, True), (7 * 24 * 60 + 1, False)]
)
def test_p4_the_merchants_auto_cancel_window_has_bounds(minutes, ok):
    if ok:
        window = paylater.auto_cancel(minutes)
        offer = paylater.offer(Customer("+6281200000001", 1_000_000, True), 50_000, NOW, window)
        assert offer.deadline == NOW + timedelta(minutes=minutes)  # P4: the deadline follows the setting
    else:
        with pytest.raises(ValueError, match="auto-cancel window"):
            paylater.auto_cancel(minutes)
