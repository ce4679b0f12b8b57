"""What terminals reported, as the fleet serves it: a terminal's telemetry over a range (downsampled) and
transactions. Storing is the worker's (fleet/ingest/worker.py); what it refused, fleet/ingest/quarantine.py."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.queryset import QuerySet

from fleet import paging
from fleet.errors import Invalid
from fleet.ingest import downsample
from fleet.ingest.models import TRANSACTION_TYPES, Event, TelemetrySample
from fleet.ingest.worker import TELEMETRY_COLUMNS

MAX_RAW_SAMPLES = 200_000  # a range holding more is refused: ask for a shorter one
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class BadRange(Invalid):
    """A telemetry range that ends before it starts, or holds too many samples to read."""

    type_ = "bad-range"


def _aware(value: datetime | None, default: datetime) -> datetime:
    if value is None:
        return default
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return min(max(value, EARLIEST), LATEST)


async def telemetry(
    serial: str, now: datetime, *, since: datetime | None, until: datetime | None, points: int
) -> tuple[datetime, datetime, timedelta, list[dict[str, Any]]]:
    """The terminal's telemetry from `since` to `until` (default: the 24 hours before `now`) in at most
    `points` buckets: (start, end, bucket width, buckets)."""
    end = _aware(until, now)
    start = _aware(since, end - timedelta(hours=24))
    if start >= end:
        raise BadRange("since must be before until")
    query = TelemetrySample.filter(serial=serial, device_time__gte=start, device_time__lt=end)
    if await query.count() > MAX_RAW_SAMPLES:
        raise BadRange("too many samples in that range; ask for a shorter one")
    rows = await query.order_by("device_time").values("device_time", *TELEMETRY_COLUMNS)
    width = downsample.bucket_width(start, end, points)
    return start, end, width, downsample.downsample(((r.pop("device_time"), r) for r in rows), start, width)


async def transactions(
    events: QuerySet[Event], kind: str | None, *, limit: int, after: str | None = None
) -> paging.Page[Event]:
    """The money events among `events` (one kind, or all), newest first, a page at a time after the
    cursor `after` (fleet.paging)."""
    query = events.filter(type__in=TRANSACTION_TYPES if kind is None else (kind,))
    return await paging.keyset(query, ("-device_time", "-id"), limit=limit, after=after)
