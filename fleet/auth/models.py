"""The fleet's users: admins, Biz Support, and merchant users bound to one merchant."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from fleet.devices.models import Merchant


class Role(StrEnum):
    ADMIN = "admin"  # everything, including users
    BIZ_SUPPORT = "biz_support"  # every device, merchant and command; imports
    MERCHANT = "merchant"  # only their own merchant's things


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=160)
    role = fields.CharEnumField(Role, max_length=16)
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "fleet.Merchant", related_name="users", null=True, on_delete=fields.CASCADE
    )
    active = fields.BooleanField(default=True)
    # Every login token carries the version it was issued under; logging out bumps it, so every token the
    # user holds (cookie or bearer) stops working at once, not when it expires.
    token_version = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user"
