"""Alert episodes: an alert opens once when its condition starts, is updated while it lasts, and resolves
itself when the condition ends; a condition that starts again is a new episode. Pure: the rules' results
and the open alerts come in, what to open, keep and resolve goes out.
"""

from dataclasses import dataclass
from datetime import datetime, time

OFFLINE, PAPER_OUT, LOW_BATTERY = "offline", "paper_out", "low_battery"
KINDS = (OFFLINE, PAPER_OUT, LOW_BATTERY)
LOW_BATTERY_PCT = 15


@dataclass(frozen=True)
class Condition:
    """A rule that holds now for one terminal."""

    kind: str
    serial: str
    merchant_id: int | None
    detail: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.serial)


@dataclass(frozen=True)
class Changes:
    """What one evaluation does: conditions that start an episode, open alerts that go on (by key), and
    open alerts whose condition ended."""

    to_open: list[Condition]
    to_keep: list[tuple[str, str]]
    to_resolve: list[tuple[str, str]]


def changes(open_keys: set[tuple[str, str]], holding: list[Condition]) -> Changes:
    """Diff the open alerts against the conditions that hold now (each key at most once)."""
    now_keys: dict[tuple[str, str], Condition] = {}
    for condition in holding:
        now_keys.setdefault(condition.key, condition)
    return Changes(
        to_open=[c for key, c in now_keys.items() if key not in open_keys],
        to_keep=sorted(key for key in now_keys if key in open_keys),
        to_resolve=sorted(open_keys - set(now_keys)),
    )


def within_hours(local: datetime, opens: time, closes: time) -> bool:
    """Whether a local time falls in business hours (closing after midnight allowed: 18:00-02:00)."""
    moment = local.time()
    if opens <= closes:
        return opens <= moment < closes
    return moment >= opens or moment < closes


def parse_hours(text: str) -> tuple[time, time]:
    """ "08:00-21:00" → (08:00, 21:00); ValueError for anything else."""
    opens, _, closes = text.partition("-")
    return time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip())
