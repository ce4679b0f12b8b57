"""Alerts: the open ones (or all), and acknowledging one; a merchant's user sees its own terminals' only."""

from typing import Annotated

from fastapi import APIRouter, Path

from fleet.alerts import service
from fleet.alerts.models import Alert
from fleet.alerts.schemas import AlertOut
from fleet.api.params import Limit, Now, Offset
from fleet.api.problems import Problem
from fleet.auth.deps import Caller, scoped

router = APIRouter(tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/alerts", response_model=list[AlertOut])
async def list_alerts(who: Caller, resolved: bool = False, limit: Limit = 100, offset: Offset = 0) -> list[AlertOut]:
    """Open alerts, newest first (`resolved=true`: the ended ones)."""
    query = scoped(Alert.filter(resolved_at__isnull=not resolved), who)
    rows = await query.order_by("-opened_at", "-id").offset(offset).limit(limit)
    return [AlertOut.model_validate(row) for row in rows]


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut)
async def acknowledge(alert_id: AlertId, who: Caller, now: Now) -> AlertOut:
    """Someone is on it; the alert resolves itself when its condition ends."""
    row = await scoped(Alert.filter(id=alert_id), who).first()
    if row is None:
        raise Problem(404, f"no alert {alert_id}", type_="not-found")
    return AlertOut.model_validate(await service.acknowledge(row, who.username, now))
