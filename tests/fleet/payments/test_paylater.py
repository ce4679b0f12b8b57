"""P4 PayLater through the fleet's API, against the sandbox gateway as its own HTTP service (SQLite and
PostgreSQL): the OTP by SMS (wrong, right, locked, rate-limited), tenors within the credit limit, a down
payment above it, a refusal for a bad history, and the charge for the financed amount."""

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fleet.devices.models import Merchant
from fleet.payments.gateway import SandboxGateway
from fleet.payments.models import Charge
from tests.api_helpers import fleet_api, login
from tests.gateway_helpers import API_KEY, SECRET, Gateway

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_paylater_offer_otp_and_charge(database_url):
    with Gateway("http://127.0.0.1:9/unused") as gateway:
        acquirer = SandboxGateway(gateway.url, API_KEY, SECRET)
        asyncio.run(_scenario(database_url, acquirer, gateway.url))


def test_the_deadline_is_the_merchants_own_auto_cancel_window(database_url):
    """P4: "the deadline to pay follows the auto-cancel window set in TokoAdmin": the merchant sets it
    (PATCH /merchants/{id}, its own only, within bounds) and the next offer's deadline follows it."""
    with Gateway("http://127.0.0.1:9/unused") as gateway:
        acquirer = SandboxGateway(gateway.url, API_KEY, SECRET)
        asyncio.run(_deadline_scenario(database_url, acquirer, gateway.url))


async def _deadline_scenario(url: str, acquirer: SandboxGateway, gateway_url: str) -> None:
    async with fleet_api(url, clock=lambda: NOW, acquirer=acquirer) as (client, seed):
        owner = await login(client, "merchant_a")
        mine, theirs = seed.merchants["A"], seed.merchants["B"]
        assert (await client.get(f"/merchants/{mine}", headers=owner)).json()["auto_cancel_minutes"] == 30
        for bad in (0, 4, 7 * 24 * 60 + 1, "soon"):
            refused = await client.patch(f"/merchants/{mine}", json={"auto_cancel_minutes": bad}, headers=owner)
            assert refused.status_code == 422, bad
        other = await client.patch(f"/merchants/{theirs}", json={"auto_cancel_minutes": 5}, headers=owner)
        assert other.status_code == 404 and (await Merchant.get(id=theirs)).auto_cancel_minutes == 30
        set_ = await client.patch(f"/merchants/{mine}", json={"auto_cancel_minutes": 90}, headers=owner)
        assert set_.status_code == 200 and set_.json()["auto_cancel_minutes"] == 90
        phone = "+6281234567893"
        order = {"serial": "TKM-A000", "receipt": "V00-000043", "amount": 100_000, "phone": phone}
        session = (await client.post("/paylater/sessions", json=order, headers=owner)).json()
        answer = await client.post(
            f"/paylater/sessions/{session['id']}/otp", json={"code": latest_code(gateway_url, phone)}, headers=owner
        )
        offer = answer.json()["offer"]
        assert datetime.fromisoformat(offer["deadline"]) == NOW + timedelta(minutes=90)


def latest_code(gateway_url: str, phone: str) -> str:
    sent = [m for m in httpx.get(f"{gateway_url}/sandbox/sms").json() if m["to"] == phone]
    found = re.search(r"\b(\d{6})\b", sent[-1]["text"])
    assert found, sent
    return found.group(1)


async def _scenario(url: str, acquirer: SandboxGateway, gateway_url: str) -> None:
    async with fleet_api(url, acquirer=acquirer) as (client, _seed):
        cashier = await login(client, "merchant_a")
        order = {"serial": "TKM-A000", "receipt": "V00-000042", "amount": 2_750_000}

        async def start(phone: str) -> dict:
            answer = await client.post("/paylater/sessions", json=order | {"phone": phone}, headers=cashier)
            assert answer.status_code == 201, answer.text
            return answer.json()

        foreign = await client.post("/paylater/sessions", json=order | {"phone": "+15551234567"}, headers=cashier)
        assert foreign.status_code == 422 and foreign.json()["rule"] == "P4"

        phone = "+6281234567891"
        session = await start(phone)
        path = f"/paylater/sessions/{session['id']}"
        code = latest_code(gateway_url, phone)
        wrong = "000000" if code != "000000" else "111111"
        assert (await client.post(f"{path}/otp", json={"code": wrong}, headers=cashier)).json()["outcome"] == "wrong"
        early = await client.post(f"{path}/confirm", json={"tenor_months": 3}, headers=cashier)
        assert early.status_code == 409  # no offer before the OTP
        offered = (await client.post(f"{path}/otp", json={"code": code}, headers=cashier)).json()
        assert offered["outcome"] == "ok" and offered["status"] == "offered"
        offer = offered["offer"]
        # P4: limit Rp 2.000.000, order Rp 2.750.000: Rp 750.000 down, the rest financed.
        assert (offer["down_payment"], offer["financed"]) == (750_000, 2_000_000)
        assert [p["tenor_months"] for p in offer["plans"]] == [1, 3, 6, 12]
        replay = await client.post(f"{path}/otp", json={"code": code}, headers=cashier)
        assert replay.json()["outcome"] == "used"
        bad_tenor = await client.post(f"{path}/confirm", json={"tenor_months": 5}, headers=cashier)
        assert bad_tenor.status_code == 422
        done = (await client.post(f"{path}/confirm", json={"tenor_months": 6}, headers=cashier)).json()
        assert done["status"] == "confirmed" and done["tenor_months"] == 6
        charge = httpx.get(
            f"{gateway_url}/v1/charges/{done['charge_ref']}", headers={"Authorization": f"Bearer {API_KEY}"}
        ).json()
        assert (charge["method"], charge["amount"], charge["status"]) == ("paylater", 2_000_000, "pending")
        followed = await Charge.get(provider_ref=done["charge_ref"])
        assert (followed.method, followed.amount, followed.terminal_state) == ("paylater", 2_000_000, "waiting")

        # A customer with a bad history is refused after the OTP (P4).
        bad = "+6281234567890"
        refused_session = await start(bad)
        refused = await client.post(
            f"/paylater/sessions/{refused_session['id']}/otp",
            json={"code": latest_code(gateway_url, bad)},
            headers=cashier,
        )
        assert refused.json()["status"] == "refused" and "history" in refused.json()["offer"]["reason"]

        # Three wrong codes lock the session; more than three codes in 15 minutes are refused.
        locked = await start(bad)
        outcomes = [
            (
                await client.post(f"/paylater/sessions/{locked['id']}/otp", json={"code": "999999"}, headers=cashier)
            ).json()["outcome"]
            for _ in range(3)
        ]
        assert outcomes[-1] == "locked"
        await start(bad)
        limited = await client.post("/paylater/sessions", json=order | {"phone": bad}, headers=cashier)
        assert limited.status_code == 429 and limited.json()["rule"] == "P4"

        # Another merchant's cashier cannot use this session.
        other = await login(client, "merchant_b")
        assert (await client.post(f"{path}/confirm", json={"tenor_months": 6}, headers=other)).status_code == 404
