"""#19, channels and subscriptions: who hears which alerts, how and when not. SMS and WhatsApp through the
gateway's carrier (the sandbox gateway as its own HTTP service; +62 numbers only, as P2), a signed webhook
to a real HTTP receiver (HMAC over timestamp and body, as the payment webhook), kinds filtered, quiet
hours holding a message back until they end; a webhook URL into the fleet's own network is refused."""

import asyncio
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx

from fleet.alerts import service as alerts
from fleet.alerts.models import Alert, Subscription
from fleet.devices.models import Device
from fleet.domain import alerts as rules
from fleet.notifications import service as notifications
from fleet.notifications import webhooks
from fleet.notifications.models import Notification
from fleet.payments.gateway import SandboxGateway
from fleet.payments.models import RefundRequest
from fleet.repairs.models import Suggestion
from fleet.settings import get_settings
from tests.api_helpers import fleet_api, login
from tests.gateway_helpers import API_KEY, SECRET, Gateway
from tests.mail_helpers import Smtp

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 WIB


class Receiver:
    """A real HTTP server that keeps what it was posted."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/fleet"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


def test_subscriptions_carry_alerts_by_whatsapp_sms_and_signed_webhook_and_keep_quiet_hours(database_url, monkeypatch):
    monkeypatch.setattr(get_settings(), "webhook_private_ok", True)  # the receiver is on this machine
    smtp = Smtp().start()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", smtp.port)
    receiver = Receiver()
    with Gateway("http://127.0.0.1:9/unused") as gateway:
        acquirer = SandboxGateway(gateway.url, API_KEY, SECRET)

        async def body() -> None:
            async with fleet_api(database_url, acquirer=acquirer) as (client, seed):
                for model in (Alert, Suggestion, RefundRequest, Subscription):
                    await model.all().delete()
                await Device.all().update(online=True, last_seen=NOW, paper="ok", battery_pct=80)
                owner = await login(client, "merchant_a")

                async def subscribe(**fields: object) -> httpx.Response:
                    return await client.post("/alerts/subscriptions", json=fields, headers=owner)

                assert (await subscribe(channel="sms", address="+14155550100")).status_code == 422  # P2
                assert (await subscribe(channel="webhook", address="ftp://x.example/")).status_code == 422
                assert (await subscribe(channel="email", address="not-an-address")).status_code == 422
                wa = await subscribe(channel="whatsapp", address="+6281234567001", kinds=["paper_out"])
                hook = await subscribe(channel="webhook", address=receiver.url)
                quiet = await subscribe(channel="sms", address="+6281234567002", quiet_hours="09:00-12:00")
                night = await subscribe(channel="email", address="malam@toko-a.id", quiet_hours="09:00-12:00")
                assert wa.status_code == hook.status_code == quiet.status_code == night.status_code == 201
                secret = hook.json()["secret"]
                assert secret and wa.json()["secret"] is None
                listed = (await client.get("/alerts/subscriptions", headers=owner)).json()
                assert len(listed) == 4 and all(s["secret"] is None for s in listed)
                assert (
                    await client.get("/alerts/subscriptions", headers=await login(client, "merchant_b"))
                ).json() == []

                serial = seed.devices["A"][0]
                await Device.filter(serial=serial).update(online=False, last_seen=NOW - timedelta(hours=1))
                assert await alerts.evaluate(NOW, acquirer) == {"opened": 1, "resolved": 0}  # offline
                await Device.filter(serial=serial).update(paper="out")
                assert await alerts.evaluate(NOW, acquirer) == {"opened": 1, "resolved": 0}  # paper out

                sent = httpx.get(f"{gateway.url}/sandbox/whatsapp").json()
                assert [m["to"] for m in sent] == ["+6281234567001"] and "kehabisan kertas" in sent[0]["text"]
                assert httpx.get(f"{gateway.url}/sandbox/sms").json() == []  # quiet until 12:00 WIB
                assert smtp.inbox == []  # the email too
                held = await Notification.filter(channel__in=["sms", "email"]).order_by("id")
                assert [n.next_at for n in held] == [datetime(2026, 12, 1, 5, 0, tzinfo=UTC)] * 4

                events = []
                for headers, raw in receiver.posts:
                    stamp = headers["x-fleet-timestamp"]
                    mac = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
                    assert headers["x-fleet-signature"] == "v1=" + mac
                    webhooks.verify(secret, headers, raw, int(stamp))  # as the receiver checks it
                    for forged, later in ((raw + b" ", 0), (raw, 600)):  # tampered; replayed ten minutes on
                        try:
                            webhooks.verify(secret, headers, forged, int(stamp) + later)
                        except ValueError as refused:
                            assert str(refused) == ("bad_signature" if later == 0 else "stale")
                        else:
                            raise AssertionError("a forged or replayed webhook verified")
                    events.append(json.loads(raw))
                assert [(e["event"], e["alert"]["kind"]) for e in events] == [
                    ("alert.opened", "offline"),
                    ("alert.opened", "paper_out"),
                ]
                assert await notifications.send_due(acquirer, datetime(2026, 12, 1, 4, 59, tzinfo=UTC)) == 0
                assert await notifications.send_due(acquirer, datetime(2026, 12, 1, 5, 0, tzinfo=UTC)) == 4
                assert len(httpx.get(f"{gateway.url}/sandbox/sms").json()) == 2
                assert sorted(m["Subject"] for m in smtp.inbox) == [
                    "Kertas habis di TKM-A000",
                    "Terminal TKM-A000 offline",
                ]

                gone = await client.delete(f"/alerts/subscriptions/{wa.json()['id']}", headers=owner)
                assert gone.status_code == 204
                assert len((await client.get("/alerts/subscriptions", headers=owner)).json()) == 3

        try:
            asyncio.run(body())
        finally:
            receiver.stop()
            smtp.stop()


def test_a_webhook_into_the_fleets_own_network_is_never_posted(database_url, monkeypatch):
    monkeypatch.setattr(get_settings(), "webhook_private_ok", False)
    receiver = Receiver()

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            support = await login(client, "support")
            plain = await client.post(
                "/alerts/subscriptions", json={"channel": "webhook", "address": receiver.url}, headers=support
            )
            assert plain.status_code == 422  # http: only where private addresses are allowed
            inside = receiver.url.replace("http://", "https://")
            made = await client.post(
                "/alerts/subscriptions", json={"channel": "webhook", "address": inside}, headers=support
            )
            assert made.status_code == 201 and made.json()["merchant_id"] is None  # Biz Support's own
            row = await Alert.create(
                kind=rules.FIX_CASE, serial="TKM-A000", merchant_id=seed.merchants["A"], detail="Rp 27.750",
                opened_at=NOW, last_seen_at=NOW,
            )  # fmt: skip
            subscriptions = await Subscription.filter(id=made.json()["id"])
            queued = await alerts._tell(row, "alert.opened", {}, subscriptions, NOW, "s", "t")
            await notifications.deliver(queued, None, NOW)
            [hook] = await Notification.filter(channel="webhook")
            assert hook.status == "queued" and "not a public address" in (hook.last_error or "")

    try:
        asyncio.run(body())
    finally:
        receiver.stop()
    assert receiver.posts == []
