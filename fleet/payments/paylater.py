"""PayLater sessions (P4): phone → OTP by SMS → the offer (tenors within the credit limit, a down payment
above it, refusal for a bad history) → the chosen tenor → a charge for the financed amount.

The same steps serve the API (the merchant's portal) and the terminal's keypad: a terminal asks on its
`req` topic and `answer_terminal` makes the `paylater` command that answers it.
"""

import secrets
from datetime import datetime, timedelta
from typing import Any

from fleet.devices.models import Device
from fleet.domain import paylater
from fleet.errors import Refusal
from fleet.payments import charges
from fleet.payments.exceptions import BadPayLater, PayLaterConflict, TooManyCodes
from fleet.payments.gateway import Acquirer
from fleet.payments.models import Charge, PayLaterSession
from protocol import command, request


async def _auto_cancel(serial: str) -> timedelta:
    """The auto-cancel window of the merchant the terminal belongs to (P4); the default for a terminal
    that belongs to none."""
    device = await Device.get_or_none(serial=serial).prefetch_related("merchant")
    merchant = device.merchant if device is not None else None
    minutes = merchant.auto_cancel_minutes if merchant is not None else paylater.AUTO_CANCEL_DEFAULT
    return paylater.auto_cancel(minutes)


def _otp(row: PayLaterSession) -> paylater.Otp:
    return paylater.Otp(row.id, row.otp_digest, row.otp_expires_at, row.otp_attempts, row.otp_used)


async def start(
    acquirer: Acquirer,
    secret: str,
    device: Device,
    receipt: str,
    amount: int,
    phone: str,
    who: str,
    now: datetime,
    ref: str | None = None,
) -> PayLaterSession:
    if not phone.startswith("+62"):
        raise BadPayLater("PayLater and its OTP serve Indonesian numbers (+62) only", rule="P4")
    rows = await PayLaterSession.filter(phone=phone, created_at__gte=now - paylater.OTP_SEND_WINDOW)
    if not paylater.may_send([r.created_at for r in rows], now):
        raise TooManyCodes("too many codes for this number; wait a few minutes", rule="P4")
    session = secrets.token_hex(12)
    code = f"{secrets.randbelow(10**6):06d}"
    otp = paylater.new_otp(secret, session, code, now)
    row = await PayLaterSession.create(
        id=session,
        serial=device.serial,
        receipt=receipt,
        amount=amount,
        phone=phone,
        otp_digest=otp.digest,
        otp_expires_at=otp.expires_at,
        created_by=who,
        created_at=now,
        ref=ref,
    )
    await acquirer.send_sms(phone, f"Kode OTP PayLater Anda: {code}. Berlaku 5 menit. Jangan berikan ke siapa pun.")
    return row


async def verify(acquirer: Acquirer, secret: str, row: PayLaterSession, code: str, now: datetime) -> str:
    """Check the OTP; when right, fetch the customer's credit and make the offer."""
    otp, outcome = paylater.check_otp(_otp(row), secret, code, now)
    row.otp_attempts, row.otp_used = otp.attempts, otp.used
    if outcome == "ok":
        data = await acquirer.paylater_customer(row.phone)
        customer = paylater.Customer(row.phone, int(data["credit_limit"]), bool(data["history_ok"]))
        offer = paylater.offer(customer, row.amount, now, await _auto_cancel(row.serial))
        row.offer = _offer_json(offer)
        row.status = "offered" if offer.allowed else "refused"
    await row.save()
    return outcome


def _offer_json(offer: paylater.Offer) -> dict[str, Any]:
    return {
        "allowed": offer.allowed,
        "reason": offer.reason,
        "down_payment": offer.down_payment,
        "financed": offer.financed,
        "plans": [vars(p) for p in offer.plans],
        "deadline": offer.deadline.isoformat() if offer.deadline else None,
    }


async def confirm(acquirer: Acquirer, row: PayLaterSession, tenor: int, now: datetime) -> PayLaterSession:
    if row.status != "offered" or not row.offer:
        raise PayLaterConflict(f"nothing to confirm: the session is {row.status}")
    if row.offer["deadline"] and now > datetime.fromisoformat(row.offer["deadline"]):
        raise PayLaterConflict("the merchant's auto-cancel window has passed (P4)", rule="P4")
    if tenor not in [p["tenor_months"] for p in row.offer["plans"]]:
        raise BadPayLater("choose one of the offered tenors", rule="P4")
    reference = f"paylater:{row.id}"
    made = await acquirer.create_charge(reference, row.offer["financed"], "paylater", row.serial)
    # Followed like every charge: when the provider pays it, the terminal is told (and a terminal that
    # cannot take it makes a fix-payment case: a payment is never lost).
    await charges.follow(
        acquirer.name,
        made,
        reference=reference,
        serial=row.serial,
        receipt=row.receipt,
        method="paylater",
        amount=row.offer["financed"],
        now=now,
    )
    row.tenor_months, row.charge_ref, row.status = tenor, made["id"], "confirmed"
    await row.save()
    return row


async def cancel(acquirer: Acquirer, row: PayLaterSession, now: datetime) -> None:
    """The cashier gave up: the session ends; a charge already made is cancelled at the provider, or, when
    it was paid meanwhile, becomes a fix-payment case (never a lost payment)."""
    from fleet.payments import service

    if row.status in ("refused", "cancelled"):
        return
    row.status = "cancelled"
    await row.save()
    charge = await Charge.get_or_none(reference=f"paylater:{row.id}")
    if charge is not None:
        await service.cancelled_at_terminal(acquirer, charge, now)


async def answer_terminal(
    acquirer: Acquirer, secret: str, device: Device, msg: dict[str, Any], now: datetime
) -> dict[str, Any] | None:
    """Run one PayLater request from a terminal; returns the `paylater` command's args (None: no answer)."""
    name, args = msg["req"], msg["args"]
    ref = args["ref"]
    row = await PayLaterSession.get_or_none(serial=device.serial, ref=ref)
    if row is not None and row.last_request == msg["id"]:
        return row.last_answer  # delivered twice: the same answer, nothing done again
    answer: dict[str, Any] | None
    try:
        if name == request.PAYLATER_START:
            if row is None:
                who = f"terminal {device.serial}"
                row = await start(
                    acquirer, secret, device, args["receipt"], args["amount"], args["phone"], who, now, ref
                )
            answer = {"step": command.PL_OTP}
        elif row is None:
            answer = {"step": command.PL_FAILED, "detail": "no PayLater session with this ref"}
        elif name == request.PAYLATER_OTP:
            answer = _after_otp(row, await verify(acquirer, secret, row, args["code"], now))
        elif name == request.PAYLATER_TENOR:
            row = await confirm(acquirer, row, args["tenor"], now)
            answer = {"step": command.PL_CHARGED, "financed": row.offer["financed"] if row.offer else None}
        else:
            await cancel(acquirer, row, now)
            answer = None
    except Refusal as e:  # a foreign number, too many codes, the window passed, a tenor not offered
        answer = {"step": command.PL_FAILED, "detail": e.detail[:80]}
    if answer is not None:
        answer = {"ref": ref, **{k: v for k, v in answer.items() if v is not None}}
    if row is not None:
        row.last_request, row.last_answer = msg["id"], answer  # type: ignore[assignment]
        await row.save()
    return answer


def unavailable(msg: dict[str, Any]) -> dict[str, Any] | None:
    """The answer of a service with no payment gateway: PayLater cannot go on (a cancel needs none)."""
    if msg["req"] == request.PAYLATER_CANCEL:
        return None
    return {"ref": msg["args"]["ref"], "step": command.PL_FAILED, "detail": "PayLater is not enabled on this fleet"}


def _after_otp(row: PayLaterSession, outcome: str) -> dict[str, Any]:
    if outcome == "wrong":
        return {"step": command.PL_WRONG, "left": max(0, paylater.OTP_ATTEMPTS - row.otp_attempts)}
    if outcome != "ok":
        return {"step": command.PL_FAILED, "detail": f"the code is {outcome}"}
    offer = row.offer or {}
    if row.status != "offered":
        return {"step": command.PL_REFUSED, "detail": str(offer.get("reason", "refused"))[:80]}
    plans = [{"tenor": p["tenor_months"], "instalment": p["instalment"]} for p in offer["plans"]]
    return {"step": command.PL_OFFER, "down": offer["down_payment"], "financed": offer["financed"], "plans": plans}
