from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0010_device_health')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Event',
            name='merchant_id',
            field=fields.IntField(null=True, db_index=True),
        ),
        # Events so far belong to the merchant that has their terminal now (the only owner there was).
        ops.RunSQL(
            "UPDATE event SET merchant_id = (SELECT d.merchant_id FROM device d WHERE d.serial = event.serial)",
            reverse_sql="",
        ),
    ]
