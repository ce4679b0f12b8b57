"""Users: the one way they are made (the API, the CLI and the demo all come here), and a new password."""

import asyncio
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from fleet.audit import service as audit
from fleet.auth import passwords
from fleet.auth.exceptions import BadUser
from fleet.auth.models import Role, User
from fleet.devices.models import Merchant
from fleet.errors import Conflict, Invalid


async def create_user(
    *, by: str, now: datetime, username: str, password: str, role: Role, merchant_id: int | None
) -> User:
    """The one way users are made (API and CLI): a merchant user is bound to exactly one merchant."""
    if role is Role.MERCHANT:
        if merchant_id is None or not await Merchant.exists(id=merchant_id):
            raise BadUser("a merchant user needs an existing merchant_id")
    elif merchant_id is not None:
        raise BadUser("only merchant users belong to a merchant")
    if await User.exists(username=username):
        raise Conflict(f"user {username!r} exists")
    async with in_transaction():
        user = await User.create(
            username=username, password_hash=passwords.hash_password(password), role=role, merchant_id=merchant_id
        )
        await audit.record(
            actor=by, action="user.create", target=f"user:{username}", at=now, merchant_id=merchant_id,
            after={"role": role, "merchant_id": merchant_id},
        )  # fmt: skip
    return user


async def set_password(user: User, *, current: str, new: str, now: datetime) -> int:
    """The user's new password (the caller checked `current`); every session ends. Returns the token
    version a fresh token must carry."""
    if new == current:
        raise Invalid("the new password must differ from the current one")
    digest = await asyncio.to_thread(passwords.hash_password, new)  # 210,000 rounds: off the event loop
    async with in_transaction():
        await User.filter(id=user.id).update(password_hash=digest, token_version=F("token_version") + 1)
        await audit.record(  # that it changed; the password itself never
            actor=user.username, action="user.password", target=f"user:{user.username}", at=now,
            merchant_id=user.merchant_id,  # type: ignore[attr-defined]
        )  # fmt: skip
    return int((await User.get(id=user.id)).token_version)
