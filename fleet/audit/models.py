"""One row per change a person or a terminal made: who, when, what (an action on a target), the values
before and after. Written by `fleet.audit.service.record`, in the transaction of the change."""

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    actor = fields.CharField(max_length=80, db_index=True)  # a username, "terminal <serial>", or "system (…)"
    action = fields.CharField(max_length=40, db_index=True)  # e.g. command.sent, ticket.receive, user.created
    target = fields.CharField(max_length=80, db_index=True)  # e.g. device:TKM-A000, ticket:12, merchant:3
    merchant_id = fields.IntField(null=True, db_index=True)  # whose thing it is: a merchant's users see theirs
    before: fields.JSONField[dict[str, Any]] = fields.JSONField(null=True)
    after: fields.JSONField[dict[str, Any]] = fields.JSONField(null=True)

    class Meta:
        table = "audit_entry"
