from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0017_device_service_plan')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Merchant',
            name='activated_on',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Merchant',
            name='first_payment_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Merchant',
            name='onboarding_finished_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
