"""Login, the caller's own identity, and user management (admins only)."""

import math
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from fleet.api.params import Now
from fleet.api.problems import Problem
from fleet.api.ratelimit import client_address
from fleet.auth import tokens
from fleet.auth.deps import Admin, Caller, authenticate, revoke_tokens
from fleet.auth.models import User
from fleet.auth.schemas import PasswordIn, Token, UserIn, UserOut
from fleet.auth.service import create_user, set_password
from fleet.auth.throttle import TooManyLogins

router = APIRouter(tags=["auth"])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        merchant_id=user.merchant_id,  # type: ignore[attr-defined]
        active=user.active,
    )


async def _authenticate(request: Request, username: str, password: str) -> User | None:
    """The user, if the password is theirs; 429 with Retry-After while the account or client must wait."""
    try:
        return await authenticate(username, password, client_address(request), request.app.state.login_throttle)
    except TooManyLogins as e:
        problem = Problem(429, str(e), type_="rate-limited")
        problem.headers = {"Retry-After": str(math.ceil(e.retry_after))}
        raise problem from None


@router.post("/auth/token", response_model=Token)
async def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 password flow: a bearer token for a user's name and password."""
    user = await _authenticate(request, form.username, form.password)
    if user is None:
        problem = Problem(401, "wrong username or password", type_="unauthorized")
        problem.headers = {"WWW-Authenticate": "Bearer"}
        raise problem
    now = datetime.now(UTC)
    return Token(access_token=tokens.issue(request.app.state.token_key, user.username, now, user.token_version))


@router.post("/auth/logout", status_code=204)
async def logout(who: Caller) -> Response:
    """End every session of the caller: its bearer tokens and portal cookies stop working now."""
    await revoke_tokens(who.user_id)
    return Response(status_code=204)


@router.post("/auth/password", response_model=Token, responses={403: {"description": "wrong current password"}})
async def change_password(request: Request, body: PasswordIn, who: Caller) -> Token:
    """Change the caller's own password (the current one is asked again, and throttled like a login).
    Every session of the user ends, this one included; the answer is a fresh token for this one."""
    user = await _authenticate(request, who.username, body.current_password)
    if user is None:
        raise Problem(403, "the current password is wrong", type_="forbidden")
    now = datetime.now(UTC)
    version = await set_password(user, current=body.current_password, new=body.new_password, now=now)
    return Token(access_token=tokens.issue(request.app.state.token_key, user.username, now, version))


@router.get("/auth/me", response_model=UserOut)
async def me(who: Caller) -> UserOut:
    return user_out(await User.get(id=who.user_id))


@router.post("/users", response_model=UserOut, status_code=201)
async def add_user(now: Now, body: UserIn, who: Admin) -> UserOut:
    made = await create_user(
        by=who.username, now=now, username=body.username, password=body.password, role=body.role,
        merchant_id=body.merchant_id,
    )  # fmt: skip
    return user_out(made)


@router.get("/users", response_model=list[UserOut])
async def list_users(who: Admin) -> list[UserOut]:
    return [user_out(u) for u in await User.all().order_by("id")]
