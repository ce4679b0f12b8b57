from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0011_event_merchant')]

    initial = False

    operations = [
        ops.CreateModel(
            name='JobCursor',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('position', fields.BigIntField(default=0)),
            ],
            options={'table': 'job_cursor', 'app': 'fleet', 'pk_attr': 'name', 'table_description': 'How far a job that follows the event table has read: a restart goes on from there, and never acts'},
            bases=['Model'],
        ),
    ]
