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
