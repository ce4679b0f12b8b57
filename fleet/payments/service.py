"""QRIS confirmation, fix-payment cases (FP1) and reconciliation: load, call the rule, save.

- A terminal's pending QRIS payment (a `payment` event) is registered with the acquirer by reference.
- The acquirer's signed webhook marks the charge paid, once per event and per charge; the terminal then
  gets a `pay_confirm` command and completes the sale. A payment that arrives after the cashier
  cancelled, or that the terminal refuses, becomes a fix-payment case: never a lost payment.
- Resolving a case sends the terminal a `replacement` command: a replacement order paid by a custom
  method, for the items of the original sale.
"""

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from fleet.api.inputs import BadCsv, csv_records
from fleet.audit import service as audit
from fleet.auth.deps import Principal
from fleet.commands import service as commands
from fleet.commands.models import Command, CommandStatus
from fleet.devices.models import Device
from fleet.domain import reconcile
from fleet.errors import Conflict, Invalid, NotFound, Refusal
from fleet.ingest.models import Event
from fleet.payments import charges, paylinks, refunds
from fleet.payments.exceptions import BadCase, BadSettlement
from fleet.payments.gateway import Acquirer, CaptureRefused, WebhookRefused
from fleet.payments.models import BalanceEntry, Charge, FixPaymentCase, JobCursor, Reconciliation, WebhookEvent
from protocol import command
from protocol.schema import MONEY_MAX

log = logging.getLogger("fleet.payments")
CONFIRM_TTL = timedelta(minutes=10)


def reference(serial: str, terminal_ref: str) -> str:
    return f"{serial}:{terminal_ref}"


class TerminalPayments:
    """Follows the terminals' payment events (QRIS to register, card captures, pay-link requests) into
    charges: a cursor over the event table, kept in the database (JobCursor) after each event handled."""

    CURSOR = "terminal_payments"

    def __init__(self, acquirer: Acquirer) -> None:
        self.acquirer = acquirer
        self.after_id: int | None = None  # loaded from the database on the first step
        self.refused: dict[str, int] = {}  # cashiers' pay-link requests refused, by reason

    async def step(self, now: datetime) -> int:
        if self.after_id is None:
            cursor, _ = await JobCursor.get_or_create(name=self.CURSOR)
            self.after_id = cursor.position
        kinds = ("payment", "paylink", "refund")
        rows = await Event.filter(id__gt=self.after_id, type__in=kinds).order_by("id").limit(500)
        for row in rows:
            data = row.data
            if row.type == "paylink":
                await self._paylink(row.serial, data, now)
            elif row.type == "refund":
                at = row.device_time or now
                await refunds.take_terminal_refund(row.merchant_id, row.serial, row.key, data, at)
            elif data.get("method") == "qris" and data.get("ref"):
                await self._follow(row.serial, data, now)
            elif data.get("method") == "card" and data.get("status") == "confirmed" and data.get("token"):
                await self._capture(row.serial, data, now)
            self.after_id = row.id
            await JobCursor.filter(name=self.CURSOR).update(position=row.id)
        await follow_confirmations(now)
        return len(rows)

    async def _paylink(self, serial: str, data: dict[str, Any], now: datetime) -> None:
        """A cashier asked for a pay link from the terminal (P1-P2): the same rules as from the API."""
        device = await Device.get_or_none(serial=serial)
        try:
            if device is None:
                raise NotFound("unregistered terminal")
            await paylinks.create(
                self.acquirer,
                device,
                receipt=data["receipt"],
                email=None,
                phone=data["phone"],
                methods=list(data["methods"]),
                who=f"terminal {serial}",
                now=now,
            )
        except Refusal as e:  # an old or repeated request, a paid order, a foreign number: logged, counted
            reason = e.type_ or "refused"
            self.refused[reason] = self.refused.get(reason, 0) + 1
            log.warning("pay link requested by %s for %s refused: %s", serial, data.get("receipt"), e.detail)

    async def _follow(self, serial: str, data: dict[str, Any], now: datetime) -> None:
        status = data.get("status")
        if status == "pending":
            ref = reference(serial, data["ref"])
            if not await Charge.exists(reference=ref):
                made = await self.acquirer.create_charge(ref, data["amount"], "qris", serial)
                await charges.follow(
                    self.acquirer.name,
                    made,
                    reference=ref,
                    serial=serial,
                    receipt=data["receipt"],
                    method="qris",
                    amount=data["amount"],
                    now=now,
                )
        elif status in ("cancelled", "expired"):
            charge = await Charge.get_or_none(reference=reference(serial, data["ref"]))
            if charge is not None:
                await cancelled_at_terminal(self.acquirer, charge, now)

    async def _capture(self, serial: str, data: dict[str, Any], now: datetime) -> None:
        """A card payment the terminal's reader authorized: captured once per token, so it settles. One the
        acquirer never authorized becomes a case for Biz Support: the order stands, no money will come."""
        ref = reference(serial, data["token"])
        if await Charge.exists(reference=ref):
            return
        made: dict[str, Any] = {"id": None}
        try:
            made = await self.acquirer.capture_card(
                data["token"], str(data.get("approval", "")), data["amount"], ref, serial
            )
        except CaptureRefused as e:
            log.warning("card payment %s of %s not captured: %s", data["receipt"], serial, e)
        receipt, amount = data["receipt"], data["amount"]
        charge = await charges.follow(
            self.acquirer.name,
            made,
            reference=ref,
            serial=serial,
            receipt=receipt,
            method="card",
            amount=amount,
            now=now,
        )
        charge.terminal_state = "confirmed"  # the terminal took the payment when the reader approved it
        if made["id"] is None:
            charge.status = "refused"
            await charge.save()
            await open_case(charge, "card_capture", "not_authorized", now)
            return
        charge.status, charge.rrn = "succeeded", str(made.get("rrn"))[:32]
        charge.paid_at = datetime.fromisoformat(made["paid_at"]) if made.get("paid_at") else now
        await charge.save()
        await credit_merchant(charge, now)


async def cancelled_at_terminal(acquirer: Acquirer, charge: Charge, now: datetime) -> None:
    """The cashier gave up on a charge: cancel it at the acquirer, or, when the customer paid meanwhile,
    open a fix-payment case. Once only: later news of the same cancel changes nothing."""
    if charge.terminal_state != "waiting":
        return
    charge.terminal_state, charge.updated_at = "cancelled", now
    await charge.save()
    if charge.status == "pending" and charge.provider_ref:
        await acquirer.cancel(charge.provider_ref)
    elif charge.status == "succeeded":  # paid meanwhile, and the cashier had given up
        await open_case(charge, "late_payment", "cancelled_at_terminal", now)


async def accept_webhook(acquirer: Acquirer, headers: dict[str, str], body: bytes, now: datetime) -> str:
    """Verify, deduplicate and apply one webhook; returns what happened (for counting)."""
    acquirer.verify(headers, body, int(now.timestamp()))
    try:
        event = json.loads(body)
        event_id, kind, charge_data = str(event["id"]), str(event["type"]), dict(event["data"])
    except (ValueError, KeyError, TypeError) as e:
        raise WebhookRefused("malformed") from e
    try:
        async with in_transaction():
            await WebhookEvent.create(provider=acquirer.name, event_id=event_id[:64], type=kind[:32], received_at=now)
            if kind != "charge.succeeded":
                return "ignored"
            return await _paid(acquirer.name, charge_data, now)
    except IntegrityError:
        return "duplicate"


async def _paid(provider: str, data: dict[str, Any], now: datetime) -> str:
    charge = await Charge.get_or_none(provider=provider, provider_ref=str(data.get("id")))
    if charge is None:  # a payment the fleet never registered: Biz Support must see it
        log.warning("webhook for an unknown charge %s", data.get("id"))
        return "unknown_charge"
    if charge.status == "succeeded":
        return "already_paid"  # idempotent per provider reference
    if int(data.get("amount", -1)) != charge.amount:
        log.warning("webhook amount %s differs from charge %s", data.get("amount"), charge.reference)
        return "amount_mismatch"
    charge.status = "succeeded"
    charge.rrn = str(data.get("rrn"))[:32]
    charge.paid_at = datetime.fromisoformat(str(data["paid_at"])) if data.get("paid_at") else now
    charge.updated_at = now
    await paylinks.on_paid(charge, now)  # P3: the order is Paid now
    device = await credit_merchant(charge, now)
    if charge.terminal_state == "waiting":
        if device is None:
            await charge.save()
            await open_case(charge, "late_payment", "unregistered_terminal", now)
            return "case"
        args = {"receipt": charge.receipt, "method": charge.method, "amount": charge.amount, "ref": charge.rrn}
        cmd = await commands.enqueue(
            device, command.PAY_CONFIRM, args=args, requested_by="payments", now=now, ttl=CONFIRM_TTL
        )
        charge.command_id = cmd.cmd_id
        await charge.save()
        return "confirming"
    await charge.save()
    await open_case(charge, "late_payment", "cancelled_at_terminal", now)
    return "case"


async def credit_merchant(charge: Charge, now: datetime) -> Device | None:
    """The money reaches the merchant's balance, from which after-sale refunds are paid (RF5). Returns the
    charge's terminal, when registered."""
    device = await Device.get_or_none(serial=charge.serial)
    if device is not None and device.merchant_id is not None:  # type: ignore[attr-defined]
        await BalanceEntry.create(
            merchant_id=device.merchant_id,  # type: ignore[attr-defined]
            amount=charge.amount,
            reason=f"payment {charge.reference}",
            at=now,
        )
    return device


async def follow_confirmations(now: datetime) -> int:
    """The terminals' answers to the pay_confirm commands payments sent: a charge whose command was acked
    is confirmed; refused or expired, it becomes a fix-payment case. Returns how many were settled."""
    waiting = await Charge.filter(terminal_state="waiting", command_id__isnull=False)
    if not waiting:
        return 0
    finished = (CommandStatus.ACKED, CommandStatus.FAILED, CommandStatus.EXPIRED)
    answers = dict(
        await Command.filter(cmd_id__in=[c.command_id for c in waiting], status__in=finished).values_list(
            "cmd_id", "status"
        )
    )
    for charge in waiting:
        status = answers.get(charge.command_id)
        if status is None:
            continue
        ok = status == CommandStatus.ACKED
        charge.terminal_state, charge.updated_at = ("confirmed" if ok else "refused"), now
        await charge.save()
        if not ok:
            await open_case(charge, "late_payment", "refused_by_terminal", now)
    return sum(1 for c in waiting if c.command_id in answers)


async def _items(serial: str, receipt: str) -> list[dict[str, Any]]:
    """The cart of the sale the payment was for (its `open` event), for the case's evidence."""
    opened = await Event.filter(serial=serial, type="open").order_by("-seq").limit(200)
    for row in opened:
        if row.data.get("receipt") == receipt:
            return list(row.data.get("items", []))
    return []


async def open_case(charge: Charge, source: str, reason: str, now: datetime) -> FixPaymentCase:
    device = await Device.get_or_none(serial=charge.serial)
    case, _ = await FixPaymentCase.get_or_create(
        reference=charge.reference,
        rrn=charge.rrn or "",
        defaults={
            "source": source,
            "reason": reason,
            "paid_at": charge.paid_at or now,
            "amount": charge.amount,
            "serial": charge.serial,
            "merchant_id": device.merchant_id if device else None,  # type: ignore[attr-defined]
            "items": await _items(charge.serial, charge.receipt),
            "created_at": now,
        },
    )
    return case


async def resolve_case(case: FixPaymentCase, outcome: str, who: str, now: datetime) -> FixPaymentCase:
    """FP1: a valid payment gets a replacement order (custom payment method) on its terminal; with no
    valid payment found the merchant is told to redo the transaction."""
    if case.status != "open":
        raise Conflict(f"the case is already {case.status}")
    if outcome == "replacement":
        device = await Device.get_or_none(serial=case.serial or "")
        if device is None:
            raise BadCase("the case has no registered terminal to send the order to")
        original = case.reference.split(":", 1)[1].split("/", 1)[0] if ":" in case.reference else ""
        args = {"original": original, "amount": case.amount, "ref": case.rrn}
        cmd = await commands.enqueue(
            device, command.REPLACEMENT, args=args, requested_by=who, now=now, ttl=timedelta(days=7)
        )
        case.status, case.resolution = "resolved", {"replacement_command": cmd.cmd_id, "method": "custom"}
    elif outcome == "no_payment":
        case.status, case.resolution = "no_payment", {"notice": "no valid payment: redo the transaction"}
    else:
        raise Invalid("outcome is replacement or no_payment")
    case.resolved_at, case.resolved_by = now, who
    async with in_transaction():
        await case.save()
        await audit.record(
            actor=who, action=f"fix_case.{case.status}", target=f"fix_case:{case.id}", at=now,
            merchant_id=case.merchant_id,  # type: ignore[attr-defined]
            before={"status": "open"}, after={"status": case.status, **(case.resolution or {})},
        )  # fmt: skip
    return case


# -- reconciliation ---------------------------------------------------------------------------------------


# The settlement report's columns and the longest value each may hold (what the fix cases store).
SETTLEMENT_COLUMNS = {"charge_id": 64, "reference": 96, "rrn": 32, "amount": 13, "paid_at": 40, "terminal": 32}


def parse_settlement(text: str) -> list[reconcile.Settled]:
    """The acquirer's settlement report (CSV): every line checked, or a 422 naming the first bad one.
    An amount is 1 to MONEY_MAX Rupiah in plain digits; a time carries its zone."""
    try:
        header, records = csv_records(text)
        missing = [c for c in SETTLEMENT_COLUMNS if c not in header]
        if missing:
            raise BadSettlement("the settlement report lacks columns: " + ", ".join(missing))
        return [_settled(line, raw) for line, raw in records]
    except BadCsv as e:
        raise BadSettlement(f"settlement {e}") from e


def _settled(line: int, raw: dict[str, str]) -> reconcile.Settled:
    def bad(column: str, why: str) -> BadSettlement:
        return BadSettlement(f"settlement line {line}: {column} {why}")

    cells = {c: (raw.get(c) or "").strip() for c in SETTLEMENT_COLUMNS}
    for column, longest in SETTLEMENT_COLUMNS.items():
        if not 1 <= len(cells[column]) <= longest:
            raise bad(column, f"must be 1 to {longest} characters")
    amount = cells["amount"]
    if not (amount.isascii() and amount.isdigit()) or not 1 <= int(amount) <= MONEY_MAX:
        raise bad("amount", f"must be a whole number of Rupiah from 1 to {MONEY_MAX}")
    try:
        paid_at = datetime.fromisoformat(cells["paid_at"])
    except ValueError:
        raise bad("paid_at", "must be an ISO 8601 time") from None
    if paid_at.utcoffset() is None:
        raise bad("paid_at", "must carry its time zone (e.g. +07:00)")
    return reconcile.Settled(
        cells["charge_id"], cells["reference"], cells["rrn"], int(amount), paid_at, cells["terminal"]
    )


async def recorded_payments(day: date) -> list[reconcile.Recorded]:
    """The terminals' confirmed non-cash payments around `day` (a day either side, for the window)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    rows = await Event.filter(type="payment", device_time__gte=start, device_time__lt=start + timedelta(days=3)).values(
        "key", "serial", "device_time", "data"
    )
    out = []
    for r in rows:
        data = r["data"] or {}
        if data.get("status") != "confirmed" or data.get("method") == "cash":
            continue
        # QRIS and the like carry the provider's RRN; a card payment is known by its capture reference.
        ref = data.get("ref") or (reference(r["serial"], data["token"]) if data.get("token") else None)
        if ref:
            out.append(reconcile.Recorded(r["key"], r["serial"], str(ref), int(data["amount"]), r["device_time"]))
    return out


async def reconcile_day(day: date, settlement_text: str, now: datetime) -> Reconciliation:
    settled = parse_settlement(settlement_text)
    result = reconcile.reconcile(settled, await recorded_payments(day))
    serials = {s.terminal for s, _ in result.unmatched}
    merchants = dict(await Device.filter(serial__in=serials).values_list("serial", "merchant_id"))
    async with in_transaction():
        for s, reason in result.unmatched:
            await FixPaymentCase.get_or_create(
                reference=s.reference,
                rrn=s.rrn,
                defaults={
                    "source": "reconciliation",
                    "reason": reason,
                    "paid_at": s.paid_at,
                    "amount": s.amount,
                    "serial": s.terminal,
                    "merchant_id": merchants.get(s.terminal),
                    "created_at": now,
                },
            )
        run = await Reconciliation.create(
            day=day,
            created_at=now,
            settled=len(settled),
            matched=len(result.matched),
            unmatched=len(result.unmatched),
            unsettled=len(result.unsettled),
            report={
                "unmatched": [
                    {"charge_id": s.charge_id, "reference": s.reference, "reason": r} for s, r in result.unmatched
                ],
                "unsettled": [r.key for r in result.unsettled],
                "resolved_cases": await FixPaymentCase.filter(status__in=["resolved", "no_payment"]).count(),
            },
        )
    return run


async def visible_charges(who: Principal, *, status: str | None = None) -> QuerySet[Charge]:
    """The charges the caller may see, newest first: all for staff; a merchant's user, those of the
    terminals its merchant has now (a charge names its terminal, not its merchant)."""
    query = Charge.all()
    if not who.is_staff:
        own = [str(s) for s in await Device.filter(merchant_id=who.merchant_id).values_list("serial", flat=True)]
        query = query.filter(serial__in=own)
    if status:
        query = query.filter(status=status)
    return query.order_by("-id")
