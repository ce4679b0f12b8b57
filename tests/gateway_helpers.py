"""The sandbox payment gateway as its own HTTP service (python -m tools.sandbox_gateway), for tests."""

import time
from collections.abc import Callable
from typing import TypeVar

from tools import sandbox_gateway

API_KEY, SECRET = "sk_test_" + "a" * 24, "whsec_" + "b" * 24
T = TypeVar("T")


def wait(predicate: Callable[[], T], timeout: float = 40, what: str = "") -> T:
    """Poll `predicate` until it returns something true (a payment crossing services takes a moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Gateway(sandbox_gateway.Process):
    """The gateway with the tests' keys, and the fleet settings that point at it."""

    def __init__(self, webhook_url: str) -> None:
        super().__init__(API_KEY, webhook_url, SECRET)

    def env(self) -> dict[str, str]:
        """The fleet's settings for this gateway."""
        return {"FLEET_GATEWAY_URL": self.url, "FLEET_GATEWAY_API_KEY": API_KEY, "FLEET_GATEWAY_WEBHOOK_SECRET": SECRET}
