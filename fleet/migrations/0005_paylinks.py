from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0004_payments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PayLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token', fields.CharField(unique=True, max_length=48)),
                ('serial', fields.CharField(db_index=True, max_length=32)),
                ('receipt', fields.CharField(max_length=24)),
                ('amount', fields.BigIntField()),
                ('methods', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('status', fields.CharField(default='open', max_length=12)),
                ('charge_ref', fields.CharField(null=True, max_length=64)),
                ('created_by', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'paylink', 'app': 'fleet', 'pk_attr': 'id', 'table_description': "An invoice for the outstanding amount of a terminal's Unpaid or Partially paid sale (P1-P3)."},
            bases=['Model'],
        ),
    ]
