"""Reconciliation (FP1): the gateway's settlement report against what the terminals recorded.

A settled payment matches a terminal payment with the same RRN (or, failing that, the same reference),
the same amount, the same terminal, within a time window; each terminal payment matches once.
Whatever is settled but not matched is a fix-payment case: a customer paid and no order stands for it.
Terminal payments that nothing settled are reported apart (unsettled).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Settled:
    """One payment in the acquirer's settlement report."""

    charge_id: str
    reference: str
    rrn: str
    amount: int
    paid_at: datetime
    terminal: str


@dataclass(frozen=True)
class Recorded:
    """One confirmed non-cash payment the terminals journaled."""

    key: str  # the event's idempotency key
    terminal: str
    ref: str  # the payment line's ref: the RRN for QRIS; for a card, its capture reference (serial:token)
    amount: int
    at: datetime


@dataclass
class Result:
    """What a reconciliation found: settled payments matched to a recorded one, settled payments with no
    match (and why), and recorded payments the report does not hold."""

    matched: list[tuple[Settled, Recorded]] = field(default_factory=list)
    unmatched: list[tuple[Settled, str]] = field(default_factory=list)  # with the reason
    unsettled: list[Recorded] = field(default_factory=list)


def reconcile(settled: list[Settled], recorded: list[Recorded], window: timedelta = timedelta(minutes=15)) -> Result:
    """Match the settlement report against the recorded payments (FP1): by RRN or reference, then the
    same amount, the same terminal and a time within `window` (the closest wins; each recorded payment
    matches once). An unmatched settled payment gets its reason: `no_order`, `duplicate`,
    `amount_mismatch`, `wrong_terminal` or `outside_window`."""
    by_ref: dict[str, list[Recorded]] = {}
    for r in recorded:
        by_ref.setdefault(r.ref, []).append(r)
    used: set[str] = set()
    result = Result()
    for s in settled:
        candidates = [r for r in by_ref.get(s.rrn, []) + by_ref.get(s.reference, []) if r.key not in used]
        if not candidates:
            seen = any(r.key in used for r in by_ref.get(s.rrn, []) + by_ref.get(s.reference, []))
            result.unmatched.append((s, "duplicate" if seen else "no_order"))
            continue
        exact = [
            r
            for r in candidates
            if r.amount == s.amount and r.terminal == s.terminal and abs(r.at - s.paid_at) <= window
        ]
        if exact:
            best = min(exact, key=lambda r: abs(r.at - s.paid_at))
            used.add(best.key)
            result.matched.append((s, best))
            continue
        first = candidates[0]
        if first.amount != s.amount:
            reason = "amount_mismatch"
        elif first.terminal != s.terminal:
            reason = "wrong_terminal"
        else:
            reason = "outside_window"
        result.unmatched.append((s, reason))
    result.unsettled = [r for r in recorded if r.key not in used]
    return result
