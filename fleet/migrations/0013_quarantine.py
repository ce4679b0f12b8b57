from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0012_job_cursor')]

    initial = False

    operations = [
        ops.CreateModel(
            name='QuarantinedMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('received_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('topic', fields.CharField(max_length=256)),
                ('serial', fields.CharField(null=True, db_index=True, max_length=32)),
                ('reason', fields.CharField(max_length=32)),
                ('field', fields.CharField(default='', max_length=128)),
                ('detail', fields.TextField(unique=False)),
                ('payload', fields.BinaryField()),
                ('size', fields.IntField()),
            ],
            options={'table': 'quarantined_message', 'app': 'fleet', 'pk_attr': 'id', 'table_description': 'A message the ingest acknowledged without storing it: refused by the wire contract, refused by the'},
            bases=['Model'],
        ),
    ]
