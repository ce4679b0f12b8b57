from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from fleet.devices.models import Ownership
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Event',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('serial', fields.CharField(db_index=True, max_length=32)),
                ('jid', fields.CharField(max_length=8)),
                ('seq', fields.BigIntField()),
                ('type', fields.CharField(max_length=16)),
                ('device_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('data', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'event', 'app': 'fleet', 'indexes': [Index(fields=['serial', 'seq'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Merchant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=120)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'merchant', 'app': 'fleet', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Device',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('serial', fields.CharField(unique=True, max_length=32)),
                ('model', fields.CharField(max_length=32)),
                ('device_type', fields.CharField(max_length=32)),
                ('hw_id', fields.CharField(null=True, max_length=64)),
                ('firmware', fields.CharField(null=True, max_length=32)),
                ('ownership', fields.CharEnumField(description='PURCHASED: purchased\nRENTED: rented', enum_type=Ownership, max_length=9)),
                ('invoice_number', fields.CharField(null=True, max_length=64)),
                ('invoice_date', fields.DateField(null=True)),
                ('rental_start', fields.DateField(null=True)),
                ('rental_end', fields.DateField(null=True)),
                ('merchant', fields.ForeignKeyField('fleet.Merchant', source_field='merchant_id', null=True, db_constraint=True, to_field='id', related_name='devices', on_delete=OnDelete.SET_NULL)),
                ('online', fields.BooleanField(default=False)),
                ('last_seen', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('boot_reason', fields.CharField(null=True, max_length=16)),
                ('capabilities', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'device', 'app': 'fleet', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TelemetrySample',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('serial', fields.CharField(max_length=32)),
                ('device_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('uptime_s', fields.BigIntField()),
                ('mem_free', fields.IntField()),
                ('battery_pct', fields.SmallIntField(null=True)),
                ('charging', fields.BooleanField(null=True)),
                ('paper', fields.CharField(null=True, max_length=8)),
                ('head_temp_c', fields.SmallIntField(null=True)),
                ('printed_mm', fields.BigIntField(null=True)),
                ('cutter_count', fields.BigIntField(null=True)),
                ('outbox_depth', fields.IntField(null=True)),
                ('rssi_dbm', fields.SmallIntField(null=True)),
                ('error_code', fields.IntField(null=True)),
                ('reboot_reason', fields.CharField(null=True, max_length=16)),
            ],
            options={'table': 'telemetry_sample', 'app': 'fleet', 'indexes': [Index(fields=['serial', 'device_time'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UnregisteredSighting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('serial', fields.CharField(unique=True, max_length=32)),
                ('first_seen', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('messages', fields.IntField(default=0)),
                ('last_topic', fields.CharField(max_length=128)),
            ],
            options={'table': 'unregistered_sighting', 'app': 'fleet', 'pk_attr': 'id', 'table_description': 'A serial that published without being registered: never a device, never a guess (W4).'},
            bases=['Model'],
        ),
    ]
