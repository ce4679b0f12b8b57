"""Login throttling: failed logins slow down per account and per client, with growing delays.

An account that fails FREE_FAILURES times in a row is refused for a delay that doubles with each further
failure (1 s, 2 s, 4 s, ... up to MAX_DELAY_S), its right password included, until the delay has passed;
a success clears it. A client address gets CLIENT_FAILURES failures per window over all accounts, so one
client cannot walk through many accounts either. In memory, per service process.
"""

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 5
MAX_DELAY_S = 900.0
CLIENT_FAILURES = 30
CLIENT_WINDOW_S = 900.0
MAX_TRACKED = 50_000


class TooManyLogins(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass
class _Account:
    failures: int = 0
    until: float = 0.0  # refused before this time


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._accounts: dict[str, _Account] = {}
        self._clients: dict[str, deque[float]] = {}

    def check(self, username: str, client: str) -> None:
        """Raise TooManyLogins while this account or this client must wait."""
        now = self.clock()
        account = self._accounts.get(username.lower())
        wait = account.until - now if account else 0.0
        failures = self._recent(client, now)
        if len(failures) >= CLIENT_FAILURES:
            wait = max(wait, failures[0] + CLIENT_WINDOW_S - now)
        if wait > 0:
            raise TooManyLogins(wait)

    def failed(self, username: str, client: str) -> None:
        now = self.clock()
        account = self._accounts.setdefault(username.lower(), _Account())
        account.failures += 1
        if account.failures >= FREE_FAILURES:
            account.until = now + min(MAX_DELAY_S, 2.0 ** (account.failures - FREE_FAILURES))
        self._recent(client, now).append(now)
        if len(self._accounts) + len(self._clients) > MAX_TRACKED:  # forget what has cooled down
            self._accounts = {k: a for k, a in self._accounts.items() if a.until > now or a.failures < FREE_FAILURES}
            self._clients = {k: v for k, v in self._clients.items() if v and v[-1] > now - CLIENT_WINDOW_S}

    def succeeded(self, username: str) -> None:
        self._accounts.pop(username.lower(), None)

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._clients.setdefault(client, deque())
        while failures and failures[0] <= now - CLIENT_WINDOW_S:
            failures.popleft()
        return failures
