"""Who is asking: the principal behind a request, and the object-level scoping every route goes through.

A merchant user sees only their own merchant's things. Another merchant's object answers 404, exactly
like one that does not exist, so ids and serials cannot be probed.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from tortoise.expressions import F
from tortoise.models import Model
from tortoise.queryset import QuerySet

from fleet.api.params import MerchantId, Serial, TicketId
from fleet.api.problems import Problem
from fleet.auth import passwords, tokens
from fleet.auth.models import Role, User
from fleet.auth.throttle import LoginThrottle
from fleet.devices.models import Device, Merchant
from fleet.domain.calendar import DEFAULT_ZONE
from fleet.errors import NotFound
from fleet.ingest.models import Event
from fleet.repairs.models import Ticket

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: Role
    merchant_id: int | None
    zone: str = DEFAULT_ZONE  # the time zone the user's days and times are in: its merchant's, or WIB

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.BIZ_SUPPORT)


def _unauthorized(detail: str) -> Problem:
    problem = Problem(401, detail, type_="unauthorized")
    problem.headers = {"WWW-Authenticate": "Bearer"}
    return problem


async def authenticate(username: str, password: str, client: str, throttle: LoginThrottle) -> User | None:
    """The active user with this name and password, or None; raises TooManyLogins while the account or
    the client must wait (fleet.auth.throttle). An unknown name is hashed against too, so the answer takes
    as long either way; the hashing runs off the event loop (it is 210,000 rounds: every other request
    would wait for it)."""
    throttle.check(username, client)
    user = await User.get_or_none(username=username, active=True)
    stored = user.password_hash if user else passwords.dummy_hash()
    if not await asyncio.to_thread(passwords.verify_password, password, stored) or user is None:
        throttle.failed(username, client)
        return None
    throttle.succeeded(username)
    return user


async def revoke_tokens(user_id: int) -> None:
    """End every session of this user: each token issued so far names an older version."""
    await User.filter(id=user_id).update(token_version=F("token_version") + 1)


async def principal_for(secret: str, token: str | None) -> Principal | None:
    """Who a login token (bearer header or session cookie) names, if it is valid and the user active."""
    named = tokens.holder(secret, token, datetime.now(UTC)) if token else None
    user = await User.get_or_none(username=named[0], active=True).select_related("merchant") if named else None
    if user is None or named is None or named[1] != user.token_version:  # revoked at logout
        return None
    zone = user.merchant.time_zone if user.merchant is not None else DEFAULT_ZONE
    return Principal(user.id, user.username, user.role, user.merchant_id, zone)  # type: ignore[attr-defined]


async def principal(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    if not token:
        raise _unauthorized("log in first: POST /auth/token")
    who = await principal_for(request.app.state.token_key, token)
    if who is None:
        raise _unauthorized("the token is invalid or expired")
    return who


Caller = Annotated[Principal, Depends(principal)]


async def staff(who: Caller) -> Principal:
    if not who.is_staff:
        raise Problem(403, "only Biz Support and admins may do this", type_="forbidden")
    return who


async def admin(who: Caller) -> Principal:
    if who.role is not Role.ADMIN:
        raise Problem(403, "only admins may do this", type_="forbidden")
    return who


Staff = Annotated[Principal, Depends(staff)]
Admin = Annotated[Principal, Depends(admin)]


M = TypeVar("M", bound=Model)


def scoped(query: QuerySet[M], who: Principal, field: str = "merchant_id") -> QuerySet[M]:
    """`query` as the caller may see it: all of it for staff; for a merchant's user, the rows whose
    `field` (the merchant's id, or a path to it such as `device__merchant_id`) is its merchant. The one
    place merchant scoping is written."""
    return query if who.is_staff else query.filter(**{field: who.merchant_id})


async def visible_device(who: Principal, serial: str) -> Device:
    """The device `serial` if the caller may see it; 404 otherwise (also for another merchant's)."""
    device = await scoped(Device.filter(serial=serial), who).first()
    if device is None:
        raise NotFound(f"no device {serial!r}")
    return device


def visible_events(who: Principal, serial: str) -> QuerySet[Event]:
    """A terminal's events the caller may see: every one for staff; for a merchant's user, those stored
    while the terminal was that merchant's (never a previous owner's sales)."""
    return scoped(Event.filter(serial=serial), who)


async def visible_merchant(who: Principal, merchant_id: int) -> Merchant:
    if not who.is_staff and merchant_id != who.merchant_id:
        raise NotFound(f"no merchant {merchant_id}")
    merchant = await Merchant.get_or_none(id=merchant_id)
    if merchant is None:
        raise NotFound(f"no merchant {merchant_id}")
    return merchant


async def visible_ticket(who: Principal, ticket_id: int) -> Ticket:
    """Repair ticket `ticket_id` if the caller may see it; 404 otherwise (also for another merchant's)."""
    row = await scoped(Ticket.filter(id=ticket_id), who).first()
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    return row


# Loader dependencies: a route that names one of these gets the object in its path, already scoped to
# the caller (404 for another merchant's, as for none).


async def _path_device(who: Caller, serial: Serial) -> Device:
    return await visible_device(who, serial)


async def _path_merchant(who: Caller, merchant_id: MerchantId) -> Merchant:
    return await visible_merchant(who, merchant_id)


async def _path_ticket(who: Caller, ticket_id: TicketId) -> Ticket:
    return await visible_ticket(who, ticket_id)


VisibleDevice = Annotated[Device, Depends(_path_device)]
VisibleMerchant = Annotated[Merchant, Depends(_path_merchant)]
VisibleTicket = Annotated[Ticket, Depends(_path_ticket)]
