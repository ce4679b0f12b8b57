"""The FastAPI application factory."""

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

import protocol
from fleet import __version__
from fleet.alerts.routes import router as alerts_router
from fleet.api import problems
from fleet.api.guard import RequestGuard, SecurityHeaders
from fleet.api.ratelimit import RateLimiter
from fleet.audit.routes import router as audit_router
from fleet.auth import keys
from fleet.auth.routes import router as auth_router
from fleet.auth.throttle import LoginThrottle
from fleet.commands.routes import router as commands_router
from fleet.devices.routes import router as devices_router
from fleet.ingest.models import QuarantinedMessage
from fleet.ingest.routes import router as ingest_router
from fleet.notifications import service as notifications
from fleet.notifications.routes import router as notifications_router
from fleet.payments import checkout
from fleet.payments.routes import router as payments_router
from fleet.repairs.routes import PUBLIC_CHECKS_PER_MINUTE
from fleet.repairs.routes import router as repairs_router
from fleet.web import pages

# Routes anyone may call without logging in; every other route needs a token (tests/fleet/api/test_api_authz.py).
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/healthz"),
        ("POST", "/auth/token"),
        ("POST", "/public/warranty-check"),
        ("POST", "/payments/webhooks/sandbox"),  # authenticated by its HMAC signature instead
    }
)


def api_routes(routes: list[Any], prefix: str = "", pages: bool = False) -> list[tuple[str, str]]:
    """(method, path) of every API route (or, with `pages`, every HTML page), through included routers
    too: the route tables the authorization tests walk."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            if route.include_in_schema != pages:
                found += [(method, prefix + route.path) for method in sorted(route.methods or ())]
        elif hasattr(route, "original_router"):  # FastAPI's included router
            context = getattr(route, "include_context", None)
            inner = prefix + str(getattr(context, "prefix", "") or "")
            found += api_routes(route.original_router.routes, inner, pages)
    return found


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    jwt_secret: str,
    lifespan: Any = None,
    clock: Callable[[], datetime] = _utc_now,
    acquirer: Any = None,
) -> FastAPI:
    """Build the app. `jwt_secret` is the service secret (the keys of tokens, CSRF and OTPs are derived
    from it: fleet.auth.keys); `lifespan` runs the service's background parts; `clock` is the time the
    app's rules are given (tests pass a fixed one); `acquirer` is the payment gateway adapter (None:
    payments are off)."""
    app = FastAPI(
        title="POS fleet service",
        version=__version__,
        lifespan=lifespan,
        responses={
            422: {
                "description": "invalid request",
                "content": {problems.MEDIA_TYPE: {"schema": problems.PROBLEM_SCHEMA}},
            },
        },
    )
    # One key per purpose, derived from the service secret (fleet.auth.keys); the secret itself keys nothing.
    app.state.token_key = keys.derive(jwt_secret, keys.TOKENS)
    app.state.csrf_key = keys.derive(jwt_secret, keys.CSRF)
    app.state.otp_key = keys.derive(jwt_secret, keys.OTP)
    app.state.clock = clock
    app.state.acquirer = acquirer
    app.state.counters = Counter()  # refused requests, by reason
    app.state.public_limiter = RateLimiter(PUBLIC_CHECKS_PER_MINUTE, 60)
    app.state.login_throttle = LoginThrottle()
    app.add_middleware(RequestGuard, counters=app.state.counters)
    app.add_middleware(SecurityHeaders)  # outermost: refusals at the door carry the headers too
    problems.install(app)

    @app.get("/healthz", tags=["ops"], responses={503: {"description": "degraded: nothing is being ingested"}})
    async def healthz() -> JSONResponse:
        """Health: the wire-contract version, refused requests and, with the service running, the ingest
        (workers alive and connected, restarts, last batch stored, malformed and quarantined messages) and
        the periodic jobs (alive, leading or standing by, the last round).
        503 with status "degraded" while no ingest worker is alive and connected to the broker."""
        health: dict[str, Any] = {
            "status": "ok",
            "version": __version__,
            "protocol": protocol.VERSION,
            "refused_requests": dict(app.state.counters),
        }
        service = getattr(app.state, "service", None)
        if service is not None and service.requests is not None:  # terminals' PayLater requests, by outcome
            health["terminal_requests"] = dict(service.requests.counters)
        if service is not None:
            ingest = service.ingest_health()
            try:
                ingest["quarantined_total"] = await QuarantinedMessage.all().count()
            except Exception:  # the database is away: that is what health must say, not a 500
                ingest["ok"], ingest["database"] = False, "unreachable"
            health["ingest"] = ingest
            if not ingest["ok"]:
                health["status"] = "degraded"
            health["jobs"] = service.jobs_health()  # a jobs process down does not stop sales: not degraded
        try:  # messages waiting and channels failing (a channel down does not degrade the service)
            health["notifications"] = await notifications.health()
        except Exception:
            health["notifications"] = {"database": "unreachable"}
        return JSONResponse(health, status_code=200 if health["status"] == "ok" else 503)

    routers = (
        auth_router,
        devices_router,
        ingest_router,
        commands_router,
        repairs_router,
        payments_router,
        alerts_router,
        notifications_router,
        audit_router,
    )
    for router in (*routers, pages.router, checkout.router):
        app.include_router(router)
    pages.install(app)
    return app
