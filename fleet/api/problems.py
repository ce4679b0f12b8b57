"""RFC 9457 problem details: every error the API returns is `application/problem+json`.

A service's refusal (`fleet.errors`) is answered with the status of its kind (STATUS, the one mapping from
the fleet's refusals to HTTP); `Problem` is for the HTTP layer itself (routes and their dependencies).
A handler turns each kind of failure into {type, title, status, detail, instance} (plus `errors` for
validation). An unexpected exception is logged with its traceback and answered with a bare 500 problem:
the client never sees internals.
"""

import logging
import math
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fleet.errors import Refusal

log = logging.getLogger("fleet.api")

MEDIA_TYPE = "application/problem+json"

# A refusal's kind as an HTTP status.
STATUS = {"not_found": 404, "conflict": 409, "invalid": 422, "forbidden": 403, "too_many": 429}


class Problem(Exception):
    """Raise from a route or service: `Problem(404, "device not found", type_="not-found")`."""

    def __init__(self, status: int, detail: str, *, type_: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type_ = type_
        self.extra = extra
        self.headers: dict[str, str] = {}


def problem_response(
    request: Request,
    status: int,
    detail: str | None,
    type_: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"/problems/{type_}" if type_ else "about:blank",
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.url.path,
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, exc.type_, exc.headers or None, **exc.extra)

    @app.exception_handler(Refusal)
    async def _refused(request: Request, exc: Refusal) -> JSONResponse:
        headers = {"Retry-After": str(math.ceil(exc.retry_after))} if exc.retry_after else None
        return problem_response(request, STATUS[exc.kind], exc.detail, exc.type_, headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(request, exc.status_code, str(exc.detail), None, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return problem_response(request, 422, "the request is not valid", "validation", errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "internal error; it has been logged")


# For OpenAPI: the shape of every error response.
PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}
