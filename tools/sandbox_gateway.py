"""A sandbox payment gateway: a separate HTTP service that behaves like a real one, for the fleet's
payment adapters, the demo and the tests.

    python -m tools.sandbox_gateway --port P --api-key K --webhook-url URL --webhook-secret S

Merchant API (Authorization: Bearer K):
    POST /v1/charges            {reference, amount, method, terminal?}: idempotent per reference; a
                                paylater charge is approved and paid by the provider a second later
    GET  /v1/charges/{id}
    POST /v1/charges/{id}/cancel
    GET  /v1/settlements?date=YYYY-MM-DD      the day's settlement report (CSV)
    POST /v1/sms                {to, text}: the SMS adapter's carrier (sandboxed: kept, not sent)
    POST /v1/whatsapp           {to, text}: the same carrier's WhatsApp messages (+62 only, kept)
    GET  /v1/paylater/customers/{phone}       a PayLater customer's credit limit and history
    POST /v1/card/captures      {token, approval, amount, reference, terminal}: capture a card payment the
                                reader authorized (refused when the host never authorized it so); it
                                then settles like any charge, idempotent per reference
Card host (what an approved card reader talks to over its own link; no card data ever reaches the fleet):
    POST /reader/v1/authorizations  {amount, terminal}: approve (or decline an amount ending in 13)
Sandbox controls (what a customer or the network would do):
    POST /sandbox/charges/{id}/pay            the customer pays (even after a cancel: the race is real)
    GET  /sandbox/checkout/{id}               the hosted checkout page a pay link sends the customer to
    GET  /sandbox/sms                          what the SMS carrier "sent"
    GET  /sandbox/whatsapp                     what it "sent" by WhatsApp
    GET  /sandbox/deliveries                   each webhook: its attempts and the receiver's last answer
Webhooks: POST to the webhook URL, JSON {id, type, created, data: {charge}}, signed with
X-Sandbox-Timestamp (unix seconds) and X-Sandbox-Signature = "v1=" + hex HMAC-SHA256(secret,
"{timestamp}.{raw body}"); delivered until the receiver answers 2xx (a few attempts, backing off).
"""

import argparse
import asyncio
import csv
import hashlib
import hmac
import io
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from fleet.broker import free_port

SETTLEMENT_COLUMNS = ("charge_id", "reference", "rrn", "amount", "paid_at", "terminal", "method")
METHODS = ("qris", "paylink", "paylater", "card")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def settlement_csv(rows: Iterable[dict[str, Any]]) -> str:
    """A settlement report in the gateway's format (also used to generate days for tests)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, SETTLEMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in SETTLEMENT_COLUMNS})
    return out.getvalue()


class ChargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=96)
    amount: int = Field(ge=1, le=10**12)
    method: str = Field(pattern="^(" + "|".join(METHODS) + ")$")
    terminal: str | None = Field(default=None, max_length=32)


class CardAuthorizationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=1, le=10**12)
    terminal: str = Field(min_length=1, max_length=32)


class CardCaptureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=64)
    approval: str = Field(min_length=1, max_length=12)
    amount: int = Field(ge=1, le=10**12)
    reference: str = Field(min_length=1, max_length=96)
    terminal: str = Field(min_length=1, max_length=32)


class SmsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(pattern=r"^\+62\d{8,13}$")  # the carrier only serves Indonesian numbers
    text: str = Field(min_length=1, max_length=480)


class Gateway:
    def __init__(
        self, api_key: str, webhook_url: str, webhook_secret: str, attempts: int = 6, paylater_approve_s: float = 1.0
    ) -> None:
        self.api_key = api_key
        self.paylater_approve_s = paylater_approve_s
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.attempts = attempts
        self.charges: dict[str, dict[str, Any]] = {}
        self.by_reference: dict[str, str] = {}
        self.sms: list[dict[str, Any]] = []
        self.whatsapp: list[dict[str, Any]] = []
        self.card_authorizations: dict[str, dict[str, Any]] = {}  # by token
        self.deliveries: list[dict[str, Any]] = []  # (event id, attempts, status) for inspection
        self._tasks: set[asyncio.Task[None]] = set()

    def app(self) -> FastAPI:
        app = FastAPI(title="Sandbox payment gateway")

        def merchant(authorization: str = Header(default="")) -> None:
            if not hmac.compare_digest(authorization, f"Bearer {self.api_key}"):
                raise HTTPException(401, "bad API key")

        auth = [Depends(merchant)]

        @app.post("/v1/charges", status_code=201, dependencies=auth)
        async def create(body: ChargeIn, request: Request) -> dict[str, Any]:
            existing = self.by_reference.get(body.reference)
            if existing:
                charge = self.charges[existing]
                if charge["amount"] != body.amount:
                    raise HTTPException(409, "this reference already has a charge of another amount")
                return charge
            charge_id = "ch_" + secrets.token_hex(8)
            charge = {
                "id": charge_id,
                "reference": body.reference,
                "amount": body.amount,
                "method": body.method,
                "terminal": body.terminal,
                "status": "pending",
                "rrn": None,
                "paid_at": None,
                "created": int(time.time()),
                # Where a customer pays a pay-link charge (the gateway's hosted checkout).
                "checkout_url": str(request.base_url) + f"sandbox/checkout/{charge_id}",
            }
            self.charges[charge_id] = charge
            self.by_reference[body.reference] = charge_id
            if body.method == "paylater":
                # The customer consented with the OTP: the provider approves the financing and pays.
                self._later(self.paylater_approve_s, charge_id)
            return charge

        @app.get("/v1/charges/{charge_id}", dependencies=auth)
        async def get(charge_id: str) -> dict[str, Any]:
            return self._charge(charge_id)

        @app.post("/v1/charges/{charge_id}/cancel", dependencies=auth)
        async def cancel(charge_id: str) -> dict[str, Any]:
            charge = self._charge(charge_id)
            if charge["status"] == "pending":
                charge["status"] = "cancelled"
            return charge

        @app.get("/v1/settlements", dependencies=auth)
        async def settlements(on: date = Query(alias="date")) -> Response:  # noqa: B008
            day = on.isoformat()
            rows = [
                {**c, "charge_id": c["id"]}
                for c in self.charges.values()
                if c["status"] == "succeeded" and c["paid_at"][:10] == day
            ]
            return Response(settlement_csv(rows), media_type="text/csv")

        @app.post("/v1/sms", status_code=202, dependencies=auth)
        async def sms(body: SmsIn) -> dict[str, Any]:
            message = {"id": "sms_" + secrets.token_hex(6), "to": body.to, "text": body.text}
            self.sms.append(message)
            return message

        @app.post("/v1/whatsapp", status_code=202, dependencies=auth)
        async def whatsapp(body: SmsIn) -> dict[str, Any]:
            message = {"id": "wa_" + secrets.token_hex(6), "to": body.to, "text": body.text}
            self.whatsapp.append(message)
            return message

        @app.get("/v1/paylater/customers/{phone}", dependencies=auth)
        async def paylater_customer(phone: str) -> dict[str, Any]:
            """Sandbox credit data: numbers ending in 0 have a bad history, in 9 a small limit."""
            if not phone.startswith("+62"):
                raise HTTPException(404, "PayLater serves Indonesian numbers only")
            limit = 500_000 if phone.endswith("9") else 2_000_000
            return {"phone": phone, "credit_limit": limit, "history_ok": not phone.endswith("0")}

        @app.post("/reader/v1/authorizations", status_code=201)
        async def card_authorize(body: CardAuthorizationIn) -> dict[str, Any]:
            if body.amount % 100 == 13:
                raise HTTPException(402, "declined by the issuer")
            token = "tok_" + secrets.token_hex(8)
            answer = {"token": token, "last4": "4242", "approval": f"{secrets.randbelow(10**6):06d}"}
            self.card_authorizations[token] = {**answer, "amount": body.amount, "terminal": body.terminal}
            return answer

        @app.post("/v1/card/captures", status_code=201, dependencies=auth)
        async def card_capture(body: CardCaptureIn) -> dict[str, Any]:
            existing = self.by_reference.get(body.reference)
            if existing:
                return self.charges[existing]
            authorized = self.card_authorizations.get(body.token)
            if authorized is None or authorized["approval"] != body.approval:
                raise HTTPException(404, "no such authorization")
            if authorized["amount"] != body.amount or authorized["terminal"] != body.terminal:
                raise HTTPException(409, "the authorization was for another amount or terminal")
            if authorized.get("captured"):
                raise HTTPException(409, "already captured under another reference")
            authorized["captured"] = True
            charge_id = "ch_" + secrets.token_hex(8)
            charge = {
                "id": charge_id,
                "reference": body.reference,
                "amount": body.amount,
                "method": "card",
                "terminal": body.terminal,
                "status": "succeeded",
                "rrn": f"{secrets.randbelow(10**12):012d}",
                "paid_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "created": int(time.time()),
            }
            self.charges[charge_id] = charge
            self.by_reference[body.reference] = charge_id
            return charge

        @app.post("/sandbox/charges/{charge_id}/pay")
        async def pay(charge_id: str) -> dict[str, Any]:
            return self._pay(self._charge(charge_id))

        @app.get("/sandbox/checkout/{charge_id}", response_class=HTMLResponse)
        async def checkout(charge_id: str) -> str:
            charge = self._charge(charge_id)
            return (
                f"<!doctype html><title>Sandbox checkout</title><h1>Rp {charge['amount']:,}</h1>".replace(",", ".")
                + f'<p id="status">{charge["status"]}</p><form method="post" action="/sandbox/charges/{charge_id}/pay">'
                '<button id="pay" type="submit">Bayar / Pay</button></form>'
            )

        @app.get("/sandbox/sms")
        async def sent_sms() -> list[dict[str, Any]]:
            return self.sms

        @app.get("/sandbox/whatsapp")
        async def sent_whatsapp() -> list[dict[str, Any]]:
            return self.whatsapp

        @app.get("/sandbox/deliveries")
        async def deliveries() -> list[dict[str, Any]]:
            return self.deliveries

        return app

    def _charge(self, charge_id: str) -> dict[str, Any]:
        charge = self.charges.get(charge_id)
        if charge is None:
            raise HTTPException(404, "no such charge")
        return charge

    def _pay(self, charge: dict[str, Any]) -> dict[str, Any]:
        if charge["status"] == "succeeded":
            return charge
        charge["status"] = "succeeded"
        charge["rrn"] = f"{secrets.randbelow(10**12):012d}"
        charge["paid_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self._deliver({"type": "charge.succeeded", "data": dict(charge)})
        return charge

    def _later(self, delay: float, charge_id: str) -> None:
        async def approve() -> None:
            await asyncio.sleep(delay)
            if self.charges[charge_id]["status"] == "pending":  # not cancelled meanwhile
                self._pay(self.charges[charge_id])

        task = asyncio.create_task(approve())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _deliver(self, event: dict[str, Any]) -> None:
        event = {"id": "evt_" + secrets.token_hex(8), "created": int(time.time()), **event}
        task = asyncio.create_task(self._send(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, event: dict[str, Any]) -> None:
        record = {"event": event["id"], "attempts": 0, "status": None}
        self.deliveries.append(record)
        body = json.dumps(event, separators=(",", ":")).encode()
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in range(self.attempts):
                record["attempts"] = attempt + 1
                now = int(time.time())
                headers = {
                    "Content-Type": "application/json",
                    "X-Sandbox-Timestamp": str(now),
                    "X-Sandbox-Signature": sign(self.webhook_secret, now, body),
                }
                try:
                    answer = await client.post(self.webhook_url, content=body, headers=headers)
                    record["status"] = answer.status_code
                    if 200 <= answer.status_code < 300:
                        return
                except httpx.HTTPError as e:
                    record["status"] = str(e)
                await asyncio.sleep(min(30, 0.5 * 2**attempt))


class Process:
    """This gateway run as its own service (`python -m tools.sandbox_gateway`) on a free port of
    127.0.0.1, as the demo and the tests use it; its output goes to `log` (discarded without one)."""

    def __init__(self, api_key: str, webhook_url: str, webhook_secret: str, log: Path | None = None) -> None:
        self.api_key, self.webhook_url, self.webhook_secret = api_key, webhook_url, webhook_secret
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Process":
        """Start it and wait until it answers."""
        # `--name=value`: a random key may begin with "-", which argparse would take for an option.
        argv = [sys.executable, "-m", "tools.sandbox_gateway", f"--port={self.port}", f"--api-key={self.api_key}"]
        argv += [f"--webhook-url={self.webhook_url}", f"--webhook-secret={self.webhook_secret}"]
        out = self.log.open("wb") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        # A minute: the first start on a fresh machine compiles every module it imports (fastapi, pydantic,
        # uvicorn) before it listens; ten seconds was not always enough there.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/sandbox/sms", timeout=1)
                return self
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the sandbox gateway did not start (its output: {self.log or 'discarded'})")

    def pay(self, charge_id: str) -> dict[str, Any]:
        """What the customer's banking app does: pay the charge."""
        answer = httpx.post(f"{self.url}/sandbox/charges/{charge_id}/pay", timeout=10)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None

    def __enter__(self) -> "Process":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sandbox_gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--webhook-url", required=True, help="where the fleet receives webhooks")
    parser.add_argument("--webhook-secret", required=True)
    args = parser.parse_args(argv)
    gateway = Gateway(args.api_key, args.webhook_url, args.webhook_secret)
    print(f"sandbox gateway on http://{args.host}:{args.port} → webhooks to {args.webhook_url}", flush=True)
    uvicorn.run(gateway.app(), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
