"""Payments the fleet backs: charges at the acquirer, webhook receipts, fix-payment cases (FP1) and
reconciliation runs."""

from tortoise import fields
from tortoise.models import Model

from fleet.devices.models import Merchant


class Charge(Model):
    """A payment registered with the acquirer for a terminal's sale (QRIS by reference)."""

    id = fields.IntField(primary_key=True)
    provider = fields.CharField(max_length=16)
    provider_ref = fields.CharField(max_length=64, null=True, unique=True)  # the acquirer's charge id
    reference = fields.CharField(max_length=96, unique=True)  # serial:terminal ref
    serial = fields.CharField(max_length=32, db_index=True)
    receipt = fields.CharField(max_length=24)
    method = fields.CharField(max_length=12)
    amount = fields.BigIntField()
    # pending, succeeded, cancelled; refused: a card capture the acquirer would not make (a case)
    status = fields.CharField(max_length=12, default="pending")
    # What the terminal knows: waiting (the QR is shown), cancelled (the cashier gave up), confirmed (it
    # completed the sale on our command), refused (it would not: a fix-payment case).
    terminal_state = fields.CharField(max_length=12, default="waiting")
    rrn = fields.CharField(max_length=32, null=True)
    paid_at = fields.DatetimeField(null=True)
    command_id = fields.CharField(max_length=40, null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "charge"


class JobCursor(Model):
    """How far a job that follows the event table has read: a restart goes on from there, and never acts
    a second time on what it already did (a pay link's SMS sent again, say)."""

    name = fields.CharField(max_length=32, primary_key=True)
    position = fields.BigIntField(default=0)  # the last event id handled

    class Meta:
        table = "job_cursor"


class WebhookEvent(Model):
    """Every accepted webhook, by the provider's event id: a replayed one changes nothing."""

    id = fields.IntField(primary_key=True)
    provider = fields.CharField(max_length=16)
    event_id = fields.CharField(max_length=64, unique=True)
    type = fields.CharField(max_length=32)
    received_at = fields.DatetimeField()

    class Meta:
        table = "webhook_event"


class FixPaymentCase(Model):
    """FP1: a customer paid (the acquirer has the payment) but no order stands for it."""

    id = fields.IntField(primary_key=True)
    source = fields.CharField(max_length=16)  # late_payment, reconciliation
    reason = fields.CharField(max_length=24)
    reference = fields.CharField(max_length=96)
    rrn = fields.CharField(max_length=32)
    paid_at = fields.DatetimeField()
    amount = fields.BigIntField()
    serial = fields.CharField(max_length=32, null=True)  # the tenant (terminal)
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "fleet.Merchant", related_name="fix_cases", null=True, on_delete=fields.SET_NULL
    )  # the store
    items: fields.JSONField[list] = fields.JSONField(default=list)  # type: ignore[type-arg]
    status = fields.CharField(max_length=12, default="open")  # open, resolved, no_payment
    created_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    resolved_by = fields.CharField(max_length=64, null=True)
    resolution: fields.JSONField[dict] = fields.JSONField(null=True)  # type: ignore[type-arg]

    class Meta:
        table = "fix_payment_case"
        unique_together = (("reference", "rrn"),)


class Reconciliation(Model):
    id = fields.IntField(primary_key=True)
    day = fields.DateField()
    created_at = fields.DatetimeField()
    settled = fields.IntField()
    matched = fields.IntField()
    unmatched = fields.IntField()
    unsettled = fields.IntField()
    report: fields.JSONField[dict] = fields.JSONField()  # type: ignore[type-arg]

    class Meta:
        table = "reconciliation"


class PayLink(Model):
    """An invoice for the outstanding amount of a terminal's Unpaid or Partially paid sale (P1-P3)."""

    id = fields.IntField(primary_key=True)
    token = fields.CharField(max_length=48, unique=True)  # the public checkout link's secret
    serial = fields.CharField(max_length=32, db_index=True)
    receipt = fields.CharField(max_length=24)
    amount = fields.BigIntField()  # the outstanding amount when sent
    methods: fields.JSONField[list] = fields.JSONField()  # type: ignore[type-arg]  # chosen by the cashier (P2)
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=20, null=True)
    status = fields.CharField(max_length=12, default="open")  # open, paid, cancelled
    charge_ref = fields.CharField(max_length=64, null=True)  # the acquirer's charge once the customer pays
    created_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    paid_at = fields.DatetimeField(null=True)

    class Meta:
        table = "paylink"


class PayLaterSession(Model):
    """P4: one customer's PayLater for one order: phone, OTP (hash only), the offer, the chosen tenor."""

    id = fields.CharField(max_length=32, primary_key=True)
    serial = fields.CharField(max_length=32)
    receipt = fields.CharField(max_length=24)
    amount = fields.BigIntField()
    phone = fields.CharField(max_length=20, db_index=True)
    otp_digest = fields.CharField(max_length=64)
    otp_expires_at = fields.DatetimeField()
    otp_attempts = fields.IntField(default=0)
    otp_used = fields.BooleanField(default=False)
    offer: fields.JSONField[dict] = fields.JSONField(null=True)  # type: ignore[type-arg]
    tenor_months = fields.IntField(null=True)
    charge_ref = fields.CharField(max_length=64, null=True)
    # otp_sent, offered, refused, confirmed, cancelled (at the terminal)
    status = fields.CharField(max_length=12, default="otp_sent")
    created_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    # Started from a terminal (`req`): its name for the attempt, and the last request answered with its
    # answer (a request delivered twice gets the same answer and changes nothing).
    ref = fields.CharField(max_length=40, null=True)
    last_request = fields.CharField(max_length=40, null=True)
    last_answer: fields.JSONField[dict] = fields.JSONField(null=True)  # type: ignore[type-arg]

    class Meta:
        table = "paylater_session"
        unique_together = (("serial", "ref"),)


class BalanceEntry(Model):
    """The merchant's balance as a ledger: payments through the gateway in, after-sale refunds out (RF5)."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "fleet.Merchant", related_name="balance_entries", on_delete=fields.CASCADE
    )
    amount = fields.BigIntField()  # Rupiah; negative for money out
    reason = fields.CharField(max_length=120)
    at = fields.DatetimeField()

    class Meta:
        table = "balance_entry"


class RefundRequest(Model):
    """A customer's refund, return or complaint on a paid order (RF1-RF5)."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "fleet.Merchant", related_name="refund_requests", on_delete=fields.CASCADE
    )
    serial = fields.CharField(max_length=32)
    receipt = fields.CharField(max_length=24)
    kind = fields.CharField(max_length=12)  # refund, return, complaint
    solution = fields.CharField(max_length=12, null=True)  # complaint: refund or replacement
    paid = fields.BigIntField()
    shipping = fields.BigIntField(default=0)
    refund_amount = fields.BigIntField()
    customer_email = fields.CharField(max_length=254, null=True)
    customer_phone = fields.CharField(max_length=20, null=True)
    # pending, approved, rejected, refused_balance (RF5)
    status = fields.CharField(max_length=16, default="pending")
    made_at = fields.DatetimeField()
    answer_due = fields.DateField()
    answered_at = fields.DatetimeField(null=True)
    answered_by = fields.CharField(max_length=64, null=True)
    reason = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "refund_request"
