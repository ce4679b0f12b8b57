"""Downsampling telemetry for charts: at most `points` buckets over a time range, each bucket the mean
of its numeric metrics (the maximum for counters that only grow), the last value of the others."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

MEAN = ("mem_free", "battery_pct", "head_temp_c", "rssi_dbm", "outbox_depth")
MAX = ("uptime_s", "printed_mm", "cutter_count")
LAST = ("paper", "charging", "error_code", "reboot_reason")


def bucket_width(since: datetime, until: datetime, points: int) -> timedelta:
    """The smallest whole number of seconds that covers [since, until) in `points` buckets."""
    seconds = max(1, int((until - since).total_seconds()))
    return timedelta(seconds=max(1, -(-seconds // points)))


def downsample(
    samples: Iterable[tuple[datetime, dict[str, Any]]], since: datetime, width: timedelta
) -> list[dict[str, Any]]:
    """`samples` in time order → one row per non-empty bucket: {t (bucket start), samples, metrics...}."""
    buckets: dict[int, list[dict[str, Any]]] = {}
    for at, values in samples:
        buckets.setdefault(int((at - since) / width), []).append(values)
    out = []
    for index in sorted(buckets):
        rows = buckets[index]
        point: dict[str, Any] = {"t": since + index * width, "samples": len(rows)}
        for name in MEAN:
            point[name] = _mean([r[name] for r in rows if r.get(name) is not None])
        for name in MAX:
            present = [r[name] for r in rows if r.get(name) is not None]
            point[name] = max(present) if present else None
        for name in LAST:
            point[name] = rows[-1].get(name)
        out.append(point)
    return out


def _mean(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None
