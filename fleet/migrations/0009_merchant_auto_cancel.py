from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("fleet", "0008_paylater_terminal")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Merchant",
            name="auto_cancel_minutes",
            field=fields.IntField(default=30),
        ),
    ]
