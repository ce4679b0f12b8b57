"""Repair tickets with their audit trail, and repair suggestions from telemetry."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from fleet.devices.models import Device, Merchant


class Ticket(Model):
    id = fields.IntField(primary_key=True)
    device: fields.ForeignKeyRelation[Device] = fields.ForeignKeyField(
        "fleet.Device", related_name="tickets", on_delete=fields.CASCADE
    )
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "fleet.Merchant", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    state = fields.CharField(max_length=24, db_index=True)
    problem = fields.CharField(max_length=500)
    opened_by = fields.CharField(max_length=64)
    opened_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    received_on = fields.DateField(null=True)
    due_earliest = fields.DateField(null=True)
    due_latest = fields.DateField(null=True, db_index=True)
    finished_on = fields.DateField(null=True)
    # The rest of the domain ticket (shipments, decision, request, dispute, ...), as the domain keeps it.
    detail: fields.JSONField[dict] = fields.JSONField(default=dict)  # type: ignore[type-arg]
    version = fields.IntField(default=0)  # optimistic locking: two clerks never both move one ticket

    class Meta:
        table = "ticket"


class TicketTransition(Model):
    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "fleet.Ticket", related_name="transitions", on_delete=fields.CASCADE
    )
    action = fields.CharField(max_length=32)
    source = fields.CharField(max_length=24)
    target = fields.CharField(max_length=24)
    role = fields.CharField(max_length=16)
    actor = fields.CharField(max_length=64)
    at = fields.DatetimeField()
    data: fields.JSONField[dict] = fields.JSONField(default=dict)  # type: ignore[type-arg]

    class Meta:
        table = "ticket_transition"


class SuggestionStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"  # a ticket was opened from it
    DISMISSED = "dismissed"


class Suggestion(Model):
    id = fields.IntField(primary_key=True)
    device: fields.ForeignKeyRelation[Device] = fields.ForeignKeyField(
        "fleet.Device", related_name="suggestions", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=24)
    reason = fields.CharField(max_length=200)
    status = fields.CharEnumField(SuggestionStatus, max_length=12, default=SuggestionStatus.OPEN)
    created_at = fields.DatetimeField()
    decided_by = fields.CharField(max_length=64, null=True)
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "fleet.Ticket", related_name="suggestions", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "suggestion"
