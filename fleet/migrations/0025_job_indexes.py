from tortoise import migrations
from tortoise.migrations import operations as ops

# #23: what the periodic jobs read, through indexes: fault events by time (the suggestion job's first
# round, the cover-open alert); terminals by the day their rental ends (rental locks, the rental-ending
# alert) and the locked ones (rental locks). Plain SQL that SQLite and PostgreSQL share. None of these
# columns changes with a heartbeat, so the ingest's updates of a device row stay cheap.
INDEXES = (
    ("event_type_time", "event", "type, device_time"),
    ("device_rental_end", "device", "rental_end"),
    ("device_sales_locked", "device", "sales_locked"),
)


class Migration(migrations.Migration):
    dependencies = [('fleet', '0024_device_search_trigrams')]

    initial = False

    operations = [
        ops.RunSQL(f"CREATE INDEX IF NOT EXISTS idx_{name} ON {table} ({columns})", reverse_sql=f"DROP INDEX IF EXISTS idx_{name}")
        for name, table, columns in INDEXES
    ]
