"""What terminals reported, as the API shows it: telemetry history (downsampled) and transactions."""

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from tortoise.queryset import QuerySet

from fleet.api.params import After, Limit, Now, Offset
from fleet.auth.deps import (
    Caller,
    Staff,
    VisibleDevice,
    VisibleMerchant,
    visible_events,
)
from fleet.ingest import quarantine, service
from fleet.ingest.models import TRANSACTION_TYPES, Event, QuarantinedMessage
from fleet.ingest.schemas import QuarantinedOut, QuarantinePage, TelemetryHistory, TransactionPage, event_out

router = APIRouter(tags=["telemetry and transactions"])


@router.get("/devices/{serial}/telemetry", response_model=TelemetryHistory)
async def telemetry_history(
    now: Now,
    device: VisibleDevice,
    since: datetime | None = None,
    until: datetime | None = None,
    points: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> TelemetryHistory:
    """Telemetry between `since` and `until` (default: the last 24 hours), in at most `points` buckets."""
    start, end, width, series = await service.telemetry(device.serial, now, since=since, until=until, points=points)
    return TelemetryHistory(
        serial=device.serial, since=start, until=end, bucket_seconds=int(width.total_seconds()), points=series
    )


async def _transactions(events: QuerySet[Event], kind: str | None, limit: int, after: str | None) -> TransactionPage:
    page = await service.transactions(events, kind, limit=limit, after=after)
    return TransactionPage(
        total=page.total, total_estimated=page.estimated, next=page.next, items=[event_out(e) for e in page.items]
    )


TransactionType = Annotated[str | None, Query(pattern="^(" + "|".join(TRANSACTION_TYPES) + ")$")]


@router.get("/devices/{serial}/transactions", response_model=TransactionPage)
async def device_transactions(
    who: Caller, device: VisibleDevice, type: TransactionType = None, limit: Limit = 50, after: After = None
) -> TransactionPage:
    return await _transactions(visible_events(who, device.serial), type, limit, after)


@router.get("/merchants/{merchant_id}/transactions", response_model=TransactionPage)
async def merchant_transactions(
    merchant: VisibleMerchant, type: TransactionType = None, limit: Limit = 50, after: After = None
) -> TransactionPage:
    """The merchant's sales on every terminal it had when each was made (a terminal since given back still
    shows its sales here; one it took over shows none of the previous owner's)."""
    return await _transactions(Event.filter(merchant_id=merchant.id), type, limit, after)


def quarantined_out(q: QuarantinedMessage) -> QuarantinedOut:
    raw = bytes(q.payload)
    return QuarantinedOut(
        id=q.id,
        received_at=q.received_at,
        topic=q.topic,
        serial=q.serial,
        reason=q.reason,
        field=q.field,
        detail=q.detail,
        size=q.size,
        payload_text=raw.decode("utf-8", "replace"),
        payload_base64=base64.b64encode(raw).decode(),
    )


QuarantineReason = Annotated[str | None, Query(pattern="^[a-z_]{1,32}$")]
SerialFilter = Annotated[str | None, Query(min_length=4, max_length=32, pattern=r"^[A-Z0-9-]+$")]


@router.get("/ingest/quarantine", response_model=QuarantinePage)
async def quarantined_messages(
    who: Staff, serial: SerialFilter = None, reason: QuarantineReason = None, limit: Limit = 50, offset: Offset = 0
) -> QuarantinePage:
    """Messages the ingest acknowledged without storing (Biz Support only), newest first: refused by the
    wire contract, refused by the database, or claiming an event key already stored with another body."""
    total, items = await quarantine.listing(serial, reason, limit, offset)
    return QuarantinePage(total=total, items=[quarantined_out(q) for q in items])
