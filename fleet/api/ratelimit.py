"""A sliding-window rate limit per client, in memory (one service process)."""

import ipaddress
import time
from collections import deque
from collections.abc import Callable
from functools import lru_cache

from starlette.requests import Request

from fleet.settings import get_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache
def trusted_proxies(setting: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip())


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(request: Request) -> str:
    """The caller's address: the key of per-client limits. The peer of the connection, unless that is one
    of FLEET_TRUSTED_PROXIES: then the nearest address in X-Forwarded-For that is not a trusted proxy (a
    client can put anything at the start of that header, never after what its proxy appends)."""
    peer = request.client.host if request.client else "unknown"
    proxies = trusted_proxies(get_settings().trusted_proxies)
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage where an address should be: the proxy's own bucket
    return peer


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
