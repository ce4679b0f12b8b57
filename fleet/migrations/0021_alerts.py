from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fleet', '0020_notification_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Alert',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=24)),
                ('serial', fields.CharField(max_length=32)),
                ('merchant_id', fields.IntField(null=True, db_index=True)),
                ('detail', fields.CharField(max_length=200)),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('acknowledged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('acknowledged_by', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'alert', 'app': 'fleet', 'indexes': [Index(fields=['kind', 'serial', 'resolved_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Merchant',
            name='alert_email',
            field=fields.CharField(null=True, max_length=254),
        ),
        ops.AddField(
            model_name='Merchant',
            name='business_hours',
            field=fields.CharField(default='08:00-21:00', max_length=11),
        ),
        ops.AddField(
            model_name='Merchant',
            name='offline_alert_minutes',
            field=fields.IntField(default=30),
        ),
    ]
