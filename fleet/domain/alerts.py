"""Alert episodes: an alert opens once when its condition starts, is updated while it lasts, and resolves
itself when the condition ends; a condition that starts again is a new episode. Pure: the rules' results
and the open alerts come in, what to open, keep and resolve goes out.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

OFFLINE, PAPER_OUT, LOW_BATTERY = "offline", "paper_out", "low_battery"
ACTIVATION_DUE = "activation_due"  # O1: a merchant's activation deadline is near (about a merchant, no terminal)
REPAIR_DUE = "repair_due"  # S1: a repair's latest day is the next working day or has passed, unfinished
RENTAL_ENDING = "rental_ending"  # a rented terminal's period ends within NEAR_DAYS working days
REFUND_DUE = "refund_due"  # RF1: a refund request unanswered on the eve of its automatic approval
FIX_CASE = "fix_case"  # FP1: a payment without its order waits for Biz Support
PRINTER_ERRORS = "printer_errors"  # the printer keeps failing: the suggestion rule found it
COVER_OPEN = "cover_open"  # the printer's cover was left open (its last cover fault is still active)
KINDS = (
    OFFLINE,
    PAPER_OUT,
    LOW_BATTERY,
    ACTIVATION_DUE,
    REPAIR_DUE,
    RENTAL_ENDING,
    REFUND_DUE,
    FIX_CASE,
    PRINTER_ERRORS,
    COVER_OPEN,
)
# Who acts on an alert: Biz Support for these; the merchant for the others.
FOR_SUPPORT = (ACTIVATION_DUE, REPAIR_DUE, FIX_CASE, PRINTER_ERRORS)
FAULTS_LOOKED_BACK_H = 24  # a cover fault older than this with no later news is left to the offline rule
NEAR_DAYS = 3  # working days ahead that count as near (a rental's end)
LOW_BATTERY_PCT = 15

Key = tuple[str, str, int | None]  # an episode's identity: its kind, its terminal, its merchant


@dataclass(frozen=True)
class Condition:
    """A rule that holds now for one terminal (`serial`), or for a merchant (`serial` empty)."""

    kind: str
    serial: str
    merchant_id: int | None
    detail: str

    @property
    def key(self) -> Key:
        return (self.kind, self.serial, self.merchant_id)


@dataclass(frozen=True)
class Changes:
    """What one evaluation does: conditions that start an episode, open alerts that go on (by key), and
    open alerts whose condition ended."""

    to_open: list[Condition]
    to_keep: list[Key]
    to_resolve: list[Key]


def changes(open_keys: set[Key], holding: list[Condition]) -> Changes:
    """Diff the open alerts against the conditions that hold now (each key at most once)."""
    now_keys: dict[Key, Condition] = {}
    for condition in holding:
        now_keys.setdefault(condition.key, condition)
    return Changes(
        to_open=[c for key, c in now_keys.items() if key not in open_keys],
        to_keep=sorted((key for key in now_keys if key in open_keys), key=str),
        to_resolve=sorted(open_keys - set(now_keys), key=str),
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


def quiet_until(local: datetime, quiet: tuple[time, time] | None) -> datetime | None:
    """When quiet hours (`quiet`: start and end, in the zone of `local`) hold at `local`, their end, when
    a message waiting for them may go; None when they do not hold (or there are none)."""
    if quiet is None or not within_hours(local, *quiet):
        return None
    end = local.replace(hour=quiet[1].hour, minute=quiet[1].minute, second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)
