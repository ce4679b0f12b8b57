"""What the notifications API answers: a message's state, never its text (a pay link's text is its URL)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str  # email, sms
    recipient: str
    cause: str  # what sent it: paylink:<token>, refund:<id>, alert:<id>
    status: str  # queued, sent, failed
    attempts: int
    next_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class NotificationPage(BaseModel):
    total: int
    items: list[NotificationOut]
