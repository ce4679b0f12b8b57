"""The command queue: enqueue (validated by the protocol), what is due to send, acks, expiry.

Time is a parameter everywhere; the dispatcher and the ingest worker pass the clock in.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from fleet.audit import service as audit
from fleet.commands.exceptions import BadCommand
from fleet.commands.models import OPEN, Command, CommandStatus
from fleet.devices.models import Device
from protocol import ack, command
from protocol.errors import ProtocolError

DEFAULT_TTL = timedelta(hours=24)
MAX_TTL = timedelta(days=30)
# What a merchant may ask of their own terminal; locking, config and the clock are the vendor's.
MERCHANT_COMMANDS = frozenset({command.PING, command.REPRINT})
# Payment confirmations come from the payments backend only, never through the commands API.
API_COMMANDS = frozenset(set(command.NAMES) - {command.PAY_CONFIRM})


def message(cmd: Command, serial: str, now: datetime) -> dict[str, Any]:
    """The wire message for `cmd`."""
    return command.build(serial, int(now.timestamp()), cmd.cmd_id, cmd.name, cmd.args, int(cmd.expires_at.timestamp()))


async def enqueue(
    device: Device,
    name: str,
    *,
    args: dict[str, Any],
    requested_by: str,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
) -> Command:
    """Queue a command for `device`; a command the protocol would refuse is refused here (422)."""
    if not timedelta(seconds=1) <= ttl <= MAX_TTL:
        raise BadCommand("ttl must be between 1 second and 30 days")
    cmd = Command(
        cmd_id=uuid.uuid4().hex,
        device=device,
        name=name,
        args=args,
        created_at=now,
        expires_at=now + ttl,
        requested_by=requested_by,
    )
    try:
        command.validate(message(cmd, device.serial, now))
    except ProtocolError as e:
        raise BadCommand(f"not a valid {name!r} command: {e}", field=e.field) from e
    async with in_transaction():
        await cmd.save()
        await audit.record(
            actor=requested_by,
            action="command.sent",
            target=f"device:{device.serial}",
            at=now,
            merchant_id=device.merchant_id,  # type: ignore[attr-defined]
            after={"command": name, "id": cmd.cmd_id, "args": args, "expires": cmd.expires_at},
        )
    return cmd


async def due(now: datetime, retry_after: timedelta, limit: int = 200) -> list[Command]:
    """Commands to publish now: pending ones, and sent ones unacked for `retry_after`, of online devices."""
    live = Command.filter(device__online=True, expires_at__gt=now).select_related("device")
    pending = await live.filter(status=CommandStatus.PENDING).order_by("id").limit(limit)
    stale = (
        await live.filter(status=CommandStatus.SENT, last_sent_at__lte=now - retry_after).order_by("id").limit(limit)
    )
    return pending + stale


async def mark_sent(cmd: Command, now: datetime) -> None:
    # Only while still open: an ack may have landed between `due` and now.
    await Command.filter(id=cmd.id, status__in=OPEN).update(
        status=CommandStatus.SENT, attempts=cmd.attempts + 1, last_sent_at=now
    )


async def expire(now: datetime) -> int:
    """Open commands past their expiry become expired; returns how many."""
    return await Command.filter(status__in=OPEN, expires_at__lte=now).update(
        status=CommandStatus.EXPIRED, finished_at=now, error="expired", detail="not acknowledged before it expired"
    )


async def record_ack(serial: str, msg: dict[str, Any], now: datetime) -> bool:
    """Apply a terminal's ack. Only the addressed device can close its command; duplicates change nothing."""
    cmd = await Command.get_or_none(cmd_id=msg["id"], device__serial=serial)
    if cmd is None or cmd.status not in OPEN:
        return False
    if msg["ok"]:
        status = CommandStatus.ACKED
    elif msg.get("error") == ack.EXPIRED:
        status = CommandStatus.EXPIRED
    else:
        status = CommandStatus.FAILED
    updated = await Command.filter(id=cmd.id, status__in=OPEN).update(
        status=status, finished_at=now, error=msg.get("error"), detail=msg.get("detail"), result=msg.get("result")
    )
    return bool(updated)
