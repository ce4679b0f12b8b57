"""What terminals report: business events (stored once per idempotency key) and telemetry samples."""

from tortoise import fields
from tortoise.models import Model

# The business events that are money changing hands (or not): what a merchant calls transactions.
TRANSACTION_TYPES = ("sale", "void", "refund", "payment")


class Event(Model):
    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)  # serial/jid/seq: the terminal's idempotency key
    serial = fields.CharField(max_length=32, db_index=True)
    jid = fields.CharField(max_length=8)
    seq = fields.BigIntField()
    type = fields.CharField(max_length=16)
    device_time = fields.DatetimeField()
    received_at = fields.DatetimeField(auto_now_add=True)
    data: fields.JSONField[dict] = fields.JSONField()  # type: ignore[type-arg]
    # Whose sale this is: the merchant the terminal belonged to when the event was stored (null for a
    # serial nobody had registered yet, adopted when it is). A terminal that changes hands does not
    # take its past with it: the new merchant never sees the old one's sales, and the old one keeps them.
    merchant_id = fields.IntField(null=True, db_index=True)

    class Meta:
        table = "event"
        indexes = (("serial", "seq"),)


class TelemetrySample(Model):
    id = fields.BigIntField(primary_key=True)
    serial = fields.CharField(max_length=32)
    device_time = fields.DatetimeField()
    received_at = fields.DatetimeField(auto_now_add=True)
    uptime_s = fields.BigIntField()
    mem_free = fields.IntField()
    battery_pct = fields.SmallIntField(null=True)
    charging = fields.BooleanField(null=True)
    paper = fields.CharField(max_length=8, null=True)
    head_temp_c = fields.SmallIntField(null=True)
    printed_mm = fields.BigIntField(null=True)
    cutter_count = fields.BigIntField(null=True)
    outbox_depth = fields.IntField(null=True)
    rssi_dbm = fields.SmallIntField(null=True)
    error_code = fields.IntField(null=True)
    reboot_reason = fields.CharField(max_length=16, null=True)

    class Meta:
        table = "telemetry_sample"
        indexes = (("serial", "device_time"),)


class QuarantinedMessage(Model):
    """A message the ingest acknowledged without storing it: refused by the wire contract, refused by the
    database, or claiming an idempotency key already stored with another body. Kept as it arrived (raw
    bytes) so that Biz Support can see what a terminal sent and settle it by hand."""

    id = fields.BigIntField(primary_key=True)
    received_at = fields.DatetimeField(db_index=True)
    topic = fields.CharField(max_length=256)
    serial = fields.CharField(max_length=32, null=True, db_index=True)
    reason = fields.CharField(max_length=32)  # a protocol reason code, "unstorable" or "key_conflict"
    field = fields.CharField(max_length=128, default="")
    detail = fields.TextField()
    payload = fields.BinaryField()  # at most MAX_KEPT bytes of it
    size = fields.IntField()  # the payload's whole size

    class Meta:
        table = "quarantined_message"
