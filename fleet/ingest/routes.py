"""What terminals reported, as the API shows it: telemetry history (downsampled) and transactions."""

import base64
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from tortoise.queryset import QuerySet

from fleet.api.params import Limit, MerchantId, Offset, Serial
from fleet.api.problems import Problem
from fleet.auth.deps import Caller, Staff, visible_device, visible_events, visible_merchant
from fleet.ingest import downsample, quarantine
from fleet.ingest.models import TRANSACTION_TYPES, Event, QuarantinedMessage, TelemetrySample
from fleet.ingest.schemas import QuarantinedOut, QuarantinePage, TelemetryHistory, TransactionPage, event_out
from fleet.ingest.worker import TELEMETRY_COLUMNS

router = APIRouter(tags=["telemetry and transactions"])

MAX_RAW_SAMPLES = 200_000  # a range holding more is refused: ask for a shorter one
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _aware(value: datetime | None, default: datetime) -> datetime:
    if value is None:
        return default
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return min(max(value, EARLIEST), LATEST)


@router.get("/devices/{serial}/telemetry", response_model=TelemetryHistory)
async def telemetry_history(
    serial: Serial,
    who: Caller,
    since: datetime | None = None,
    until: datetime | None = None,
    points: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> TelemetryHistory:
    """Telemetry between `since` and `until` (default: the last 24 hours), in at most `points` buckets."""
    await visible_device(who, serial)
    end = _aware(until, datetime.now(UTC))
    start = _aware(since, end - timedelta(hours=24))
    if start >= end:
        raise Problem(422, "since must be before until", type_="bad-range")
    query = TelemetrySample.filter(serial=serial, device_time__gte=start, device_time__lt=end)
    if await query.count() > MAX_RAW_SAMPLES:
        raise Problem(422, "too many samples in that range; ask for a shorter one", type_="bad-range")
    rows = await query.order_by("device_time").values("device_time", *TELEMETRY_COLUMNS)
    width = downsample.bucket_width(start, end, points)
    series = downsample.downsample(((r.pop("device_time"), r) for r in rows), start, width)
    return TelemetryHistory(
        serial=serial, since=start, until=end, bucket_seconds=int(width.total_seconds()), points=series
    )


async def _transactions(events: QuerySet[Event], kind: str | None, limit: int, offset: int) -> TransactionPage:
    query = events.filter(type__in=TRANSACTION_TYPES if kind is None else (kind,))
    total = await query.count()
    items = await query.order_by("-device_time", "-id").offset(offset).limit(limit)
    return TransactionPage(total=total, items=[event_out(e) for e in items])


TransactionType = Annotated[str | None, Query(pattern="^(" + "|".join(TRANSACTION_TYPES) + ")$")]


@router.get("/devices/{serial}/transactions", response_model=TransactionPage)
async def device_transactions(
    serial: Serial, who: Caller, type: TransactionType = None, limit: Limit = 50, offset: Offset = 0
) -> TransactionPage:
    await visible_device(who, serial)
    return await _transactions(visible_events(who, serial), type, limit, offset)


@router.get("/merchants/{merchant_id}/transactions", response_model=TransactionPage)
async def merchant_transactions(
    merchant_id: MerchantId, who: Caller, type: TransactionType = None, limit: Limit = 50, offset: Offset = 0
) -> TransactionPage:
    """The merchant's sales on every terminal it had when each was made (a terminal since given back still
    shows its sales here; one it took over shows none of the previous owner's)."""
    merchant = await visible_merchant(who, merchant_id)
    return await _transactions(Event.filter(merchant_id=merchant.id), type, limit, offset)


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
