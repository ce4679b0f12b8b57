"""`fleet warranty|rental|sla|ticket|housekeeping`: the repair workflow from a terminal."""

import argparse
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from fleet.auth.models import Role, User
from fleet.devices.models import Device
from fleet.domain import sla, tickets
from fleet.errors import Forbidden, NotFound, Refusal
from fleet.repairs import service
from fleet.repairs.models import Ticket, TicketTransition
from fleet.workdays import calendar_for


def add_parsers(sub: Any) -> None:
    w = sub.add_parser("warranty", help="warranty of a device on a date (W1-W4)")
    w.add_argument("serial")
    w.add_argument("--on", type=date.fromisoformat, help="YYYY-MM-DD (default today)")
    w.add_argument("--cause", help="defect, wear, dropped, water, negligence")
    w.add_argument("--part", help="mainboard, screen, battery, print_head, cutter, keypad, charger_cable, ...")
    r = sub.add_parser("rental", help="rental status of a device on a date")
    r.add_argument("serial")
    r.add_argument("--on", type=date.fromisoformat)
    s = sub.add_parser("sla", help="the repair due window (S1) for a device type received on a date")
    s.add_argument("device_type", choices=sorted(sla.LEAD_TIMES))
    s.add_argument("--received", type=date.fromisoformat, required=True)
    s.add_argument("--plan", choices=sla.PLANS, default=sla.BASIC, help="the device's service plan")
    t = sub.add_parser("ticket", help="repair tickets: list, show, open, act")
    t.add_argument("verb", choices=("list", "show", "open", "act"))
    t.add_argument("args", nargs="*", help="show ID | open SERIAL | act ID ACTION")
    t.add_argument("--as", dest="user", help="the user doing it (open, act)")
    t.add_argument("--problem", help="what is wrong (open)")
    t.add_argument("--data", default="{}", help='the action\'s details as JSON, e.g. \'{"courier": "jne", ...}\'')
    t.add_argument("--state", help="list: only this state")
    t.add_argument("--overdue", action="store_true", help="list: only those past their latest due date")
    sub.add_parser(
        "housekeeping", help="once: repair suggestions, rental locks, RF1 automatic approvals (tickets, refunds)"
    )


NAMES = ("warranty", "rental", "sla", "ticket", "housekeeping")


def job(args: argparse.Namespace) -> Callable[[], Awaitable[int]]:
    now = datetime.now(UTC)
    return lambda: _run(args, now)


async def _device(serial: str) -> Device:
    device = await Device.get_or_none(serial=serial.upper())
    if device is None:
        raise NotFound(f"{serial}: not registered (W4)")
    return device


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


async def _run(args: argparse.Namespace, now: datetime) -> int:
    try:
        return await _dispatch(args, now)
    except Refusal as e:
        print(f"fleet {args.command}: {e.detail}")
        return 1


async def _dispatch(args: argparse.Namespace, now: datetime) -> int:
    if args.command == "warranty":
        device = await Device.get_or_none(serial=args.serial.upper())
        _print(
            vars(service.warranty_of(device, args.on or await service.device_day(device, now), args.cause, args.part))
        )
        return 0
    if args.command == "rental":
        device = await _device(args.serial)
        _print(vars(service.rental_of(device, args.on or await service.device_day(device, now))))
        return 0
    if args.command == "sla":
        window = sla.repair_window(args.device_type, args.received, calendar_for(args.received), args.plan)
        _print({"received": window.received, "earliest": window.earliest, "latest": window.latest})
        return 0
    if args.command == "housekeeping":
        from fleet import jobs  # the jobs build on repairs, not the reverse

        _print(await jobs.one_round(now, None))
        return 0
    return await _ticket(args, now)


async def _ticket(args: argparse.Namespace, now: datetime) -> int:
    if args.verb == "list":
        query = Ticket.all().select_related("device")
        if args.state:
            query = query.filter(state=args.state)
        for row in await query.order_by("due_latest", "id"):
            late = tickets.sla_overdue(service.to_domain(row, row.device), service.office_day(now))
            if args.overdue and not late:
                continue
            due = f"due {row.due_earliest}..{row.due_latest}" if row.due_latest else "not received"
            print(f"#{row.id:<5} {row.device.serial:<16} {row.state:<20} {due}{'  OVERDUE' if late else ''}")
        return 0
    if args.verb == "show":
        shown = await Ticket.get_or_none(id=int(args.args[0])).select_related("device")
        if shown is None:
            raise NotFound("no such ticket")
        row = shown
        _print({"id": row.id, "serial": row.device.serial, "state": row.state, "detail": row.detail})
        for t in await TicketTransition.filter(ticket_id=row.id).order_by("id"):
            print(f"  {t.at:%Y-%m-%d %H:%M} {t.actor:<12} {t.action:<18} {t.source or '-'} -> {t.target}")
        return 0
    user = await User.get_or_none(username=args.user or "", active=True)
    if user is None:
        raise Forbidden("--as USER: an existing user")
    role = tickets.Role.MERCHANT if user.role is Role.MERCHANT else tickets.Role.BIZ_SUPPORT
    if args.verb == "open":
        device = await _device(args.args[0])
        if role is tickets.Role.MERCHANT and device.merchant_id != user.merchant_id:  # type: ignore[attr-defined]
            raise NotFound(f"{args.args[0]}: not one of your devices")
        row = await service.open_ticket(
            device, problem=args.problem or "no description", opened_by=user.username, now=now
        )
        print(f"opened ticket #{row.id}")
        return 0
    ticket_id, action = int(args.args[0]), args.args[1]
    found = await Ticket.get_or_none(id=ticket_id)
    if found is None or (role is tickets.Role.MERCHANT and found.merchant_id != user.merchant_id):  # type: ignore[attr-defined]
        raise NotFound("no such ticket")
    done = await service.act(found, action=action, role=role, actor=user.username, now=now, data=json.loads(args.data))
    print(f"ticket #{done.id}: {done.state}")
    return 0
