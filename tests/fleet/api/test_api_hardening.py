"""API hardening (#22): what a security probe of the running service found, each a test on SQLite and
PostgreSQL through the real app."""

import asyncio
import json
import re
import urllib.error
import urllib.request

import pytest

from fleet.repairs.models import Ticket
from fleet.repairs.routes import PUBLIC_CHECKS_PER_MINUTE
from tests.api_helpers import PASSWORD, fleet_api, login, portal_login


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_a_mixed_case_form_content_type_does_not_slip_a_nul_past_the_guard(database_url):
    """#22 finding 2: the NUL guard matched `application/x-www-form-urlencoded` case-sensitively while
    Starlette parses the form whatever its case: a ticket was stored with a raw NUL on SQLite, and on
    PostgreSQL an unauthenticated `POST /auth/token` with `username=admin1%00` answered 500."""

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            for kind in ("Application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8"):
                answer = await client.post(
                    "/auth/token", content=f"username=admin1%00&password={PASSWORD}", headers={"Content-Type": kind}
                )
                assert answer.status_code == 400, (kind, answer.status_code, answer.text)
                assert answer.json()["type"] == "/problems/nul-character"
            support = await login(client, "support")
            before = await Ticket.all().count()
            serial = seed.devices["A"][0]
            answer = await client.post(
                f"/devices/{serial}/tickets",
                content="problem=macet%00total",
                headers=support | {"Content-Type": "Application/X-WWW-Form-Urlencoded"},
            )
            assert answer.status_code == 400 and answer.json()["type"] == "/problems/nul-character"
            assert await Ticket.all().count() == before
            assert all("\x00" not in t.problem for t in await Ticket.all())

    run(body())


def test_the_public_check_refuses_a_blank_invoice_for_a_device_without_one(database_url):
    """#22 finding 3: a rented device imported without an invoice number answered the public check for
    an invoice of " ", so its serial alone was enough. A device with no invoice answers like an unknown
    serial (W4); the right pair still works."""

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            rented, bought = seed.devices["A"][1], seed.devices["A"][0]
            for blank in ("", " ", "\t"):
                answer = await client.post("/public/warranty-check", json={"serial": rented, "invoice_number": blank})
                assert answer.status_code in (404, 422), (blank, answer.status_code)
                if answer.status_code == 404:
                    assert answer.json()["type"] == "/problems/not-registered"
            right = await client.post(
                "/public/warranty-check", json={"serial": bought, "invoice_number": f"INV-{bought}"}
            )
            assert right.status_code == 200, right.text

    run(body())


def _check(base: str, forwarded: str) -> int:
    body = json.dumps({"serial": "TKM-NOPE-1", "invoice_number": "INV-1"}).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": forwarded}
    request = urllib.request.Request(base + "/public/warranty-check", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


@pytest.mark.slow  # fleet serve behind a stand-in proxy
def test_the_public_check_limit_trusts_a_forwarded_address_only_from_a_trusted_proxy(tmp_path):
    """#22 finding 4: uvicorn took X-Forwarded-For from any loopback peer, so rotating the header gave a
    client unlimited tries at the public check. Now the connection's peer is the client unless it is one
    of FLEET_TRUSTED_PROXIES (default none); behind a trusted proxy, the address the proxy appended counts,
    never what the client wrote before it."""
    from tests.fleet_server import FleetServer
    from tools import mosquitto

    limit = PUBLIC_CHECKS_PER_MINUTE
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        with FleetServer(tmp_path / "direct", f"sqlite://{tmp_path / 'a.sqlite3'}", broker.url) as fleet:
            answers = [_check(fleet.base, f"198.51.100.{n}") for n in range(limit + 2)]
            assert answers[:limit] == [404] * limit and answers[limit:] == [429, 429], answers
        behind = FleetServer(tmp_path / "proxied", f"sqlite://{tmp_path / 'b.sqlite3'}", broker.url)
        behind.env["FLEET_TRUSTED_PROXIES"] = "127.0.0.1, 10.0.0.0/8"
        with behind:
            # Every client its own bucket: as many clients as the limit and more, each once.
            assert {_check(behind.base, f"198.51.100.{n}") for n in range(limit + 2)} == {404}
            # One client rotating what it writes before the proxies' own entries: one bucket, its own.
            answers = [_check(behind.base, f"203.0.113.{n}, 192.0.2.7, 10.1.2.3") for n in range(limit + 2)]
            assert answers[:limit] == [404] * limit and answers[limit:] == [429, 429], answers


def test_wrong_passwords_slow_down_the_account_until_even_the_right_one_waits(database_url):
    """#22 finding 1: 40 wrong passwords in a row for one user were all answered 401, with no delay and no
    Retry-After, and the right password worked straight after. Now the account is refused with 429 and a
    Retry-After that grows after a few failures, its right password included; another account is not."""

    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            answers = []
            for _ in range(12):
                answer = await client.post("/auth/token", data={"username": "support", "password": "not-it-123"})
                answers.append((answer.status_code, answer.headers.get("retry-after")))
            assert [s for s, _ in answers[:5]] == [401] * 5, answers
            assert all(s == 429 and r and int(r) >= 1 for s, r in answers[5:]), answers
            right = await client.post("/auth/token", data={"username": "support", "password": PASSWORD})
            assert right.status_code == 429 and right.json()["type"] == "/problems/rate-limited"
            assert int(right.headers["retry-after"]) >= 1
            other = await client.post("/auth/token", data={"username": "admin", "password": PASSWORD})
            assert other.status_code == 200, other.text
            page = await client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf
            portal = await client.post("/login", data={"username": "support", "password": PASSWORD, "csrf": csrf[1]})
            assert portal.status_code == 429 and "Terlalu banyak permintaan" in portal.text, portal.status_code
            assert int(portal.headers["retry-after"]) >= 1

    run(body())


def _logged_out(page) -> bool:  # type: ignore[no-untyped-def]
    return page.status_code == 303 and "/login" in page.headers["location"]


def test_logout_revokes_every_token_of_the_user(database_url):
    """#22 finding 5: after logout the old session token kept working, as cookie and as bearer token,
    until it expired (8 h). Logging out (API or portal) now ends every session of that user at once."""

    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            bearer = await login(client, "support")
            page = await client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf
            form = {"username": "support", "password": PASSWORD, "csrf": csrf[1]}
            assert (await client.post("/login", data=form)).status_code == 303
            cookie = client.cookies.get("fleet_session")
            assert cookie and (await client.get("/portal/dashboard")).status_code == 200
            assert (await client.get("/auth/me", headers=bearer)).status_code == 200

            assert (await client.post("/auth/logout", headers=bearer)).status_code == 204
            assert (await client.get("/auth/me", headers=bearer)).status_code == 401
            assert (await client.get("/auth/me", headers={"Authorization": "Bearer " + cookie})).status_code == 401
            assert _logged_out(await client.get("/portal/dashboard"))  # the portal cookie, too

            # The portal's own logout: a copy of the cookie taken before it is dead after it.
            again = re.search(r'name="csrf" value="([^"]+)"', (await client.get("/login")).text)
            assert again  # the login page as this browser sees it now (its token follows its cookies)
            assert (await client.post("/login", data=form | {"csrf": again[1]})).status_code == 303
            copied = client.cookies.get("fleet_session")
            inside = re.search(r'name="csrf" value="([^"]+)"', (await client.get("/portal/dashboard")).text)
            assert inside  # the logged-in pages' token: bound to this session (finding 7)
            assert (await client.post("/logout", data={"csrf": inside[1]})).status_code == 303
            client.cookies.set("fleet_session", copied or "")
            assert _logged_out(await client.get("/portal/dashboard"))
            fresh = await login(client, "support")  # logging in again works
            assert (await client.get("/auth/me", headers=fresh)).status_code == 200

    run(body())


CSV_HEAD = "serial,model,device_type,merchant,ownership,invoice_number,invoice_date,rental_start,rental_end\n"
SETTLEMENT_HEAD = "charge_id,reference,rrn,amount,paid_at,terminal\n"


def test_staff_inputs_that_answered_500_answer_a_clear_4xx_and_store_nothing(database_url):
    """#22 finding 6: `POST /devices/import` with a bare CR in an unquoted field or a field over 131,072
    characters, and `POST /payments/reconciliations` with such a field, an amount of 10^30 or a date at
    the ends of the calendar, all answered 500."""
    from fleet.devices.models import Device
    from fleet.payments.models import FixPaymentCase, Reconciliation

    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            support = await login(client, "support")
            csv_headers = support | {"Content-Type": "text/csv"}
            devices = await Device.all().count()
            for bad in (
                CSV_HEAD + "TKM-Z001,TKM\r58,mpos,Toko Z,purchased,INV-1,2026-01-05,,\n",
                CSV_HEAD + "TKM-Z001,TKM-58,mpos,Toko " + "z" * 140_000 + ",purchased,INV-1,2026-01-05,,\n",
            ):
                answer = await client.post("/devices/import", content=bad.encode(), headers=csv_headers)
                assert answer.status_code == 422 and answer.json()["type"] == "/problems/bad-file", answer.text[:300]
            assert await Device.all().count() == devices
            good_row = "ch_1,REF-1,RRN1,{amount},2026-11-19T10:00:00+07:00,TKM-A000\n"
            for day, report in (
                ("2026-11-19", SETTLEMENT_HEAD + "ch_1,REF-1,RRN1,1000,2026-11-19T10:00:00+07:00," + "T" * 140_000),
                ("2026-11-19", SETTLEMENT_HEAD + good_row.format(amount=10**30)),
                ("2026-11-19", SETTLEMENT_HEAD + good_row.format(amount=-5000)),  # finding 8: opened a fix case
                ("2026-11-19", SETTLEMENT_HEAD + good_row.format(amount="1_000")),
                ("2026-11-19", SETTLEMENT_HEAD + "ch_1,REF-1,RRN1,1000,2026-11-19T10:00:00,TKM-A000\n"),  # no zone
                ("0001-01-01", SETTLEMENT_HEAD + good_row.format(amount=1000)),
                ("9999-12-31", SETTLEMENT_HEAD + good_row.format(amount=1000)),
            ):
                answer = await client.post(
                    f"/payments/reconciliations?date={day}", content=report.encode(), headers=csv_headers
                )
                assert answer.status_code == 422, (day, report[-80:], answer.status_code, answer.text[:300])
            assert await FixPaymentCase.all().count() == 0 and await Reconciliation.all().count() == 0

    run(body())


def test_money_is_strictly_an_integer_and_names_are_clean_text(database_url):
    """#22 finding 8: `"amount": "100"` (a string) was accepted; merchant names with a bidi override or a
    zero-width character, and spreadsheet formulas as names and models, were stored as sent."""
    from fleet.devices.models import Device, Merchant

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            support = await login(client, "support")
            serial = seed.devices["A"][0]
            for amount in ("100", 100.0, True):
                answer = await client.post(
                    "/paylater/sessions",
                    json={"serial": serial, "receipt": "A1-1", "amount": amount, "phone": "+6281234567890"},
                    headers=support,
                )
                assert answer.status_code == 422, (amount, answer.status_code, answer.text[:200])
            answer = await client.post(
                "/refunds",
                json={"serial": serial, "receipt": "A1-1", "kind": "refund", "shipping": "0"},
                headers=support,
            )
            assert answer.status_code == 422, answer.text[:200]
            merchants = await Merchant.all().count()
            for name in ("Toko \u202eabc", "Toko\u200bSatu", '=HYPERLINK("http://x")', "+62 Toko", "@Toko", "Toko\x07"):
                answer = await client.post("/merchants", json={"name": name}, headers=support)
                assert answer.status_code == 422, (name, answer.status_code)
            assert await Merchant.all().count() == merchants
            made = await client.post("/merchants", json={"name": "  Toko Cafe\u0301  "}, headers=support)
            assert made.status_code == 201 and made.json()["name"] == "Toko Caf\u00e9", made.text  # NFC, trimmed
            report = await client.post(
                "/devices/import",
                content=(
                    CSV_HEAD
                    + "TKM-Z001,=cmd|' /C calc'!A0,mpos,Toko Z,purchased,INV-1,2026-01-05,,\n"
                    + "TKM-Z002,TKM-58,mpos,Toko \u202eZ,purchased,INV-2,2026-01-05,,\n"
                    + "TKM-Z003,TKM-58,mpos,Toko Z,purchased,INV-3,2026-01-05,,\n"
                ).encode(),
                headers=support | {"Content-Type": "text/csv"},
            )
            assert report.status_code == 200, report.text
            errors = {(e["serial"], e["field"]) for e in report.json()["errors"]}
            assert errors == {("TKM-Z001", "model"), ("TKM-Z002", "merchant")}, report.json()
            assert await Device.filter(serial__startswith="TKM-Z").count() == 1

    run(body())


def test_nothing_is_keyed_by_the_service_secret_itself(database_url):
    """#22 finding 9: the configured secret signed the login tokens itself (and keyed the OTP hashes too):
    each use now has a key of its own derived from it, so a token signed with the secret is refused."""
    from datetime import UTC, datetime

    from fleet.auth import keys, tokens
    from tests.api_helpers import SECRET

    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            own = await login(client, "admin")
            assert (await client.get("/auth/me", headers=own)).status_code == 200
            for key in (SECRET, keys.derive(SECRET, keys.OTP), keys.derive(SECRET, keys.CSRF)):
                forged = tokens.issue(key, "admin", datetime.now(UTC))
                answer = await client.get("/auth/me", headers={"Authorization": "Bearer " + forged})
                assert answer.status_code == 401, key
            assert len({keys.derive(SECRET, p) for p in (keys.TOKENS, keys.CSRF, keys.OTP)} | {SECRET}) == 4

    run(body())


def test_the_csrf_token_is_bound_to_the_session_and_cookies_are_host_only(database_url):
    """#22 finding 7: any matching cookie/field pair passed the CSRF check (whoever can plant a cookie,
    e.g. from a sibling subdomain, could forge forms), and no cookie had the `__Host-` prefix."""
    import httpx

    from fleet.app import create_app
    from tests.api_helpers import SECRET

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            token = await portal_login(client, "support")
            serial = seed.devices["A"][0]
            client.cookies.set("fleet_csrf", "planted-by-the-attacker")
            forged = await client.post(
                f"/portal/devices/{serial}/commands", data={"name": "ping", "csrf": "planted-by-the-attacker"}
            )
            assert forged.status_code == 403, forged.status_code
            own = await client.post(f"/portal/devices/{serial}/commands", data={"name": "ping", "csrf": token})
            assert own.status_code == 303, own.text

            transport = httpx.ASGITransport(app=create_app(SECRET))
            async with httpx.AsyncClient(transport=transport, base_url="https://fleet.test") as tls:
                await portal_login(tls, "support")
                names = {cookie.name for cookie in tls.cookies.jar}
                assert {"__Host-fleet_session", "__Host-fleet_csrf"} <= names, names
                assert not names & {"fleet_session", "fleet_csrf"}, names
                for cookie in tls.cookies.jar:
                    assert cookie.secure and cookie.path == "/" and not cookie.domain_specified, cookie

    run(body())


def test_every_response_carries_security_headers_and_no_link_writes_the_page(database_url):
    """#22 finding 7: no response had security headers (CSP, X-Content-Type-Options, frame-ancestors);
    `?error=…` and `?notice=…` were shown as the page's message, so a link could make the portal say
    anything; `?status=418` set the ticket page's status."""

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            for path in ("/login", "/healthz", "/warranty", "/openapi.json"):
                answer = await client.get(path)
                assert answer.headers.get("x-content-type-options") == "nosniff", path
                assert "frame-ancestors 'none'" in answer.headers.get("content-security-policy", ""), path
            await portal_login(client, "support")
            serial, ticket = seed.devices["A"][0], seed.tickets["A"]
            device = await client.get(f"/portal/devices/{serial}?error=Akun+Anda+diblokir,+telepon+0800")
            policy = device.headers["content-security-policy"]
            nonce = re.search(r"'nonce-([^']+)'", policy)
            assert nonce and "script-src 'self' 'nonce-" in policy, policy
            assert all(f'nonce="{nonce[1]}"' in tag for tag in re.findall(r"<script[^>]*>", device.text)), "nonce"
            assert "diblokir" not in device.text
            listing = await client.get("/portal/devices?notice=Hubungi+kami+di+wa.me/620000")
            assert listing.status_code == 200 and "Hubungi kami" not in listing.text
            page = await client.get(f"/portal/tickets/{ticket}?status=418&error=Tiket+palsu")
            assert page.status_code == 200 and "Tiket palsu" not in page.text

    run(body())


def test_a_password_change_ends_every_other_session(database_url):
    """#22 (revocable sessions): a changed password must end the sessions made with the old one; there
    was no way to change a password at all. The current password is asked again; the caller gets a fresh
    token, every older token of the user stops working, and the new password is the one that logs in."""

    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            other_device = await login(client, "support")
            here = await login(client, "support")
            new = "a-new-password-42"
            wrong = await client.post(
                "/auth/password", json={"current_password": "not-it-123", "new_password": new}, headers=here
            )
            assert wrong.status_code == 403 and (await client.get("/auth/me", headers=here)).status_code == 200
            changed = await client.post(
                "/auth/password", json={"current_password": PASSWORD, "new_password": "a-new-password-42"}, headers=here
            )
            assert changed.status_code == 200, changed.text
            fresh = {"Authorization": "Bearer " + changed.json()["access_token"]}
            assert (await client.get("/auth/me", headers=fresh)).status_code == 200
            for old in (other_device, here):
                assert (await client.get("/auth/me", headers=old)).status_code == 401
            old_password = await client.post("/auth/token", data={"username": "support", "password": PASSWORD})
            assert old_password.status_code == 401
            new_password = await client.post("/auth/token", data={"username": "support", "password": new})
            assert new_password.status_code == 200

    run(body())
