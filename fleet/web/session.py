"""Browser sessions: the API's JWT in an HttpOnly cookie, and CSRF protection by double submit (a random
cookie that every form must echo in a hidden field; SameSite=Lax keeps other sites' forms from sending
the session along at all)."""

import hmac
import secrets
from datetime import UTC, datetime

from fastapi import Request, Response

from fleet.auth import tokens
from fleet.auth.deps import Principal, principal_for

SESSION = "fleet_session"
CSRF = "fleet_csrf"
LANG = "fleet_lang"


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on first use and set as a cookie by `remember_csrf`)."""
    token = request.cookies.get(CSRF) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return str(token)


def remember_csrf(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token and not request.cookies.get(CSRF):
        response.set_cookie(CSRF, token, httponly=True, samesite="lax", secure=_secure(request))


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(CSRF)
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start(request: Request, response: Response, username: str, version: int) -> None:
    token = tokens.issue(request.app.state.token_key, username, datetime.now(UTC), version)
    response.set_cookie(
        SESSION,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=int(tokens.LIFETIME.total_seconds()),
    )


def end(response: Response) -> None:
    response.delete_cookie(SESSION)


async def current(request: Request) -> Principal | None:
    """The logged-in user of this browser, or None."""
    return await principal_for(request.app.state.token_key, request.cookies.get(SESSION))


def language(request: Request) -> str:
    lang = request.cookies.get(LANG, "id")
    return lang if lang in ("id", "en") else "id"
