from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("fleet", "0009_merchant_auto_cancel")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Device",
            name="battery_pct",
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name="Device",
            name="paper",
            field=fields.CharField(null=True, max_length=8),
        ),
        ops.AddField(
            model_name="Device",
            name="printed_mm",
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name="Device",
            name="telemetry_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # Each device's latest heartbeat so far, from the telemetry history (the ingest keeps it after).
        ops.RunSQL(
            "UPDATE device SET "
            + ", ".join(
                f"{column} = (SELECT t.{source} FROM telemetry_sample t WHERE t.serial = device.serial"
                " ORDER BY t.device_time DESC, t.id DESC LIMIT 1)"
                for column, source in (
                    ("telemetry_at", "device_time"),
                    ("paper", "paper"),
                    ("battery_pct", "battery_pct"),
                    ("printed_mm", "printed_mm"),
                )
            ),
            reverse_sql="",
        ),
    ]
