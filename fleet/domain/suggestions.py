"""Repair suggestions from telemetry: rules that propose a ticket to Biz Support, never open one.

- print_head_wear: the printed length nears the head's rated life;
- printer_errors: repeated printer (cutter, unrecoverable, overheat) errors or open covers;
- battery_health: repeated low-battery alerts;
- crash_reboots: repeated reboots after a crash.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Thresholds:
    """When the health of a terminal is worth a suggestion: print-head wear, and how many faults of a kind
    within `window`."""

    head_life_mm: int = 50_000_000  # a thermal head is typically rated for 50 km of paper
    head_warn_share: float = 0.8
    window: timedelta = timedelta(days=7)
    printer_errors: int = 3
    low_battery_alerts: int = 5
    crash_reboots: int = 3


@dataclass(frozen=True)
class Fault:
    """A fault a terminal reported (an event of type fault)."""

    at: datetime
    code: str
    active: bool
    detail: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """Something Biz Support might act on (a repair, a part), and why."""

    kind: str
    reason: str


def suggest(
    printed_mm: int | None, faults: list[Fault], now: datetime, limits: Thresholds = Thresholds()
) -> list[Suggestion]:
    """What a terminal's health suggests at `now`: a worn print head from the paper printed, and printer
    errors, low-battery alerts or crash reboots repeating within the window of `limits`."""
    out = []
    if printed_mm is not None and printed_mm >= limits.head_life_mm * limits.head_warn_share:
        share = printed_mm * 100 // limits.head_life_mm
        out.append(Suggestion("print_head_wear", f"printed {printed_mm // 1000} m: {share}% of the head's rated life"))
    recent = [f for f in faults if f.active and now - limits.window <= f.at <= now]
    days = limits.window.days
    errors = [f for f in recent if f.code in ("printer_error", "cover_open")]
    if len(errors) >= limits.printer_errors:
        kinds = ", ".join(sorted({f.detail or f.code for f in errors}))
        out.append(Suggestion("printer_errors", f"{len(errors)} printer errors in {days} days ({kinds})"))
    low = [f for f in recent if f.code == "low_battery"]
    if len(low) >= limits.low_battery_alerts:
        out.append(Suggestion("battery_health", f"{len(low)} low-battery alerts in {days} days"))
    crashes = [f for f in recent if f.code == "crash_reboot"]
    if len(crashes) >= limits.crash_reboots:
        out.append(Suggestion("crash_reboots", f"{len(crashes)} reboots after a crash in {days} days"))
    return out
