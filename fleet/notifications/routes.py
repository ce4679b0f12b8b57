"""The outbox as Biz Support sees it: what was sent, what waits, what failed and why; a failed message
sent again once its channel is fixed."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from fleet.api.params import Limit, Now, Offset
from fleet.api.problems import Problem
from fleet.auth.deps import Staff
from fleet.notifications import service
from fleet.notifications.models import Notification
from fleet.notifications.schemas import NotificationOut, NotificationPage

router = APIRouter(tags=["notifications"])

NotificationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Status = Annotated[str | None, Query(pattern="^(queued|sent|failed)$")]
Cause = Annotated[str | None, Query(max_length=80, pattern=r"^[a-z]+(:[A-Za-z0-9_-]*)?$")]


@router.get("/notifications", response_model=NotificationPage)
async def list_notifications(
    who: Staff, status: Status = None, cause: Cause = None, limit: Limit = 50, offset: Offset = 0
) -> NotificationPage:
    """The outbox, newest first; `status=failed` lists what the job gave up on, `cause=paylink` one kind."""
    query = service.listed(status=status, cause=cause)
    total = await query.count()
    rows = await query.offset(offset).limit(limit)
    return NotificationPage(total=total, items=[NotificationOut.model_validate(r) for r in rows])


@router.post("/notifications/{notification_id}/retry", response_model=NotificationOut)
async def retry_notification(notification_id: NotificationId, who: Staff, now: Now) -> NotificationOut:
    """Send a failed message again (its channel was fixed): queued and due now."""
    row = await Notification.get_or_none(id=notification_id)
    if row is None:
        raise Problem(404, f"no notification {notification_id}", type_="not-found")
    return NotificationOut.model_validate(await service.retry(row, by=who.username, now=now))
