from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0006_paylater')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BalanceEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant', fields.ForeignKeyField('fleet.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='balance_entries', on_delete=OnDelete.CASCADE)),
                ('amount', fields.BigIntField()),
                ('reason', fields.CharField(max_length=120)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'balance_entry', 'app': 'fleet', 'pk_attr': 'id', 'table_description': "The merchant's balance as a ledger: payments through the gateway in, after-sale refunds out (RF5)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RefundRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant', fields.ForeignKeyField('fleet.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='refund_requests', on_delete=OnDelete.CASCADE)),
                ('serial', fields.CharField(max_length=32)),
                ('receipt', fields.CharField(max_length=24)),
                ('kind', fields.CharField(max_length=12)),
                ('solution', fields.CharField(null=True, max_length=12)),
                ('paid', fields.BigIntField()),
                ('shipping', fields.BigIntField(default=0)),
                ('refund_amount', fields.BigIntField()),
                ('customer_email', fields.CharField(null=True, max_length=254)),
                ('customer_phone', fields.CharField(null=True, max_length=20)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('made_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answer_due', fields.DateField()),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answered_by', fields.CharField(null=True, max_length=64)),
                ('reason', fields.CharField(null=True, max_length=300)),
            ],
            options={'table': 'refund_request', 'app': 'fleet', 'pk_attr': 'id', 'table_description': "A customer's refund, return or complaint on a paid order (RF1-RF5)."},
            bases=['Model'],
        ),
    ]
