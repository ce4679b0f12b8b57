"""What the alerts API answers."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


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
