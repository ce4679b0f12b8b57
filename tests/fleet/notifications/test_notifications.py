"""#19, the outbox: every message the fleet sends is written with the change that causes it and sent by a
job with retries; a channel that is down never fails the request (SMTP is really down here, then a real
SMTP server, aiosmtpd, comes up on its port)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from fleet.notifications import service as notifications
from fleet.notifications.models import Notification
from fleet.payments.gateway import SandboxGateway
from fleet.payments.models import PayLink
from fleet.settings import get_settings
from tests import factories
from tests.api_helpers import fleet_api, login
from tests.mail_helpers import Smtp
from tools.mosquitto import free_port

ACQUIRER = SandboxGateway("http://gateway.invalid", "key", "whsec_" + "c" * 24, window_s=300)


@pytest.fixture
def smtp_port(monkeypatch):
    port = free_port()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", port)
    return port


async def _partly_paid(serial: str, receipt: str, merchant_id: int) -> None:
    await factories.sale(serial, 1, receipt, 100_000, 40_000, jid="n1", merchant_id=merchant_id)


def test_a_pay_link_is_saved_and_its_email_sent_later_when_smtp_is_down(database_url, smtp_port):
    """#19: with SMTP unreachable, `POST …/paylinks` with an email answered 500 after the link was saved, a
    retry said "already has an open pay link", and the customer was never told. Now it answers 201, the
    order shows the email queued, /healthz shows the channel retrying, and the job sends it once SMTP is
    back."""

    async def body() -> None:
        async with fleet_api(database_url, acquirer=ACQUIRER) as (client, seed):
            serial, receipt = seed.devices["A"][0], "N-1"
            await _partly_paid(serial, receipt, seed.merchants["A"])
            owner = await login(client, "merchant_a")
            path = f"/devices/{serial}/orders/{receipt}"
            sent = await client.post(
                path + "/paylinks", json={"email": "pembeli@contoh.id", "methods": ["qris"]}, headers=owner
            )
            assert sent.status_code == 201, sent.text
            [link] = sent.json()["paylinks"]
            [notice] = link["notices"]
            assert notice["channel"] == "email" and notice["status"] == "queued" and notice["attempts"] == 1
            assert notice["last_error"], "why it is waiting"
            assert await PayLink.filter(receipt=receipt).count() == 1
            health = (await client.get("/healthz")).json()["notifications"]
            assert health["queued"] == 1 and health["retrying"] == {"email": 1}

            row = await Notification.get(cause__startswith="paylink:")
            assert await notifications.send_due(ACQUIRER, row.next_at - timedelta(seconds=1)) == 0  # not yet due
            server = Smtp(smtp_port).start()
            try:
                assert await notifications.send_due(ACQUIRER, row.next_at) == 1
            finally:
                server.stop()
            [email] = server.inbox
            assert email["To"] == "pembeli@contoh.id" and "/pay/" in email.get_payload(decode=True).decode()
            [notice] = (await client.get(path, headers=owner)).json()["paylinks"][0]["notices"]
            assert notice["status"] == "sent" and notice["attempts"] == 2
            assert (await client.get("/healthz")).json()["notifications"] == {"queued": 0, "retrying": {}, "failed": 0}
            assert await notifications.send_due(ACQUIRER, row.next_at + timedelta(days=1)) == 0  # sent once

    asyncio.run(body())


def test_a_message_that_never_goes_through_is_given_up_with_its_reason_and_sent_again_by_hand(database_url, smtp_port):
    """Given up after MAX_ATTEMPTS with its reason; Biz Support finds it in GET /notifications?status=failed
    and, the mail server fixed, sends it again (POST …/retry): it goes out once, and only a failed one can."""

    async def body() -> None:
        async with fleet_api(database_url, acquirer=ACQUIRER) as (client, _seed):
            now = datetime(2026, 11, 20, 9, tzinfo=UTC)
            [row] = await notifications.enqueue("test:1", now, email="x@contoh.id", subject="s", text="t")
            waits = []
            for _ in range(notifications.MAX_ATTEMPTS):
                await notifications.deliver([row], None, now)
                waits.append(row.next_at - now)
                now = row.next_at
            assert row.status == "failed" and "Error" in (row.last_error or "")
            assert waits[:3] == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
            assert (await notifications.health())["failed"] == 1

            support = await login(client, "support")
            listed = (await client.get("/notifications?status=failed", headers=support)).json()
            assert listed["total"] == 1 and listed["items"][0]["last_error"] == row.last_error
            assert "body" not in listed["items"][0]  # a pay link's text is its URL: not shown
            assert (await client.get("/notifications", headers=await login(client, "merchant_a"))).status_code == 403
            retried = await client.post(f"/notifications/{row.id}/retry", headers=support)
            assert retried.status_code == 200 and retried.json()["status"] == "queued"
            again = await client.post(f"/notifications/{row.id}/retry", headers=support)
            assert again.status_code == 409 and again.json()["type"] == "/problems/conflict"
            server = Smtp(smtp_port).start()
            try:
                assert await notifications.send_due(ACQUIRER, datetime.now(UTC)) == 1
            finally:
                server.stop()
            assert len(server.inbox) == 1 and (await Notification.get(id=row.id)).status == "sent"

    asyncio.run(body())


def test_a_rejected_complaint_is_answered_while_smtp_is_down_and_the_customer_told_later(database_url, smtp_port):
    """#19 (refund notices shared the pay links' pattern): RF4's notice no longer fails the rejection."""
    from fleet.payments.models import RefundRequest

    async def body() -> None:
        async with fleet_api(database_url, acquirer=ACQUIRER) as (client, seed):
            made = datetime(2026, 11, 20, 9, tzinfo=UTC)
            request = await RefundRequest.create(
                merchant_id=seed.merchants["A"],
                serial=seed.devices["A"][0],
                receipt="N-2",
                kind="complaint",
                solution="refund",
                paid=50_000,
                refund_amount=50_000,
                customer_email="pembeli@contoh.id",
                made_at=made,
                answer_due=made.date(),
            )
            owner = await login(client, "merchant_a")
            answer = await client.post(f"/refunds/{request.id}/reject", json={"reason": "barang rusak"}, headers=owner)
            assert answer.status_code == 200 and answer.json()["status"] == "rejected", answer.text
            [row] = await Notification.filter(cause=f"refund:{request.id}")
            assert row.status == "queued" and "barang rusak" in row.body

    asyncio.run(body())


def test_a_message_is_sent_once_when_the_request_and_the_job_try_it_at_the_same_time(database_url, smtp_port):
    """#19, found in CI: a pay link's SMS reached the customer twice. The request that queues a message
    tries it at once while the job (on this or another service process) may pick up the same queued row:
    both sent it. Each message is now claimed before it is tried, and only its claimer sends it."""

    async def body() -> None:
        async with fleet_api(database_url, acquirer=ACQUIRER):
            now = datetime.now(UTC)
            [held] = await notifications.enqueue("test:race", now, email="x@contoh.id", subject="s", text="t")
            server = Smtp(smtp_port).start()
            try:
                loaded = await Notification.filter(id=held.id)  # what the job on another process loaded
                await asyncio.gather(
                    notifications.deliver([held], ACQUIRER, now),
                    notifications.deliver(loaded, ACQUIRER, now),
                    notifications.send_due(ACQUIRER, now),
                )
                await notifications.send_due(ACQUIRER, now + timedelta(hours=1))
            finally:
                server.stop()
            assert len(server.inbox) == 1
            row = await Notification.get(id=held.id)
            assert row.status == "sent" and row.attempts == 1

    asyncio.run(body())
