"""Alerts: the open ones (or all), and acknowledging one; a merchant's user sees its own terminals' only."""

from typing import Annotated

from fastapi import APIRouter, Path

from fleet.alerts import service
from fleet.alerts.models import Alert, Subscription
from fleet.alerts.schemas import AlertOut, SubscriptionIn, SubscriptionOut
from fleet.api.params import Limit, Now, Offset
from fleet.api.problems import Problem
from fleet.auth.deps import Caller, scoped

router = APIRouter(tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SubscriptionId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/alerts", response_model=list[AlertOut])
async def list_alerts(who: Caller, resolved: bool = False, limit: Limit = 100, offset: Offset = 0) -> list[AlertOut]:
    """Open alerts, newest first (`resolved=true`: the ended ones)."""
    query = scoped(Alert.filter(resolved_at__isnull=not resolved), who)
    rows = await query.order_by("-opened_at", "-id").offset(offset).limit(limit)
    return [AlertOut.model_validate(row) for row in rows]


@router.get("/alerts/subscriptions", response_model=list[SubscriptionOut])
async def list_subscriptions(who: Caller) -> list[SubscriptionOut]:
    """Who hears which alerts: a merchant's users see their merchant's; staff every one (Biz Support's
    own have no merchant). Webhook secrets are never listed."""
    rows = await scoped(Subscription.all(), who).order_by("id")
    return [SubscriptionOut.model_validate(r).model_copy(update={"secret": None}) for r in rows]


@router.post("/alerts/subscriptions", response_model=SubscriptionOut, status_code=201)
async def subscribe(body: SubscriptionIn, who: Caller, now: Now) -> SubscriptionOut:
    """Hear alerts by email, SMS or WhatsApp (+62 numbers) or a signed webhook, for some kinds or all,
    held back during quiet hours; a webhook's signing secret is in this answer only."""
    merchant_id = body.merchant_id if who.is_staff else who.merchant_id
    row = await service.subscribe(
        merchant_id=merchant_id,
        channel=body.channel,
        address=body.address.strip(),
        kinds=body.kinds,
        quiet_hours=body.quiet_hours.strip(),
        by=who.username,
        now=now,
    )
    return SubscriptionOut.model_validate(row)


@router.delete("/alerts/subscriptions/{subscription_id}", status_code=204)
async def unsubscribe(subscription_id: SubscriptionId, who: Caller, now: Now) -> None:
    row = await scoped(Subscription.filter(id=subscription_id), who).first()
    if row is None:
        raise Problem(404, f"no subscription {subscription_id}", type_="not-found")
    await service.unsubscribe(row, by=who.username, now=now)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut)
async def acknowledge(alert_id: AlertId, who: Caller, now: Now) -> AlertOut:
    """Someone is on it; the alert resolves itself when its condition ends."""
    row = await scoped(Alert.filter(id=alert_id), who).first()
    if row is None:
        raise Problem(404, f"no alert {alert_id}", type_="not-found")
    return AlertOut.model_validate(await service.acknowledge(row, who.username, now))
