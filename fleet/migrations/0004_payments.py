from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0003_repairs')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Charge',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.CharField(max_length=16)),
                ('provider_ref', fields.CharField(null=True, unique=True, max_length=64)),
                ('reference', fields.CharField(unique=True, max_length=96)),
                ('serial', fields.CharField(db_index=True, max_length=32)),
                ('receipt', fields.CharField(max_length=24)),
                ('method', fields.CharField(max_length=12)),
                ('amount', fields.BigIntField()),
                ('status', fields.CharField(default='pending', max_length=12)),
                ('terminal_state', fields.CharField(default='waiting', max_length=12)),
                ('rrn', fields.CharField(null=True, max_length=32)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('command_id', fields.CharField(null=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'charge', 'app': 'fleet', 'pk_attr': 'id', 'table_description': "A payment registered with the acquirer for a terminal's sale (QRIS by reference)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FixPaymentCase',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('source', fields.CharField(max_length=16)),
                ('reason', fields.CharField(max_length=24)),
                ('reference', fields.CharField(max_length=96)),
                ('rrn', fields.CharField(max_length=32)),
                ('paid_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('amount', fields.BigIntField()),
                ('serial', fields.CharField(null=True, max_length=32)),
                ('merchant', fields.ForeignKeyField('fleet.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='fix_cases', on_delete=OnDelete.SET_NULL)),
                ('items', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='open', max_length=12)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_by', fields.CharField(null=True, max_length=64)),
                ('resolution', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'fix_payment_case', 'app': 'fleet', 'unique_together': (('reference', 'rrn'),), 'pk_attr': 'id', 'table_description': 'FP1: a customer paid (the acquirer has the payment) but no order stands for it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Reconciliation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('settled', fields.IntField()),
                ('matched', fields.IntField()),
                ('unmatched', fields.IntField()),
                ('unsettled', fields.IntField()),
                ('report', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'reconciliation', 'app': 'fleet', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.CharField(max_length=16)),
                ('event_id', fields.CharField(unique=True, max_length=64)),
                ('type', fields.CharField(max_length=32)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_event', 'app': 'fleet', 'pk_attr': 'id', 'table_description': "Every accepted webhook, by the provider's event id: a replayed one changes nothing."},
            bases=['Model'],
        ),
    ]
