"""What the commands API takes and answers."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fleet.commands import service


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="ping, reprint, lock, unlock, config, set_clock", max_length=24)
    args: dict[str, Any] = Field(default_factory=dict)
    ttl_seconds: int = Field(default=int(service.DEFAULT_TTL.total_seconds()), ge=1, le=30 * 86400)


class CommandOut(BaseModel):
    id: str
    serial: str
    name: str
    args: dict[str, Any]
    status: str
    created_at: datetime
    expires_at: datetime
    attempts: int
    last_sent_at: datetime | None
    finished_at: datetime | None
    error: str | None
    detail: str | None
    result: dict[str, Any] | None
    requested_by: str
