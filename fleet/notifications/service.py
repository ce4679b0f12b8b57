"""Sending what the outbox holds: with retries and backoff, never failing the request that caused it.

`enqueue` writes the message in the caller's transaction (it is sent only if the change commits);
`deliver` tries the given messages now and records how it went, whatever the channel does; the service's
job (`send_due`, every few seconds) retries what failed, with a growing delay, and gives up after
MAX_ATTEMPTS, marking the message failed with its reason. `health` is what /healthz shows.
"""

import asyncio
import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from fleet.alerts.models import Subscription  # a webhook's key lives with its subscription
from fleet.audit import service as audit
from fleet.errors import Conflict
from fleet.notifications import webhooks
from fleet.notifications.models import FAILED, QUEUED, SENT, Notification
from fleet.payments.gateway import Acquirer
from fleet.settings import get_settings

log = logging.getLogger("fleet.notifications")

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)
SEND_TIMEOUT_S = 10
CLAIM_FOR = timedelta(minutes=2)  # longer than any one try (SEND_TIMEOUT_S + 5)
EMAIL, SMS, WHATSAPP, WEBHOOK = "email", "sms", "whatsapp", "webhook"
CHANNELS = (EMAIL, SMS, WHATSAPP, WEBHOOK)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 10 s, 20 s, 40 s, … up to an hour."""
    delay: timedelta = FIRST_RETRY * 2 ** max(0, attempts - 1)
    return min(delay, LONGEST_WAIT)


async def enqueue(
    cause: str, now: datetime, *, email: str | None = None, phone: str | None = None, subject: str, text: str
) -> list[Notification]:
    """Queue `text` to `email` and/or `phone` (SMS only to +62 numbers: P2); call it inside the
    transaction of the change that causes the message."""
    rows = []
    if email:
        rows.append(
            await Notification.create(
                channel=EMAIL,
                recipient=email,
                subject=subject[:200],
                body=text,
                cause=cause,
                next_at=now,
                created_at=now,
            )
        )
    if phone and phone.startswith("+62"):
        rows.append(
            await Notification.create(
                channel=SMS, recipient=phone, body=text[:480], cause=cause, next_at=now, created_at=now
            )
        )
    return rows


async def enqueue_to(
    cause: str,
    *,
    channel: str,
    recipient: str,
    subject: str,
    text: str,
    now: datetime,
    not_before: datetime | None = None,
    subscription_id: int | None = None,
) -> Notification:
    """Queue one message on one channel (an alert subscription's), to go at `not_before` at the earliest
    (the end of quiet hours); call it inside the transaction of the change that causes it."""
    return await Notification.create(
        channel=channel,
        recipient=recipient,
        subject=subject[:200],
        body=text[:480] if channel in (SMS, WHATSAPP) else text,  # a text message's length; email and webhook whole
        cause=cause,
        next_at=max(now, not_before) if not_before else now,
        created_at=now,
        subscription_id=subscription_id,
    )


def _send_email(to: str, subject: str, body: str) -> None:
    settings = get_settings()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, to, subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SEND_TIMEOUT_S) as smtp:
        smtp.send_message(message)


async def _send(row: Notification, acquirer: Acquirer | None, now: datetime) -> None:
    if row.channel == EMAIL:
        await asyncio.wait_for(asyncio.to_thread(_send_email, row.recipient, row.subject, row.body), SEND_TIMEOUT_S + 5)
    elif row.channel in (SMS, WHATSAPP):
        if acquirer is None:
            raise RuntimeError("no message carrier: payments are off on this service")
        send = acquirer.send_sms if row.channel == SMS else acquirer.send_whatsapp
        await asyncio.wait_for(send(row.recipient, row.body), SEND_TIMEOUT_S)
    elif row.channel == WEBHOOK:
        found = await Subscription.get_or_none(id=row.subscription_id) if row.subscription_id else None
        if found is None or not found.secret:
            raise RuntimeError("the webhook's subscription is gone")
        body = row.body.encode()
        await asyncio.wait_for(
            webhooks.post(row.recipient, found.secret, body, int(now.timestamp())), SEND_TIMEOUT_S + 5
        )
    else:
        raise RuntimeError(f"unknown channel {row.channel!r}")


async def _claim(row: Notification, now: datetime) -> bool:
    """Take the message for this try, or learn that another try (the request's, or the job's on this or
    another process) has it: one conditional update on its attempt count, so exactly one wins. The claim
    holds it for CLAIM_FOR; a process that dies mid-send leaves it to be tried again after that (a message
    may then go twice, never none)."""
    taken = await Notification.filter(id=row.id, status=QUEUED, attempts=row.attempts, next_at__lte=now).update(
        attempts=row.attempts + 1, next_at=now + CLAIM_FOR
    )
    return bool(taken)


async def deliver(rows: Iterable[Notification], acquirer: Acquirer | None, now: datetime) -> None:
    """Try each message now, unless another try has it; a channel that fails is recorded on the row (and
    retried later), never raised."""
    for row in rows:
        if not await _claim(row, now):
            continue
        row.attempts += 1
        try:
            await _send(row, acquirer, now)
        except Exception as e:  # the channel is down or refuses: the job tries again
            row.last_error = f"{type(e).__name__}: {e}"[:300]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = FAILED
                log.error("notification %d by %s given up: %s", row.id, row.channel, row.last_error)
            else:
                row.next_at = now + retry_delay(row.attempts)
        else:
            row.status, row.sent_at, row.last_error = SENT, now, None
        await row.save(update_fields=["attempts", "status", "next_at", "last_error", "sent_at"])


async def send_due(acquirer: Acquirer | None, now: datetime, batch: int = 50) -> int:
    """The job: send what is queued and due; returns how many were tried."""
    rows = await Notification.filter(status=QUEUED, next_at__lte=now).order_by("next_at", "id").limit(batch)
    await deliver(rows, acquirer, now)
    return len(rows)


async def states(cause: str) -> list[dict[str, Any]]:
    """The messages of one cause, for showing where the cause is shown (a pay link: "queued", "sent")."""
    rows = await Notification.filter(cause=cause).order_by("id")
    return [
        {"channel": r.channel, "status": r.status, "attempts": r.attempts, "last_error": r.last_error} for r in rows
    ]


def listed(*, status: str | None = None, cause: str | None = None) -> QuerySet[Notification]:
    """The outbox for Biz Support, newest first: one status, or the messages of causes starting `cause`."""
    query = Notification.all()
    if status:
        query = query.filter(status=status)
    if cause:
        query = query.filter(cause__startswith=cause)
    return query.order_by("-id")


async def retry(row: Notification, *, by: str, now: datetime) -> Notification:
    """Put a message the job gave up on back in the queue, due now, with its tries counted afresh (the
    channel was fixed)."""
    if row.status != FAILED:
        raise Conflict(f"the message is {row.status}; only a failed one is sent again")
    row.status, row.attempts, row.next_at = QUEUED, 0, now
    async with in_transaction():
        await row.save(update_fields=["status", "attempts", "next_at"])
        await audit.record(
            actor=by, action="notification.retry", target=f"notification:{row.id}", at=now,
            before={"status": FAILED, "last_error": row.last_error}, after={"status": QUEUED},
        )  # fmt: skip
    return row


async def health() -> dict[str, Any]:
    """What /healthz shows: messages waiting, and the channels whose last tries failed."""
    queued = await Notification.filter(status=QUEUED).count()
    failing = await Notification.filter(status=QUEUED, attempts__gt=0).values_list("channel", flat=True)
    failed = await Notification.filter(status=FAILED).count()
    by_channel: dict[str, int] = {}
    for channel in failing:
        by_channel[str(channel)] = by_channel.get(str(channel), 0) + 1
    return {"queued": queued, "retrying": by_channel, "failed": failed}
