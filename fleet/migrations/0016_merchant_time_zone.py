from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0015_user_token_version')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Merchant',
            name='time_zone',
            field=fields.CharField(default='Asia/Jakarta', max_length=32),
        ),
    ]
