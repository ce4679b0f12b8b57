"""Commands to terminals: a persistent queue per device, each command with its life on record."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from fleet.devices.models import Device


class CommandStatus(StrEnum):
    PENDING = "pending"  # queued; the device has not been sent it yet (offline, or just queued)
    SENT = "sent"  # published at QoS 1; waiting for the terminal's ack (resent after the retry interval)
    ACKED = "acked"  # the terminal ran it and said ok
    FAILED = "failed"  # the terminal refused or could not run it (the ack says why)
    EXPIRED = "expired"  # not acked before its expiry, or the terminal received it too late


OPEN = (CommandStatus.PENDING, CommandStatus.SENT)


class Command(Model):
    id = fields.IntField(primary_key=True)
    cmd_id = fields.CharField(max_length=40, unique=True)  # the correlation id the ack carries
    device: fields.ForeignKeyRelation[Device] = fields.ForeignKeyField(
        "fleet.Device", related_name="commands", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=24)
    args: fields.JSONField[dict] = fields.JSONField(default=dict)  # type: ignore[type-arg]
    status = fields.CharEnumField(CommandStatus, max_length=8, default=CommandStatus.PENDING)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    last_sent_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=24, null=True)
    detail = fields.CharField(max_length=200, null=True)
    result: fields.JSONField[dict] = fields.JSONField(null=True)  # type: ignore[type-arg]
    requested_by = fields.CharField(max_length=64)

    class Meta:
        table = "command"
        indexes = (("status", "device_id"),)
