"""What the API answers about stored events, telemetry and the quarantine."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from fleet.ingest.models import Event


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    serial: str
    seq: int
    type: str
    device_time: datetime
    received_at: datetime
    data: dict[str, Any]


def event_out(e: Event) -> EventOut:
    return EventOut.model_validate(e)


class TelemetryHistory(BaseModel):
    serial: str
    since: datetime
    until: datetime
    bucket_seconds: int
    points: list[dict[str, Any]]


class TransactionPage(BaseModel):
    total: int
    total_estimated: bool = False  # the total is PostgreSQL's estimate: a long list (fleet.paging)
    next: str | None = None  # the cursor of the next page (?after=…); none after the last page
    items: list[EventOut]


class QuarantinedOut(BaseModel):
    id: int
    received_at: datetime
    topic: str
    serial: str | None
    reason: str
    field: str
    detail: str
    size: int
    payload_text: str  # the kept bytes as UTF-8, undecodable bytes replaced: for reading
    payload_base64: str  # the kept bytes exactly: for settling by hand


class QuarantinePage(BaseModel):
    total: int
    items: list[QuarantinedOut]
