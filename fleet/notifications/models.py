"""The notification outbox: every message the fleet sends, written with the change that causes it."""

from tortoise import fields
from tortoise.models import Model

QUEUED, SENT, FAILED = "queued", "sent", "failed"


class Notification(Model):
    id = fields.IntField(primary_key=True)
    channel = fields.CharField(max_length=8)  # email, sms, whatsapp, webhook
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200, default="")
    body = fields.TextField()
    # What caused it, for showing its state where the cause is shown ("paylink:<token>", "refund:<id>").
    cause = fields.CharField(max_length=80, db_index=True)
    status = fields.CharField(max_length=8, default=QUEUED, db_index=True)  # queued, sent, failed
    attempts = fields.IntField(default=0)
    next_at = fields.DatetimeField()  # when the job tries it next
    last_error = fields.CharField(max_length=300, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    subscription_id = fields.IntField(null=True)  # a webhook's: whose key signs it

    class Meta:
        table = "notification"
