from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('fleet', '0007_refunds')]

    initial = False

    operations = [
        ops.AddField(
            model_name='PayLaterSession',
            name='last_answer',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='PayLaterSession',
            name='last_request',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.AddField(
            model_name='PayLaterSession',
            name='ref',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.AddConstraint(
            model_name='PayLaterSession',
            constraint=UniqueConstraint(fields=('serial', 'ref'), name=None),
        ),
    ]
