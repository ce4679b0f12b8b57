from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0005_paylinks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PayLaterSession',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('serial', fields.CharField(max_length=32)),
                ('receipt', fields.CharField(max_length=24)),
                ('amount', fields.BigIntField()),
                ('phone', fields.CharField(db_index=True, max_length=20)),
                ('otp_digest', fields.CharField(max_length=64)),
                ('otp_expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('otp_attempts', fields.IntField(default=0)),
                ('otp_used', fields.BooleanField(default=False)),
                ('offer', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('tenor_months', fields.IntField(null=True)),
                ('charge_ref', fields.CharField(null=True, max_length=64)),
                ('status', fields.CharField(default='otp_sent', max_length=12)),
                ('created_by', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'paylater_session', 'app': 'fleet', 'pk_attr': 'id', 'table_description': "P4: one customer's PayLater for one order: phone, OTP (hash only), the offer, the chosen tenor."},
            bases=['Model'],
        ),
    ]
