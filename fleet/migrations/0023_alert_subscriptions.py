from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0022_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Subscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant_id', fields.IntField(null=True, db_index=True)),
                ('channel', fields.CharField(max_length=8)),
                ('address', fields.CharField(max_length=254)),
                ('kinds', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('quiet_hours', fields.CharField(default='', max_length=11)),
                ('secret', fields.CharField(null=True, max_length=64)),
                ('created_by', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alert_subscription', 'app': 'fleet', 'pk_attr': 'id', 'table_description': "Who is told of which alerts, how, and when not: a merchant's, or (no merchant) Biz Support's."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Notification',
            name='subscription_id',
            field=fields.IntField(null=True),
        ),
    ]
