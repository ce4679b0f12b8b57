"""Signed webhooks: an alert posted to a merchant's or the vendor's own system.

The body is JSON; the request carries `X-Fleet-Timestamp` (Unix seconds) and `X-Fleet-Signature`
(`v1=` and the hex HMAC-SHA256 of "{timestamp}.{body}" under the subscription's secret), the scheme the
payment gateway uses for its webhooks, so a receiver checks both the same way and refuses old ones.

A URL a merchant typed must not reach into the fleet's own network: it must be https, and every address
its host resolves to must be public (not loopback, private, link-local, multicast or reserved), checked
at each delivery, unless FLEET_WEBHOOK_PRIVATE_OK allows a closed network. A host that resolves to
another address between the check and the connection (DNS rebinding) is not caught here; a deployment
that cares also routes the service's outbound traffic through a filtering proxy.
"""

import asyncio
import hashlib
import hmac
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from fleet.settings import get_settings

TIMEOUT_S = 10


class UnsafeUrl(ValueError):
    """A webhook URL the fleet will not post to."""


def signature(secret: str, stamp: int, body: bytes) -> str:
    """The `X-Fleet-Signature` of `body` sent at `stamp`."""
    return "v1=" + hmac.new(secret.encode(), str(stamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, headers: dict[str, str], body: bytes, now: int, window_s: int = 300) -> None:
    """What a receiver does with one of these (its own systems may use this very function): the signature
    over the timestamp and the raw body, and the timestamp within `window_s` of `now`, so a captured
    request replayed later is refused. Raises ValueError ("bad_signature" or "stale")."""
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp = lowered.get("x-fleet-timestamp", "")
    if not stamp.isdigit() or not hmac.compare_digest(
        lowered.get("x-fleet-signature", ""), signature(secret, int(stamp), body)
    ):
        raise ValueError("bad_signature")
    if abs(now - int(stamp)) > window_s:
        raise ValueError("stale")


def check_url(url: str) -> None:
    """The URL's form, at subscription time: https (http only where private addresses are allowed)."""
    parts = urlsplit(url)
    allowed = ("https", "http") if get_settings().webhook_private_ok else ("https",)
    if parts.scheme not in allowed or not parts.hostname or len(url) > 254:
        raise UnsafeUrl("a webhook URL is https://host/… (at most 254 characters)")


async def _check_addresses(host: str, port: int) -> None:
    if get_settings().webhook_private_ok:
        return
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise UnsafeUrl(f"{host} resolves to {address}, not a public address")


async def post(url: str, secret: str, body: bytes, stamp: int) -> None:
    """Deliver one webhook; raises when the URL is unsafe or the receiver does not answer 2xx."""
    check_url(url)
    parts = urlsplit(url)
    await _check_addresses(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    headers = {
        "Content-Type": "application/json",
        "X-Fleet-Timestamp": str(stamp),
        "X-Fleet-Signature": signature(secret, stamp, body),
    }
    async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client:
        answer = await client.post(url, content=body, headers=headers)
    if not 200 <= answer.status_code < 300:
        raise RuntimeError(f"the receiver answered {answer.status_code}")
