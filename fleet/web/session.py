"""Browser sessions: the API's JWT in an HttpOnly cookie; CSRF tokens; one-time messages.

CSRF: a logged-in browser's token is an HMAC of its session cookie under the CSRF key (fleet.auth.keys),
so it is bound to that session: a cookie/field pair planted by someone else (from a sibling subdomain,
say) does not pass. Before login (the login form, the customers' pay pages) it is a double submit: a random
cookie that the form must echo. SameSite=Lax keeps other sites' forms from sending the session at all.
Over HTTPS every cookie has the `__Host-` prefix: Secure, path /, no domain, so no other host can set it.

Messages after a redirect ("saved", or why an action was refused) travel in a signed cookie read once,
never in the URL: a link cannot make the portal say anything.
"""

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime

from fastapi import Request, Response

from fleet.auth import tokens
from fleet.auth.deps import Principal, principal_for

SESSION = "fleet_session"
CSRF = "fleet_csrf"
LANG = "fleet_lang"
FLASH = "fleet_flash"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def cookie_name(request: Request, name: str) -> str:
    """The cookie's name on this connection: `__Host-` prefixed over HTTPS."""
    return "__Host-" + name if _secure(request) else name


def _cookie(request: Request, name: str) -> str | None:
    return request.cookies.get(cookie_name(request, name))


def _set(request: Request, response: Response, name: str, value: str, **options: object) -> None:
    response.set_cookie(
        cookie_name(request, name),
        value,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
        **options,  # type: ignore[arg-type]
    )


def _delete(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(cookie_name(request, name), path="/", secure=_secure(request), httponly=True)


def _mac(request: Request, text: str) -> str:
    return hmac.new(request.app.state.csrf_key.encode(), text.encode(), hashlib.sha256).hexdigest()[:43]


# -- CSRF -------------------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The token this browser's forms must carry (see the module)."""
    session = _cookie(request, SESSION)
    if session:
        return _mac(request, "csrf:" + session)
    token = _cookie(request, CSRF) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return str(token)


def remember_csrf(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token and not _cookie(request, CSRF):
        _set(request, response, CSRF, token)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    session = _cookie(request, SESSION)
    expected = _mac(request, "csrf:" + session) if session else _cookie(request, CSRF)
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))


# -- the session ------------------------------------------------------------------------------------------


def start(request: Request, response: Response, username: str, version: int) -> None:
    token = tokens.issue(request.app.state.token_key, username, datetime.now(UTC), version)
    _set(request, response, SESSION, token, max_age=int(tokens.LIFETIME.total_seconds()))


def end(request: Request, response: Response) -> None:
    _delete(request, response, SESSION)


async def current(request: Request) -> Principal | None:
    """The logged-in user of this browser, or None."""
    return await principal_for(request.app.state.token_key, _cookie(request, SESSION))


def language(request: Request) -> str:
    lang = _cookie(request, LANG) or "id"
    return lang if lang in ("id", "en") else "id"


def set_language(request: Request, response: Response, lang: str) -> None:
    _set(request, response, LANG, lang, max_age=365 * 86400)


# -- one-time messages ------------------------------------------------------------------------------------


def flash(request: Request, response: Response, text: str, ok: bool = False) -> None:
    """Show `text` on the next page this browser renders (`ok`: as a success, else as a problem)."""
    payload = base64.urlsafe_b64encode(json.dumps({"text": text[:300], "ok": ok}).encode()).decode()
    _set(request, response, FLASH, payload + "." + _mac(request, "flash:" + payload), max_age=120)


def forget_flash(request: Request, response: Response) -> None:
    """The message was shown (or was forged): the browser drops it."""
    if _cookie(request, FLASH):
        _delete(request, response, FLASH)


def read_flash(request: Request) -> dict[str, object] | None:
    """The message waiting for this page (forged or unreadable ones are ignored); see forget_flash."""
    raw = _cookie(request, FLASH)
    if not raw:
        return None
    payload, _, mac = raw.rpartition(".")
    if not payload or not hmac.compare_digest(mac, _mac(request, "flash:" + payload)):
        return None
    try:
        message = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        return None
    return {"text": message["text"], "ok": bool(message.get("ok"))}
