"""Payment providers: one interface, one adapter per kind, all talking HTTP to a gateway exactly as
they would to a real one. The sandbox (tools/sandbox_gateway.py) is the gateway in the demo and tests.

Implemented: the acquirer (QRIS charges by reference, pay-link charges with the gateway's hosted
checkout, cancel, the settlement report), the webhook signature check, and the SMS carrier. Cards: the
terminal's approved reader authorizes with the acquirer's card host over its own link (no card data
reaches the terminal's firmware or the fleet); the card adapter captures each authorization the terminal
reports (token, approval, amount), so it settles and reconciles like any charge. PayLater: the
customer's credit data and charges for the financed amount.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import httpx


class CaptureRefused(ValueError):
    """The acquirer will not capture a card payment: it never authorized that token, amount or terminal."""


class WebhookRefused(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # bad_signature, stale, malformed


class Acquirer(Protocol):
    name: str

    async def create_charge(self, reference: str, amount: int, method: str, terminal: str) -> dict[str, Any]: ...
    async def cancel(self, provider_ref: str) -> None: ...
    async def settlement(self, day: date) -> str: ...
    async def send_sms(self, to: str, text: str) -> None: ...
    async def send_whatsapp(self, to: str, text: str) -> None: ...
    async def paylater_customer(self, phone: str) -> dict[str, Any]: ...
    async def capture_card(
        self, token: str, approval: str, amount: int, reference: str, terminal: str
    ) -> dict[str, Any]: ...
    def verify(self, headers: dict[str, str], body: bytes, now: int) -> None: ...


@dataclass
class SandboxGateway:
    """The QRIS acquirer adapter for the sandbox gateway's API."""

    url: str
    api_key: str
    webhook_secret: str
    window_s: int = 300
    name: str = "sandbox"

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=10)

    async def create_charge(self, reference: str, amount: int, method: str, terminal: str) -> dict[str, Any]:
        async with self._client() as client:
            answer = await client.post(
                "/v1/charges", json={"reference": reference, "amount": amount, "method": method, "terminal": terminal}
            )
            answer.raise_for_status()
            charge: dict[str, Any] = answer.json()
            return charge

    async def cancel(self, provider_ref: str) -> None:
        async with self._client() as client:
            (await client.post(f"/v1/charges/{provider_ref}/cancel")).raise_for_status()

    async def settlement(self, day: date) -> str:
        async with self._client() as client:
            answer = await client.get("/v1/settlements", params={"date": day.isoformat()})
            answer.raise_for_status()
            return answer.text

    async def send_sms(self, to: str, text: str) -> None:
        """The SMS adapter: the gateway's carrier, which serves +62 numbers only (P2)."""
        async with self._client() as client:
            (await client.post("/v1/sms", json={"to": to, "text": text})).raise_for_status()

    async def send_whatsapp(self, to: str, text: str) -> None:
        """The same carrier's WhatsApp messages (+62 numbers only, as SMS)."""
        async with self._client() as client:
            (await client.post("/v1/whatsapp", json={"to": to, "text": text})).raise_for_status()

    async def paylater_customer(self, phone: str) -> dict[str, Any]:
        """The PayLater adapter: the customer's credit limit and payment history."""
        async with self._client() as client:
            answer = await client.get(f"/v1/paylater/customers/{phone}")
            answer.raise_for_status()
            customer: dict[str, Any] = answer.json()
            return customer

    async def capture_card(
        self, token: str, approval: str, amount: int, reference: str, terminal: str
    ) -> dict[str, Any]:
        """The card adapter: capture what the terminal's reader authorized; CaptureRefused when the acquirer
        has no such authorization (404) or one for another amount or terminal (409)."""
        body = {"token": token, "approval": approval, "amount": amount, "reference": reference, "terminal": terminal}
        async with self._client() as client:
            answer = await client.post("/v1/card/captures", json=body)
            if answer.status_code in (404, 409):
                raise CaptureRefused(str(answer.json().get("detail", answer.status_code)))
            answer.raise_for_status()
            charge: dict[str, Any] = answer.json()
            return charge

    def verify(self, headers: dict[str, str], body: bytes, now: int) -> None:
        """HMAC-SHA256 over "{timestamp}.{raw body}", and the timestamp within the replay window."""
        stamp = headers.get("x-sandbox-timestamp", "")
        given = headers.get("x-sandbox-signature", "")
        if not stamp.isdigit() or not given.startswith("v1="):
            raise WebhookRefused("bad_signature")
        mac = hmac.new(self.webhook_secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given, "v1=" + mac):
            raise WebhookRefused("bad_signature")
        if abs(now - int(stamp)) > self.window_s:
            raise WebhookRefused("stale")
