from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from fleet.auth.models import Role
from fleet.commands.models import CommandStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fleet', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Command',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cmd_id', fields.CharField(unique=True, max_length=40)),
                ('device', fields.ForeignKeyField('fleet.Device', source_field='device_id', db_constraint=True, to_field='id', related_name='commands', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=24)),
                ('args', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=CommandStatus.PENDING, description='PENDING: pending\nSENT: sent\nACKED: acked\nFAILED: failed\nEXPIRED: expired', enum_type=CommandStatus, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('last_sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error', fields.CharField(null=True, max_length=24)),
                ('detail', fields.CharField(null=True, max_length=200)),
                ('result', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('requested_by', fields.CharField(max_length=64)),
            ],
            options={'table': 'command', 'app': 'fleet', 'indexes': [Index(fields=['status', 'device_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('password_hash', fields.CharField(max_length=160)),
                ('role', fields.CharEnumField(description='ADMIN: admin\nBIZ_SUPPORT: biz_support\nMERCHANT: merchant', enum_type=Role, max_length=16)),
                ('merchant', fields.ForeignKeyField('fleet.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.CASCADE)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'user', 'app': 'fleet', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Device',
            name='mqtt_password_hash',
            field=fields.CharField(null=True, max_length=160),
        ),
    ]
