"""The audit trail, read: Biz Support and admins see every entry; a merchant's users those about their
merchant's things."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from fleet.api.params import Limit, Offset
from fleet.audit import service
from fleet.audit.schemas import AuditOut, AuditPage
from fleet.auth.deps import Caller

router = APIRouter(tags=["audit"])

Text = Annotated[str | None, Query(max_length=80)]


@router.get("/audit", response_model=AuditPage)
async def audit_trail(
    who: Caller,
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=40, description="an action, or its start: `ticket.`")] = None,
    target: Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AuditPage:
    """Who changed what, newest first."""
    query = service.listed(who, actor=actor, action=action, target=target, since=since, until=until)
    total = await query.count()
    rows = await query.offset(offset).limit(limit)
    return AuditPage(total=total, items=[AuditOut.model_validate(r) for r in rows])
