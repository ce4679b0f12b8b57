"""The portals enforce the same authorization as the API, checked on every page of the route table:
a page not in PAGES fails the test, so a new page cannot skip the check. Merchant A's user, aimed at
merchant B's device or ticket, gets "not found"; staff pages answer 403; without a login every page
sends the browser to /login; a form without its CSRF token changes nothing."""

import asyncio
import re

import httpx

from fleet.app import api_routes, create_app
from fleet.commands.models import Command
from fleet.devices.models import Merchant
from fleet.repairs.models import Ticket
from tests.api_helpers import fleet_api, portal_login

PAGES = {
    ("GET", "/"): "public",  # redirects to /portal
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/logout"): "public",
    ("GET", "/lang/{lang}"): "public",
    ("GET", "/warranty"): "public",
    ("POST", "/warranty"): "public",
    ("GET", "/portal"): "scoped",
    ("GET", "/portal/dashboard"): "staff",
    ("POST", "/portal/suggestions/{suggestion_id}/accept"): "staff",
    ("GET", "/portal/devices"): "scoped",
    ("POST", "/portal/settings"): "scoped",  # always the caller's own merchant
    ("GET", "/portal/devices/{serial}"): "hidden",
    ("GET", "/portal/devices/{serial}/commands"): "hidden",
    ("POST", "/portal/devices/{serial}/commands"): "hidden",
    ("POST", "/portal/devices/{serial}/tickets"): "hidden",
    ("POST", "/portal/devices/{serial}/orders/{receipt}/paylinks"): "hidden",
    ("GET", "/portal/tickets"): "scoped",
    ("GET", "/portal/tickets/{ticket_id}"): "hidden",
    ("POST", "/portal/tickets/{ticket_id}/actions"): "hidden",
    ("GET", "/portal/quarantine"): "staff",
    ("GET", "/portal/audit"): "scoped",
    ("GET", "/pay/{token}"): "public",  # the secret token is the authorization
    ("POST", "/pay/{token}"): "public",
}
FORMS = {
    "/portal/devices/{serial}/commands": {"name": "ping"},
    "/portal/settings": {"auto_cancel_minutes": "45"},
    "/portal/devices/{serial}/tickets": {"problem": "screen cracked"},
    "/portal/tickets/{ticket_id}/actions": {"action": "cancel"},
    "/portal/devices/{serial}/orders/{receipt}/paylinks": {"email": "a@b.id", "method_qris": "1"},
}


def pages() -> list[tuple[str, str]]:
    return api_routes(create_app("route-table").routes, pages=True)


def test_every_page_is_in_the_table():
    assert sorted(set(pages()) - set(PAGES)) == [], "add the new pages to PAGES (who may use them)"
    assert sorted(set(PAGES) - set(pages())) == []


def test_pages_refuse_what_the_api_refuses(database_url):
    asyncio.run(_scenario(database_url))


async def _scenario(url: str) -> None:
    async with fleet_api(url) as (_client, seed):
        app = create_app("secret-" + "s" * 32)
        params = {
            "serial": seed.devices["B"][0],
            "ticket_id": str(seed.tickets["B"]),
            "suggestion_id": str(seed.suggestions["B"]),
            "lang": "en",
            "token": "no-such-link",
            "receipt": "V00-000001",
        }
        b_markers = [*seed.devices["B"], "Merchant B", "B&#39;s problem", "B's problem"]
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://fleet.test") as anonymous,
            httpx.AsyncClient(transport=transport, base_url="http://fleet.test") as merchant,
        ):
            csrf = await portal_login(merchant, "merchant_a")
            failures = []
            for method, path in pages():
                names = re.findall(r"{(\w+)}", path)
                assert all(n in params for n in names), f"{path}: add an object of merchant B for {names}"
                target = path.format(**{n: params[n] for n in names})
                kind = PAGES[(method, path)]
                form = FORMS.get(path, {}) | {"csrf": csrf}
                if kind != "public":
                    answer = await anonymous.request(method, target, data=form if method == "POST" else None)
                    if answer.status_code != 303 or not answer.headers["location"].startswith("/login"):
                        failures.append(f"{method} {path} anonymous: {answer.status_code}")
                if path in ("/logout", "/login"):
                    continue  # would end or replace this session
                answer = await merchant.request(method, target, data=form if method == "POST" else None)
                status = answer.status_code
                if kind == "hidden" and status != 404:
                    failures.append(f"{method} {target}: {status}, expected 404")
                elif kind == "staff" and status != 403:
                    failures.append(f"{method} {target}: {status}, expected 403")
                elif kind == "scoped" and (status >= 400 or any(m in answer.text for m in b_markers)):
                    failures.append(f"{method} {target}: {status}")
            assert failures == []
            assert await Command.filter(device__merchant_id=seed.merchants["B"]).count() == 1  # the seeded one
            assert (await Ticket.get(id=seed.tickets["B"])).state == "opened"
            assert await Ticket.filter(merchant_id=seed.merchants["B"]).count() == 1
            assert (await Merchant.get(id=seed.merchants["B"])).auto_cancel_minutes == 30
            assert (await Merchant.get(id=seed.merchants["A"])).auto_cancel_minutes == 45  # A's own, P4
            forged_settings = await merchant.post("/portal/settings", data={"auto_cancel_minutes": "5"})
            assert forged_settings.status_code == 403
            assert (await Merchant.get(id=seed.merchants["A"])).auto_cancel_minutes == 45

            # A form without the CSRF token is refused, even with a valid session; with it, it works.
            own = seed.devices["A"][0]
            forged = await merchant.post(f"/portal/devices/{own}/commands", data={"name": "ping"})
            assert forged.status_code == 403 and "CSRF" in forged.text
            assert await Command.filter(device__serial=own).count() == 1
            sent = await merchant.post(f"/portal/devices/{own}/commands", data={"name": "ping", "csrf": csrf})
            assert sent.status_code == 303 and await Command.filter(device__serial=own).count() == 2
            lock = await merchant.post(f"/portal/devices/{own}/commands", data={"name": "lock", "csrf": csrf})
            assert lock.status_code == 403  # a merchant may not lock, as in the API


def test_the_dashboard_counts_the_whole_fleet_from_each_devices_latest_heartbeat(database_url):
    asyncio.run(_dashboard(database_url))


async def _dashboard(url: str) -> None:
    from datetime import UTC, date, datetime

    from fleet.devices.models import Device, Ownership

    async with fleet_api(url) as (_client, _seed):
        # 1,500 terminals besides the seeded ones: every 10th out of paper, every 50th on a low battery.
        await Device.bulk_create(
            [
                Device(
                    serial=f"TKM-D{n:05d}",
                    model="TKM-58",
                    device_type="mpos",
                    ownership=Ownership.PURCHASED,
                    invoice_date=date(2026, 1, 5),
                    online=n % 3 != 0,
                    last_seen=datetime(2026, 11, 23, tzinfo=UTC),
                    paper="out" if n % 10 == 0 else "ok",
                    battery_pct=10 if n % 50 == 0 else 80,
                )
                for n in range(1500)
            ],
            batch_size=500,
        )
        # Online: session online and heard within the presence window (the seeded ones were heard days ago).
        online = 1000
        offline = await Device.all().count() - online
        app = create_app("secret-" + "s" * 32, clock=lambda: datetime(2026, 11, 23, 0, 1, tzinfo=UTC))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fleet.test") as support:
            await portal_login(support, "support")
            page = (await support.get("/portal/dashboard")).text
        for marker, value in (
            ("online-count", online),
            ("offline-count", offline),
            ("paper-out-count", 150),
            ("low-battery-count", 30),
        ):
            assert re.search(rf'id="{marker}">{value}<', page), marker
        assert page.count("(10%)") == 30  # every low battery listed with its level
        assert "peringatan lagi" in page  # more alerts than the page lists
