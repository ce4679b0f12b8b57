"""Commands API: queue a command for a device, follow its status."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path

from fleet.api.params import Limit, Now, Offset
from fleet.api.problems import Problem
from fleet.auth.deps import Caller, VisibleDevice, scoped
from fleet.commands import service
from fleet.commands.models import Command
from fleet.commands.schemas import CommandIn, CommandOut

router = APIRouter(tags=["commands"])

CommandId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[0-9a-f]+$")]


def command_out(cmd: Command, serial: str) -> CommandOut:
    return CommandOut(
        id=cmd.cmd_id,
        serial=serial,
        name=cmd.name,
        args=cmd.args,
        status=str(cmd.status),
        created_at=cmd.created_at,
        expires_at=cmd.expires_at,
        attempts=cmd.attempts,
        last_sent_at=cmd.last_sent_at,
        finished_at=cmd.finished_at,
        error=cmd.error,
        detail=cmd.detail,
        result=cmd.result,
        requested_by=cmd.requested_by,
    )


@router.post("/devices/{serial}/commands", response_model=CommandOut, status_code=202)
async def send_command(now: Now, who: Caller, device: VisibleDevice, body: CommandIn) -> CommandOut:
    """Queue a command; it is sent while the terminal is online and retried until acked or expired."""
    if body.name not in service.API_COMMANDS:
        raise Problem(422, f"unknown command {body.name!r}", type_="bad-command")
    if not who.is_staff and body.name not in service.MERCHANT_COMMANDS:
        raise Problem(403, f"a merchant may not send {body.name!r}", type_="forbidden")
    cmd = await service.enqueue(
        device, body.name, args=body.args, requested_by=who.username, now=now, ttl=timedelta(seconds=body.ttl_seconds)
    )
    return command_out(cmd, device.serial)


@router.get("/devices/{serial}/commands", response_model=list[CommandOut])
async def device_commands(device: VisibleDevice, limit: Limit = 50, offset: Offset = 0) -> list[CommandOut]:
    rows = await Command.filter(device=device).order_by("-id").offset(offset).limit(limit)
    return [command_out(c, device.serial) for c in rows]


@router.get("/commands/{command_id}", response_model=CommandOut)
async def command_detail(command_id: CommandId, who: Caller) -> CommandOut:
    query = scoped(Command.filter(cmd_id=command_id).select_related("device"), who, "device__merchant_id")
    cmd = await query.first()
    if cmd is None:
        raise Problem(404, f"no command {command_id!r}", type_="not-found")
    return command_out(cmd, cmd.device.serial)
