"""What the alerts API answers."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str  # offline, paper_out, low_battery, activation_due (O1: about a merchant, serial empty)
    serial: str
    merchant_id: int | None
    detail: str
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class SubscriptionIn(BaseModel):
    """How to hear alerts: `merchant_id` only for Biz Support (none: Biz Support's own); a merchant's
    user always subscribes for its merchant."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["email", "sms", "whatsapp", "webhook"]
    address: str = Field(min_length=3, max_length=254)
    kinds: list[str] = Field(default_factory=list, max_length=16)  # empty: every kind
    quiet_hours: str = Field(default="", max_length=11, description="HH:MM-HH:MM in the zone, or empty")
    merchant_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    merchant_id: int | None
    channel: str
    address: str
    kinds: list[str]
    quiet_hours: str
    created_by: str
    created_at: datetime
    secret: str | None = None  # a webhook's signing key, in the answer to its creation only
