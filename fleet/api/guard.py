"""Refuses at the door what no route should ever see, and counts it: NUL characters (PostgreSQL text
cannot hold them; SQLite would store them and break every later comparison) and oversized bodies."""

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
