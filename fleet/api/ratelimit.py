"""A sliding-window rate limit per client, in memory (one service process)."""

import time
from collections import deque
from collections.abc import Callable

from starlette.requests import Request


def client_address(request: Request) -> str:
    """The caller's address: the key of per-client limits."""
    return request.client.host if request.client else "unknown"


class RateLimiter:
    def __init__(self, limit: int, per_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.per = per_seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> float:
        """0 when `client` may go ahead now (and counts the hit); else seconds to wait."""
        now = self.clock()
        hits = self._hits.setdefault(client, deque())
        while hits and hits[0] <= now - self.per:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.per - now
        hits.append(now)
        if len(self._hits) > 10_000:  # forget idle clients so the table cannot grow without bound
            for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.per]:
                del self._hits[key]
        return 0.0
