from tortoise import migrations
from tortoise.migrations import operations as ops

# #23: the device search is a substring match in any case (devices.service.matching: the serial, or the
# merchant's name); on PostgreSQL trigram indexes on the very expressions it compares serve it, where a
# b-tree cannot. pg_trgm is in PostgreSQL's contrib; where it is not installed the search still works,
# by scanning. SQLite has no such index: nothing to do there.
TRIGRAMS = (
    ("device_serial_trgm", "device", "serial"),
    ("merchant_name_trgm", "merchant", "name"),
)


async def _create(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    _, rows = await client.execute_query("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    if not rows:
        return
    await client.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRIGRAMS:
        await client.execute_script(
            f"CREATE INDEX IF NOT EXISTS idx_{name} ON {table} USING gin ((upper({column}::text)) gin_trgm_ops)"
        )


async def _drop(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "postgres":
        return
    for name, _table, _column in TRIGRAMS:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS idx_{name}")


class Migration(migrations.Migration):
    dependencies = [('fleet', '0023_alert_subscriptions')]

    initial = False

    operations = [ops.RunPython(_create, _drop)]
