from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0016_merchant_time_zone')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Device',
            name='service_plan',
            field=fields.CharField(default='basic', max_length=12),
        ),
    ]
