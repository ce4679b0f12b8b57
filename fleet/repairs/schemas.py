"""What the repairs API takes and answers: warranty, rental, tickets, suggestions, the public check."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WarrantyOut(BaseModel):
    serial: str
    on: date
    covered: bool
    rule: str
    reason: str
    starts: date | None
    expires: date | None
    days_left: int


class RentalOut(BaseModel):
    serial: str
    on: date
    state: str
    lock_sales: bool
    days_to_end: int | None
    grace_until: date | None


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    serial: str = Field(min_length=4, max_length=32, pattern=r"^[A-Z0-9-]+$")
    problem: str = Field(min_length=3, max_length=500)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=0, le=2**31 - 1, description="the version you saw (409 if stale)")


class TransitionOut(BaseModel):
    action: str
    source: str
    target: str
    role: str
    actor: str
    at: datetime
    data: dict[str, Any]


class TicketOut(BaseModel):
    id: int
    serial: str
    merchant_id: int | None
    state: str
    problem: str
    opened_by: str
    opened_at: datetime
    received_on: date | None
    due_earliest: date | None
    due_latest: date | None
    finished_on: date | None
    overdue: bool
    detail: dict[str, Any]
    costs: dict[str, str] | None
    allowed_actions: list[str]
    version: int
    transitions: list[TransitionOut] = []


class SuggestionOut(BaseModel):
    id: int
    serial: str
    kind: str
    reason: str
    status: str
    created_at: datetime
    ticket_id: int | None


class PublicCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    serial: str = Field(min_length=4, max_length=32)
    invoice_number: str = Field(min_length=1, max_length=64)


class PublicCheckOut(BaseModel):
    covered: bool
    rule: str
    reason: str
    expires: date | None
    days_left: int
    covers: str
