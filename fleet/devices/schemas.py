"""What the devices and merchants API takes and answers (request and response models)."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fleet.api.inputs import Name
from fleet.devices.models import Merchant
from fleet.domain import paylater
from fleet.ingest.schemas import EventOut

# Indonesia's zones (fleet.domain.calendar.ZONES): WIB, WITA, WIT.
TimeZone = Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]


class MerchantOut(BaseModel):
    id: int
    name: str
    auto_cancel_minutes: int  # P4: a PayLater customer pays within this window
    time_zone: str
    alert_email: str | None = None
    offline_alert_minutes: int = 30
    business_hours: str = "08:00-21:00"

    @classmethod
    def of(cls, merchant: Merchant) -> "MerchantOut":
        return cls(
            id=merchant.id,
            name=merchant.name,
            auto_cancel_minutes=merchant.auto_cancel_minutes,
            time_zone=merchant.time_zone,
            alert_email=merchant.alert_email,
            offline_alert_minutes=merchant.offline_alert_minutes,
            business_hours=merchant.business_hours,
        )


class MerchantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Name, Field(min_length=1, max_length=120)]


class MerchantSettings(BaseModel):
    """What a merchant sets for itself (TokoAdmin's settings)."""

    model_config = ConfigDict(extra="forbid")

    auto_cancel_minutes: int | None = Field(default=None, ge=paylater.AUTO_CANCEL_LEAST, le=paylater.AUTO_CANCEL_MOST)
    time_zone: TimeZone | None = Field(default=None, description="the zone whose days count for its rules (RF1)")
    alert_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    offline_alert_minutes: int | None = Field(default=None, ge=5, le=1440, description="offline this long: an alert")
    business_hours: str | None = Field(
        default=None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="HH:MM-HH:MM",
    )


class DeviceOut(BaseModel):
    serial: str
    model: str
    device_type: str
    hw_id: str | None
    firmware: str | None
    ownership: str
    invoice_number: str | None
    invoice_date: date | None
    rental_start: date | None
    rental_end: date | None
    service_plan: str  # basic or premium (S1's lead time)
    merchant_id: int | None
    online: bool
    last_seen: datetime | None
    boot_reason: str | None
    capabilities: list[str]
    has_credentials: bool


class DevicePage(BaseModel):
    total: int
    total_estimated: bool = False  # the total is PostgreSQL's estimate: a long list (fleet.paging)
    next: str | None = None  # the cursor of the next page (?after=…); none after the last page
    items: list[DeviceOut]


class DeviceDetail(DeviceOut):
    telemetry: dict[str, Any] | None
    recent_events: list[EventOut]
    open_commands: int


class SightingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    serial: str
    first_seen: datetime
    last_seen: datetime
    messages: int
    last_topic: str


class RowErrorOut(BaseModel):
    line: int
    serial: str | None
    field: str
    message: str


class ImportReportOut(BaseModel):
    rows: int
    created: int
    merchants_created: list[str]
    errors: list[RowErrorOut]


class Credentials(BaseModel):
    serial: str
    username: str
    password: str = Field(description="shown once; the fleet keeps only its hash")


class OnboardingOut(BaseModel):
    stage: str  # new, onboarding or active (O1)
    first_payment_on: date | None
    activation_due: date | None  # activated on this day at the latest: 14 working days after the first payment
    activated_on: date | None
    rule: str
