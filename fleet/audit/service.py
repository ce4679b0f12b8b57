"""Recording and reading the audit trail: the one mechanism every change goes through.

A service that changes something calls `record` in the same transaction, with the actor it was given
(the API's and the portal's user, the CLI's `--as` or "cli", "terminal <serial>" for what a terminal
asked, "system (…)" for the periodic jobs). Values are stored as JSON: dates and times as ISO text,
secrets never (a password or a credential is recorded as changed, not as its value).
"""

from datetime import date, datetime
from enum import Enum
from typing import Any

from tortoise.queryset import QuerySet

from fleet.audit.models import AuditEntry
from fleet.auth.deps import Principal, scoped


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def record(
    *,
    actor: str,
    action: str,
    target: str,
    at: datetime,
    merchant_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """One change: `actor` did `action` to `target` at `at` (values that changed, before and after)."""
    return await AuditEntry.create(
        at=at,
        actor=actor[:80],
        action=action[:40],
        target=target[:80],
        merchant_id=merchant_id,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )


def listed(
    who: Principal,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """The entries the caller may see (a merchant's users: those about their merchant's things), newest
    first, filtered: an actor, an action or the start of one (`ticket.`), a target, a time range."""
    query = scoped(AuditEntry.all(), who)
    if actor:
        query = query.filter(actor=actor)
    if action:
        query = query.filter(action__startswith=action) if action.endswith(".") else query.filter(action=action)
    if target:
        query = query.filter(target=target)
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    return query.order_by("-at", "-id")
