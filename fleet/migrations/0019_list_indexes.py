from tortoise import migrations
from tortoise.migrations import operations as ops

# The indexes the lists need (#23): 0011 declared event.merchant_id indexed but AddField never made the
# index, and foreign keys get none of their own on PostgreSQL. Plain SQL that SQLite and PostgreSQL share.
INDEXES = (
    ("event_merchant_time", "event", "merchant_id, device_time"),
    ("device_merchant", "device", "merchant_id"),
    ("ticket_device", "ticket", "device_id"),
    ("ticket_merchant", "ticket", "merchant_id"),
    ("ticket_transition_ticket", "ticket_transition", "ticket_id"),
    ("command_device", "command", "device_id"),
)


class Migration(migrations.Migration):
    dependencies = [('fleet', '0018_merchant_onboarding')]

    initial = False

    operations = [
        ops.RunSQL(f"CREATE INDEX IF NOT EXISTS idx_{name} ON {table} ({columns})", reverse_sql=f"DROP INDEX IF EXISTS idx_{name}")
        for name, table, columns in INDEXES
    ]
