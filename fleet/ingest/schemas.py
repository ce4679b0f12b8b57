"""What the API answers about stored events."""

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
