"""The sandbox payment gateway as its own HTTP service (python -m tools.sandbox_gateway), for tests."""

import subprocess
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from tools.mosquitto import free_port

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


class Gateway:
    def __init__(self, webhook_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.webhook_url = webhook_url
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        """The fleet's settings for this gateway."""
        return {"FLEET_GATEWAY_URL": self.url, "FLEET_GATEWAY_API_KEY": API_KEY, "FLEET_GATEWAY_WEBHOOK_SECRET": SECRET}

    def start(self) -> "Gateway":
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "tools.sandbox_gateway", "--port", str(self.port)),
                *("--api-key", API_KEY, "--webhook-url", self.webhook_url, "--webhook-secret", SECRET),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(100):
            try:
                httpx.get(f"{self.url}/sandbox/sms", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the sandbox gateway did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def __enter__(self) -> "Gateway":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
