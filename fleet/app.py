"""The FastAPI application factory."""

from typing import Any

from fastapi import FastAPI

import protocol
from fleet import __version__


def create_app() -> FastAPI:
    """Build the app. Routers of the feature packages are mounted here as they arrive."""
    app = FastAPI(title="POS fleet service", version=__version__)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        """Liveness: the process answers, and which wire-contract version it speaks."""
        return {"status": "ok", "version": __version__, "protocol": protocol.VERSION}

    return app
