"""Alerts: one row per episode of a condition on a terminal (offline, paper out, low battery) or on a
merchant (an O1 activation deadline near: `serial` empty)."""

from tortoise import fields
from tortoise.models import Model


class Alert(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=24)  # fleet.domain.alerts.KINDS
    serial = fields.CharField(max_length=32)
    merchant_id = fields.IntField(null=True, db_index=True)
    detail = fields.CharField(max_length=200)
    opened_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()  # the last evaluation that found the condition holding
    resolved_at = fields.DatetimeField(null=True, db_index=True)  # null while it lasts
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "alert"
        indexes = (("kind", "serial", "resolved_at"),)


class Subscription(Model):
    """Who is told of which alerts, how, and when not: a merchant's, or (no merchant) Biz Support's."""

    # A merchant's subscription hears its own alerts; Biz Support's those of fleet.domain.alerts.FOR_SUPPORT.

    id = fields.IntField(primary_key=True)
    merchant_id = fields.IntField(null=True, db_index=True)
    channel = fields.CharField(max_length=8)  # email, sms, whatsapp, webhook
    address = fields.CharField(max_length=254)  # an email address, a +62 number, an https URL
    kinds: fields.JSONField[list[str]] = fields.JSONField(default=list)  # empty: every kind
    quiet_hours = fields.CharField(max_length=11, default="")  # "22:00-07:00" in the zone; empty: none
    secret = fields.CharField(max_length=64, null=True)  # a webhook's signing key (shown once)
    created_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "alert_subscription"
