"""Merchants, devices (registered by serial) and sightings of serials nobody registered (rule W4)."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from fleet.domain import calendar, paylater


class Ownership(StrEnum):
    PURCHASED = "purchased"  # "beli putus": warranty from the invoice date (W1)
    RENTED = "rented"  # "sewa/pinjaman": covered for the rental period (W2)


class DeviceType(StrEnum):
    """Kinds of device, as the repair lead times group them (S1)."""

    MPOS = "mpos"  # the vendor's own mPOS terminal (IMIN class): 3-4 working days
    TABLET = "tablet"  # Advan, X1 Basic, X2 Pro, Samsung: 7-14 working days
    PRINTER = "printer"  # accessories: 3-4 working days
    CASH_DRAWER = "cash_drawer"
    SCANNER = "scanner"


class Merchant(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120, unique=True)
    # The merchant's auto-cancel window in minutes, from its settings: a PayLater customer must pay within
    # it (P4). Bounds: fleet.domain.paylater.auto_cancel.
    auto_cancel_minutes = fields.IntField(default=paylater.AUTO_CANCEL_DEFAULT)
    # The merchant's time zone (one of fleet.domain.calendar.ZONES): the days of its rules (RF1) are its own.
    time_zone = fields.CharField(max_length=32, default=calendar.DEFAULT_ZONE)
    # Onboarding (O1): the first payment the fleet saw, when Biz Support finished onboarding, and the day
    # the account was activated (the onboarding's end, at the latest 14 working days after that payment).
    first_payment_at = fields.DatetimeField(null=True)
    onboarding_finished_at = fields.DatetimeField(null=True)
    activated_on = fields.DateField(null=True)
    # Alerts (fleet.alerts): who is told, when a terminal counts as offline, and the hours it should be on.
    alert_email = fields.CharField(max_length=254, null=True)
    offline_alert_minutes = fields.IntField(default=30)
    business_hours = fields.CharField(max_length=11, default="08:00-21:00")  # in the merchant's zone
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "merchant"


class Device(Model):
    id = fields.IntField(primary_key=True)
    serial = fields.CharField(max_length=32, unique=True)
    model = fields.CharField(max_length=32)
    device_type = fields.CharField(max_length=32)  # a DeviceType value (S1)
    service_plan = fields.CharField(max_length=12, default="basic")  # basic or premium (S1's lead time)
    hw_id = fields.CharField(max_length=64, null=True)
    firmware = fields.CharField(max_length=32, null=True)
    ownership = fields.CharEnumField(Ownership)
    invoice_number = fields.CharField(max_length=64, null=True)
    invoice_date = fields.DateField(null=True)
    rental_start = fields.DateField(null=True)
    rental_end = fields.DateField(null=True)
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "fleet.Merchant", related_name="devices", null=True, on_delete=fields.SET_NULL
    )
    # Presence. `online` is the broker session as the terminal's retained state and its last will tell it,
    # applied by the terminal's own time (`state_at`), never a late older message over a newer one; it
    # counts as online only while the terminal was also heard (`last_seen`, any message) within the
    # presence window: see fleet.domain.presence.
    online = fields.BooleanField(default=False)
    state_at = fields.DatetimeField(null=True)
    last_seen = fields.DatetimeField(null=True, db_index=True)
    # The latest heartbeat's health, kept here by the ingest so the dashboard and the periodic jobs read
    # one row per device rather than searching the telemetry history of each.
    telemetry_at = fields.DatetimeField(null=True)  # the terminal's time of that heartbeat
    paper = fields.CharField(max_length=8, null=True)
    battery_pct = fields.SmallIntField(null=True)
    printed_mm = fields.BigIntField(null=True)
    boot_reason = fields.CharField(max_length=16, null=True)
    capabilities: fields.JSONField[list] = fields.JSONField(default=list)  # type: ignore[type-arg]
    # The terminal's broker password, hashed in Mosquitto's format (see fleet.auth.passwords); null until
    # credentials are issued for it.
    mqtt_password_hash = fields.CharField(max_length=160, null=True)
    returned_on = fields.DateField(null=True)  # a rented device given back
    sales_locked = fields.BooleanField(default=False)  # what the fleet last told the terminal (rental)
    config: fields.JSONField[dict] = fields.JSONField(default=dict)  # type: ignore[type-arg]  # settings the fleet set
    replaces: fields.ForeignKeyNullableRelation["Device"] = fields.ForeignKeyField(
        "fleet.Device", related_name="replaced_by", null=True, on_delete=fields.SET_NULL
    )  # the unit this one was swapped in for (a repair ticket's replacement)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "device"


class UnregisteredSighting(Model):
    """A serial that published without being registered: never a device, never a guess (W4)."""

    id = fields.IntField(primary_key=True)
    serial = fields.CharField(max_length=32, unique=True)
    first_seen = fields.DatetimeField()
    last_seen = fields.DatetimeField()
    messages = fields.IntField(default=0)
    last_topic = fields.CharField(max_length=128)

    class Meta:
        table = "unregistered_sighting"
