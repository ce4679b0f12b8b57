"""Payments in the fleet on SQLite and PostgreSQL: the acquirer's webhooks (forged, replayed and
out-of-window ones refused and counted; duplicates change nothing), the pay_confirm to the terminal,
a payment after the cashier cancelled becoming a fix-payment case (FP1), and its resolution."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fleet.commands import service as commands
from fleet.commands.models import Command
from fleet.ingest.models import Event
from fleet.payments import service as payments
from fleet.payments.gateway import SandboxGateway
from fleet.payments.models import Charge, FixPaymentCase, PayLink, WebhookEvent
from tests import factories
from tests.api_helpers import fleet_api, login
from tests.fleet_helpers import Clock
from tests.gateway_helpers import API_KEY, Gateway
from tests.gateway_helpers import SECRET as GATEWAY_SECRET
from tools.sandbox_gateway import sign

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

SECRET = "whsec-" + "k" * 24
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ACQUIRER = SandboxGateway("http://gateway.invalid", "key", SECRET, window_s=300)


def event(charge: Charge, event_id: str, rrn: str = "508123456789", amount: int | None = None) -> bytes:
    data = {"id": charge.provider_ref, "reference": charge.reference, "amount": amount or charge.amount}
    data |= {"status": "succeeded", "rrn": rrn, "paid_at": NOW.isoformat()}
    return json.dumps({"id": event_id, "type": "charge.succeeded", "created": 0, "data": data}).encode()


def signed(body: bytes, at: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    stamp = int(at.timestamp())
    return {"X-Sandbox-Timestamp": str(stamp), "X-Sandbox-Signature": sign(secret, stamp, body)}


async def pending_charge(serial: str, receipt: str, amount: int, state: str = "waiting") -> Charge:
    return await factories.charge(serial, receipt, amount, NOW, terminal_state=state)


def test_webhooks_are_verified_counted_and_idempotent(database_url):
    async def body() -> None:
        async with fleet_api(database_url, Clock(NOW), ACQUIRER) as (client, _seed):
            charge = await pending_charge("TKM-A000", "V00-000010", 27_750)
            hook = "/payments/webhooks/sandbox"
            first = event(charge, "evt_1")
            ok = await client.post(hook, content=first, headers=signed(first))
            assert ok.status_code == 200 and ok.json() == {"outcome": "confirming"}
            confirm = await Command.get(name="pay_confirm", device__serial="TKM-A000")
            assert confirm.args == {"receipt": "V00-000010", "method": "qris", "amount": 27_750, "ref": "508123456789"}
            again = await client.post(hook, content=first, headers=signed(first))  # the same event, replayed
            assert again.json() == {"outcome": "duplicate"}
            other = event(charge, "evt_2")  # another delivery about the same charge
            assert (await client.post(hook, content=other, headers=signed(other))).json() == {"outcome": "already_paid"}
            assert await Command.filter(name="pay_confirm").count() == 1

            forged = event(charge, "evt_3")
            refused = [
                await client.post(hook, content=forged, headers=signed(forged, secret="not-the-secret-at-all")),
                await client.post(hook, content=forged, headers=signed(forged, NOW - timedelta(seconds=301))),
                await client.post(hook, content=forged, headers=signed(forged, NOW + timedelta(seconds=301))),
                await client.post(hook, content=forged, headers={"X-Sandbox-Timestamp": "1"}),
                await client.post(hook, content=b"{not json", headers=signed(b"{not json")),
            ]
            assert [r.status_code for r in refused] == [401, 401, 401, 401, 400]
            assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
            counters = (await client.get("/healthz")).json()["refused_requests"]
            assert counters == {
                "webhook.confirming": 1,
                "webhook.duplicate": 1,
                "webhook.already_paid": 1,
                "webhook.refused.bad_signature": 2,
                "webhook.refused.stale": 2,
                "webhook.refused.malformed": 1,
            }
            assert await WebhookEvent.all().count() == 2  # evt_1 and evt_2, once each
            stored = await Charge.get(id=charge.id)
            assert (stored.status, stored.rrn, stored.command_id) == ("succeeded", "508123456789", confirm.cmd_id)

            # The terminal's answer closes the loop: completed, or refused (a fix-payment case).
            await commands.record_ack("TKM-A000", {"id": confirm.cmd_id, "ok": True}, NOW)
            assert await payments.follow_confirmations(NOW) == 1
            assert (await Charge.get(id=charge.id)).terminal_state == "confirmed"
            refused = await pending_charge("TKM-A000", "V00-000011", 12_000)
            body_2 = event(refused, "evt_4", rrn="508000000011")
            assert (await client.post(hook, content=body_2, headers=signed(body_2))).json() == {"outcome": "confirming"}
            sent = (await Charge.get(id=refused.id)).command_id
            await commands.record_ack("TKM-A000", {"id": sent, "ok": False, "error": "rejected"}, NOW)
            assert await payments.follow_confirmations(NOW) == 1
            assert (await Charge.get(id=refused.id)).terminal_state == "refused"
            case = await FixPaymentCase.get(reference=refused.reference)  # FP1: never a lost payment
            assert (case.reason, case.rrn) == ("refused_by_terminal", "508000000011")

    asyncio.run(body())


def test_a_payment_after_the_cashier_cancelled_is_a_fix_payment_case_resolved_by_a_replacement(database_url):
    async def body() -> None:
        async with fleet_api(database_url, Clock(NOW), ACQUIRER) as (client, _seed):
            await Event.create(
                key="TKM-A000/j1/50",
                serial="TKM-A000",
                jid="j1",
                seq=50,
                type="open",
                device_time=NOW,
                data={
                    "receipt": "V00-000050",
                    "items": [{"name": "Kopi", "qty": 2, "unit_price": 15000}],
                    "total": 30000,
                },
            )
            charge = await pending_charge("TKM-A000", "V00-000050", 30_000, state="cancelled")
            late = event(charge, "evt_late", rrn="508000000777")
            answer = await client.post("/payments/webhooks/sandbox", content=late, headers=signed(late))
            assert answer.json() == {"outcome": "case"}
            assert await Command.filter(name="pay_confirm").count() == 0  # nothing to confirm on the terminal
            support = await login(client, "support")
            [case] = (await client.get("/payments/fix-cases", headers=support)).json()
            assert (case["reason"], case["rrn"], case["amount"], case["serial"]) == (
                "cancelled_at_terminal",
                "508000000777",
                30_000,
                "TKM-A000",
            )
            assert case["items"] == [{"name": "Kopi", "qty": 2, "unit_price": 15000}]  # FP1 evidence
            merchant = await login(client, "merchant_a")
            assert (await client.get("/payments/fix-cases", headers=merchant)).status_code == 403
            path = f"/payments/fix-cases/{case['id']}/resolve"
            resolved = await client.post(path, json={"outcome": "replacement"}, headers=support)
            assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
            order = await Command.get(name="replacement")
            assert order.args == {"original": "V00-000050", "amount": 30_000, "ref": "508000000777"}
            twice = await client.post(path, json={"outcome": "replacement"}, headers=support)
            assert twice.status_code == 409 and await Command.filter(name="replacement").count() == 1
            assert (await FixPaymentCase.get(id=case["id"])).resolved_by == "support"

    asyncio.run(body())


def test_the_payments_follower_goes_on_from_where_it_was_after_a_restart(database_url):
    """A cashier's pay-link request (P1-P2) is acted on once: a restarted service reads on from its cursor
    in the database, and does not text the customer again (even when that link has since expired)."""
    phone = "+6281234567801"

    def texts(gateway_url: str) -> int:
        return sum(m["to"] == phone for m in httpx.get(f"{gateway_url}/sandbox/sms").json())

    async def body(gateway_url: str) -> None:
        acquirer = SandboxGateway(gateway_url, API_KEY, GATEWAY_SECRET)
        async with fleet_api(database_url, Clock(NOW), acquirer) as (_client, seed):
            serial, receipt = "TKM-A000", "V00-000090"
            order = {"receipt": receipt, "status": "partially_paid", "total": 90_000, "paid": 40_000}
            for seq, kind, data in (
                (90, "sale", order | {"outstanding": 50_000}),
                (91, "paylink", {"receipt": receipt, "phone": phone, "methods": ["qris"]}),
            ):
                await factories.event(serial, seq, kind, NOW, data, merchant_id=seed.merchants["A"])
            assert await payments.TerminalPayments(acquirer).step(NOW) > 0
            assert texts(gateway_url) == 1 and await PayLink.filter(receipt=receipt).count() == 1
            await PayLink.filter(receipt=receipt).update(status="expired")  # a new link would be allowed now
            restarted = payments.TerminalPayments(acquirer)
            assert await restarted.step(NOW) == 0  # nothing new since the cursor
            assert texts(gateway_url) == 1 and await PayLink.filter(receipt=receipt).count() == 1

    with Gateway("http://127.0.0.1:9/unused") as gateway:
        asyncio.run(body(gateway.url))
