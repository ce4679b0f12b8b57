from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from fleet.repairs.models import SuggestionStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fleet', '0002_users_commands')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('device', fields.ForeignKeyField('fleet.Device', source_field='device_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.CASCADE)),
                ('merchant', fields.ForeignKeyField('fleet.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.SET_NULL)),
                ('state', fields.CharField(db_index=True, max_length=24)),
                ('problem', fields.CharField(max_length=500)),
                ('opened_by', fields.CharField(max_length=64)),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('received_on', fields.DateField(null=True)),
                ('due_earliest', fields.DateField(null=True)),
                ('due_latest', fields.DateField(null=True, db_index=True)),
                ('finished_on', fields.DateField(null=True)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('version', fields.IntField(default=0)),
            ],
            options={'table': 'ticket', 'app': 'fleet', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Suggestion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('device', fields.ForeignKeyField('fleet.Device', source_field='device_id', db_constraint=True, to_field='id', related_name='suggestions', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=24)),
                ('reason', fields.CharField(max_length=200)),
                ('status', fields.CharEnumField(default=SuggestionStatus.OPEN, description='OPEN: open\nACCEPTED: accepted\nDISMISSED: dismissed', enum_type=SuggestionStatus, max_length=12)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.CharField(null=True, max_length=64)),
                ('ticket', fields.ForeignKeyField('fleet.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='suggestions', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'suggestion', 'app': 'fleet', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketTransition',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('fleet.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='transitions', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharField(max_length=32)),
                ('source', fields.CharField(max_length=24)),
                ('target', fields.CharField(max_length=24)),
                ('role', fields.CharField(max_length=16)),
                ('actor', fields.CharField(max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'ticket_transition', 'app': 'fleet', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Device',
            name='config',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Device',
            name='replaces',
            field=fields.ForeignKeyField('fleet.Device', source_field='replaces_id', null=True, db_constraint=True, to_field='id', related_name='replaced_by', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Device',
            name='returned_on',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Device',
            name='sales_locked',
            field=fields.BooleanField(default=False),
        ),
    ]
