"""At the door: what no route should ever see is refused and counted (NUL characters, which PostgreSQL
text cannot hold and SQLite would store and break every later comparison; oversized bodies), and what
every response carries is added (SecurityHeaders)."""

import json
from collections import Counter
from http import HTTPStatus
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fleet.api.problems import MEDIA_TYPE

MAX_BODY = 16 * 1024 * 1024


class RequestGuard:
    def __init__(self, app: ASGIApp, counters: Counter[str]) -> None:
        self.app = app
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if b"\x00" in query or b"%00" in query or "\x00" in scope["path"]:
            await self._refuse(scope, send, 400, "nul-character", "the request contains a NUL character")
            return
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await self._refuse(scope, send, 413, "too-large", f"the body exceeds {MAX_BODY} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        headers = dict(scope.get("headers") or [])
        # A media type is case-insensitive (RFC 9110), and Starlette parses a form whatever its case.
        media = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        form = media == b"application/x-www-form-urlencoded"
        if b"\x00" in body or b"\\u0000" in body or (form and b"%00" in body):
            await self._refuse(scope, send, 400, "nul-character", "the request contains a NUL character")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, status: int, kind: str, detail: str) -> None:
        self.counters[f"refused.{kind}"] += 1
        problem: dict[str, Any] = {
            "type": f"/problems/{kind}",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "instance": scope["path"].replace("\x00", ""),
        }
        payload = json.dumps(problem).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def page_policy(nonce: str) -> str:
    """The Content-Security-Policy of a portal page: its own scripts (the inline ones carry `nonce`), no
    framing by other sites, nothing loaded from elsewhere."""
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


# What any other response may do as a document: nothing (JSON is never a page).
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# FastAPI's interactive docs load Swagger UI and ReDoc from their CDN: only framing is forbidden there.
DOCS_POLICY = "frame-ancestors 'none'"
DOCS = ("/docs", "/redoc")


class SecurityHeaders:
    """Adds to every response what browsers should hold it to, unless the route set its own policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = (DOCS_POLICY if str(scope["path"]).startswith(DOCS) else OTHER_POLICY).encode()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", policy),
                ]
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
