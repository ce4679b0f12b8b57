"""Refund, return and complaint requests on paid orders (RF1, RF3, RF4, RF5) through the API, on SQLite
and PostgreSQL, with the rejection notice delivered to a real SMTP server (aiosmtpd)."""

import asyncio
from datetime import UTC, date, datetime

import pytest

from fleet.payments import refunds
from fleet.payments.models import BalanceEntry, Reconciliation
from fleet.settings import get_settings
from tests import factories
from tests.api_helpers import fleet_api, login
from tests.fleet_helpers import Clock
from tests.mail_helpers import Smtp


@pytest.fixture
def smtp(monkeypatch):
    server = Smtp().start()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", server.port)
    yield server.inbox
    server.stop()


async def order(
    serial: str, receipt: str, seq: int, status: str = "paid", paid: int = 100_000, at: datetime | None = None
) -> None:
    data = {"receipt": receipt, "total": 100_000, "paid": paid, "outstanding": 100_000 - paid, "status": status}
    await factories.event(serial, seq, "sale", at or datetime(2026, 12, 1, 10, tzinfo=UTC), data, jid="j9")


def test_refund_rules_balance_complaints_rejections_and_automatic_approval(database_url, smtp):
    async def body() -> None:
        clock = Clock(datetime(2026, 12, 23, 10, tzinfo=UTC))  # a Wednesday before Christmas
        async with fleet_api(database_url, clock) as (client, seed):
            merchant = await login(client, "merchant_a")
            for seq, receipt in enumerate(("R-1", "R-2", "R-3", "R-4", "R-5"), start=100):
                await order("TKM-A000", receipt, seq)
            await order("TKM-A000", "R-PART", 199, status="partially_paid", paid=40_000)

            async def ask(receipt: str, **fields: object) -> dict:
                body = {"serial": "TKM-A000", "receipt": receipt, "kind": "refund"} | fields
                answer = await client.post("/refunds", json=body, headers=merchant)
                assert answer.status_code == 201, answer.text
                return answer.json()

            partial = await client.post(
                "/refunds", json={"serial": "TKM-A000", "receipt": "R-PART", "kind": "refund"}, headers=merchant
            )
            assert partial.status_code == 409  # only paid orders

            # RF5: the settlement report was reconciled through 22 December: the sales of 1 December are
            # settled, an after-sale refund comes out of the merchant's balance; too low, it is refused.
            await Reconciliation.create(
                day=date(2026, 12, 22), created_at=clock.now, settled=0, matched=0, unmatched=0, unsettled=0, report={}
            )
            first = await ask("R-1")
            assert first["answer_due"] == "2026-12-29"  # RF1: Thu 24, Mon 28, Tue 29 (Christmas, weekend)
            low = (await client.post(f"/refunds/{first['id']}/approve", headers=merchant)).json()
            assert low["status"] == "refused_balance"
            await BalanceEntry.create(merchant_id=seed.merchants["A"], amount=150_000, reason="payments", at=clock.now)
            ok = (await client.post(f"/refunds/{(await ask('R-2'))['id']}/approve", headers=merchant)).json()
            assert ok["status"] == "approved"
            balance = await client.get(f"/merchants/{seed.merchants['A']}/balance", headers=merchant)
            assert balance.json()["balance"] == 50_000
            # RF5: a refund during the sale (today's, not settled yet) succeeds at once, the balance too low
            # or not: the sale's own money is still held.
            await order("TKM-A000", "R-NOW", 300, paid=90_000, at=clock.now)
            during = (await client.post(f"/refunds/{(await ask('R-NOW'))['id']}/approve", headers=merchant)).json()
            assert during["status"] == "approved", during
            # (its payment, which the gateway's webhook credits in the real flow)
            await BalanceEntry.create(merchant_id=seed.merchants["A"], amount=90_000, reason="payments", at=clock.now)

            # RF3: a complaint's refund excludes shipping; a replacement refunds nothing.
            complaint = await ask("R-3", kind="complaint", solution="refund", shipping=20_000)
            assert complaint["refund_amount"] == 80_000
            swap = await ask("R-4", kind="complaint", solution="replacement")
            assert swap["refund_amount"] == 0
            bad = await client.post(
                "/refunds", json={"serial": "TKM-A000", "receipt": "R-5", "kind": "complaint"}, headers=merchant
            )
            assert bad.status_code == 422 and bad.json()["rule"] == "RF3"

            # RF4: a rejection needs its reason and reaches the customer.
            rejected = await ask("R-5", email="pembeli@contoh.id")
            assert (
                await client.post(f"/refunds/{rejected['id']}/reject", json={"reason": ""}, headers=merchant)
            ).status_code == 422
            done = await client.post(
                f"/refunds/{rejected['id']}/reject", json={"reason": "barang sudah dipakai"}, headers=merchant
            )
            assert done.json()["status"] == "rejected"
            [notice] = smtp
            assert (
                notice["To"] == "pembeli@contoh.id"
                and "barang sudah dipakai" in notice.get_payload(decode=True).decode()
            )

            # RF1: unanswered for 3 working days, approved by the system (RF5 still applies: Rp 80.000 of
            # the Rp 50.000 left is refused; the replacement goes through).
            # (the two seeded requests of 20 November are long overdue: they go first)
            # Due Tuesday 29 December in the merchant's zone (WIB): Tuesday 23:30 WIB is in time, Wednesday
            # 00:30 WIB (Tuesday 17:30 UTC) is not.
            assert await refunds.auto_approve(datetime(2026, 12, 29, 16, 30, tzinfo=UTC)) == 2
            assert await refunds.auto_approve(datetime(2026, 12, 29, 16, 30, tzinfo=UTC)) == 0
            assert await refunds.auto_approve(datetime(2026, 12, 29, 17, 30, tzinfo=UTC)) == 2
            states = {
                r["receipt"]: (r["status"], r["answered_by"])
                for r in (await client.get("/refunds", headers=merchant)).json()
            }
            assert states["R-3"][0] == "refused_balance" and states["R-4"][0] == "approved"
            assert "RF1" in states["R-4"][1]
            other = await login(client, "merchant_b")
            assert (await client.post(f"/refunds/{complaint['id']}/approve", headers=other)).status_code == 404

    asyncio.run(body())
