"""Login tokens: short-lived JWTs (HS256) naming the user; roles are read from the database per request."""

from datetime import datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
LIFETIME = timedelta(hours=8)  # one working shift


def issue(secret: str, username: str, now: datetime) -> str:
    claims = {"sub": username, "iat": int(now.timestamp()), "exp": int((now + LIFETIME).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def subject(secret: str, token: str) -> str | None:
    """The username a valid, unexpired token names; None for anything else."""
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) else None
