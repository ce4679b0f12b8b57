from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0014_device_presence')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='token_version',
            field=fields.IntField(default=0),
        ),
    ]
