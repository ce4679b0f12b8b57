"""Login tokens: short-lived JWTs (HS256) naming the user; roles are read from the database per request."""

from datetime import datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
LIFETIME = timedelta(hours=8)  # one working shift


def issue(secret: str, username: str, now: datetime, version: int = 0) -> str:
    claims = {"sub": username, "iat": int(now.timestamp()), "exp": int((now + LIFETIME).timestamp()), "ver": version}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def subject(secret: str, token: str, now: datetime) -> str | None:
    """The username a token names if it is signed with `secret` and unexpired at `now`; else None."""
    named = holder(secret, token, now)
    return named[0] if named else None


def holder(secret: str, token: str, now: datetime) -> tuple[str, int] | None:
    """(username, token version) of a token signed with `secret` and unexpired at `now`; else None."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"], "verify_exp": False}
        )
    except jwt.PyJWTError:
        return None
    sub, exp, version = claims.get("sub"), claims.get("exp"), claims.get("ver", 0)
    if not isinstance(sub, str) or type(exp) is not int or exp <= now.timestamp() or type(version) is not int:
        return None
    return sub, version
