"""Object-level authorization on every endpoint, generated from the app's route table.

Every route must appear in ACCESS below, so a new endpoint cannot be added without saying who may use
it; the test then calls each route as merchant A's user, aimed at merchant B's objects, and checks that
A gets 401/403/404 or a list that holds nothing of B's, and that B's data is unchanged afterwards.
"""

import asyncio
import re

from fleet.app import PUBLIC_ROUTES, api_routes, create_app
from fleet.auth.models import User
from fleet.commands.models import Command
from fleet.devices.models import Device, Merchant
from fleet.payments.models import RefundRequest
from fleet.repairs.models import Ticket
from tests.api_helpers import PASSWORD, PASSWORD_HASH, fleet_api, login

# How merchant A's user must be answered on each route, aimed at merchant B's things:
#   "hidden": 404, as for something that does not exist;  "staff": 403;  "admin": 403;
#   "scoped": 2xx, and nothing of B's in the answer;  "public": needs no login.
ACCESS = {
    ("GET", "/healthz"): "public",
    ("POST", "/auth/token"): "public",
    ("GET", "/auth/me"): "scoped",
    ("POST", "/auth/logout"): "scoped",  # the caller's own sessions only (logged in again after it)
    ("POST", "/auth/password"): "scoped",  # the caller's own password (set back after it)
    ("GET", "/alerts"): "scoped",
    ("POST", "/alerts/{alert_id}/acknowledge"): "hidden",
    ("GET", "/alerts/subscriptions"): "scoped",
    ("POST", "/alerts/subscriptions"): "scoped",  # always the caller's own merchant
    ("DELETE", "/alerts/subscriptions/{subscription_id}"): "hidden",
    ("GET", "/audit"): "scoped",
    ("GET", "/notifications"): "staff",
    ("POST", "/notifications/{notification_id}/retry"): "staff",
    ("POST", "/users"): "admin",
    ("GET", "/users"): "admin",
    ("GET", "/devices"): "scoped",
    ("GET", "/devices/{serial}"): "hidden",
    ("POST", "/devices/{serial}/credentials"): "staff",
    ("POST", "/devices/import"): "staff",
    ("GET", "/merchants"): "scoped",
    ("POST", "/merchants"): "staff",
    ("GET", "/merchants/{merchant_id}"): "hidden",
    ("PATCH", "/merchants/{merchant_id}"): "hidden",
    ("GET", "/merchants/{merchant_id}/onboarding"): "hidden",
    ("POST", "/merchants/{merchant_id}/onboarding/finish"): "staff",
    ("GET", "/sightings"): "staff",
    ("GET", "/ingest/quarantine"): "staff",
    ("GET", "/devices/{serial}/telemetry"): "hidden",
    ("GET", "/devices/{serial}/transactions"): "hidden",
    ("GET", "/merchants/{merchant_id}/transactions"): "hidden",
    ("POST", "/devices/{serial}/commands"): "hidden",
    ("GET", "/devices/{serial}/commands"): "hidden",
    ("GET", "/commands/{command_id}"): "hidden",
    ("GET", "/devices/{serial}/warranty"): "hidden",
    ("GET", "/devices/{serial}/rental"): "hidden",
    ("POST", "/tickets"): "hidden",  # aimed at B's device
    ("GET", "/tickets"): "scoped",
    ("GET", "/tickets/{ticket_id}"): "hidden",
    ("POST", "/tickets/{ticket_id}/actions/{action}"): "hidden",
    ("GET", "/suggestions"): "staff",
    ("POST", "/suggestions/{suggestion_id}/accept"): "staff",
    ("POST", "/suggestions/{suggestion_id}/dismiss"): "staff",
    ("POST", "/public/warranty-check"): "public",
    ("POST", "/payments/webhooks/sandbox"): "public",  # signed by the acquirer, not logged in
    ("GET", "/payments/charges"): "scoped",
    ("GET", "/payments/fix-cases"): "staff",
    ("POST", "/payments/fix-cases/{case_id}/resolve"): "staff",
    ("POST", "/payments/reconciliations"): "staff",
    ("GET", "/payments/reconciliations/{run_id}"): "staff",
    ("GET", "/devices/{serial}/orders/{receipt}"): "hidden",
    ("POST", "/devices/{serial}/orders/{receipt}/paylinks"): "hidden",
    ("POST", "/paylater/sessions"): "hidden",  # aimed at B's terminal
    ("POST", "/paylater/sessions/{session_id}/otp"): "hidden",
    ("POST", "/paylater/sessions/{session_id}/confirm"): "hidden",
    ("POST", "/refunds"): "hidden",  # aimed at B's terminal
    ("GET", "/refunds"): "scoped",
    ("POST", "/refunds/{refund_id}/approve"): "hidden",
    ("POST", "/refunds/{refund_id}/reject"): "hidden",
    ("GET", "/merchants/{merchant_id}/balance"): "hidden",
}
# Bodies that would succeed for the right caller, so a refusal is the authorization's doing.
BODIES = {
    ("POST", "/auth/password"): {"json": {"current_password": PASSWORD, "new_password": "a-new-password-42"}},
    ("POST", "/users"): {"json": {"username": "intruder", "password": "0123456789ab", "role": "admin"}},
    ("POST", "/merchants"): {"json": {"name": "Intruder"}},
    ("POST", "/alerts/subscriptions"): {"json": {"channel": "email", "address": "pemilik@toko-a.id"}},
    ("PATCH", "/merchants/{merchant_id}"): {"json": {"auto_cancel_minutes": 5}},
    ("POST", "/devices/{serial}/commands"): {"json": {"name": "ping"}},
    ("POST", "/devices/import"): {
        "content": "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n"
        "TKM-X001,TKM-58,mpos,Merchant B,purchased,INV-1,2026-01-01\n",
        "headers": {"Content-Type": "text/csv"},
    },
    ("POST", "/auth/token"): {"data": {"username": "merchant_b", "password": "guess"}},
    ("POST", "/tickets"): {"json": {"serial": "TKM-B000", "problem": "screen cracked"}},
    ("POST", "/tickets/{ticket_id}/actions/{action}"): {"json": {"data": {}}},
    ("POST", "/public/warranty-check"): {"json": {"serial": "TKM-B000", "invoice_number": "INV-TKM-B000"}},
    ("POST", "/payments/fix-cases/{case_id}/resolve"): {"json": {"outcome": "no_payment"}},
    ("POST", "/devices/{serial}/orders/{receipt}/paylinks"): {"json": {"email": "a@b.id", "methods": ["qris"]}},
    ("POST", "/paylater/sessions"): {
        "json": {"serial": "TKM-B000", "receipt": "V00-000001", "amount": 1000, "phone": "+6281200000001"}
    },
    ("POST", "/paylater/sessions/{session_id}/otp"): {"json": {"code": "123456"}},
    ("POST", "/paylater/sessions/{session_id}/confirm"): {"json": {"tenor_months": 3}},
    ("POST", "/refunds"): {"json": {"serial": "TKM-B000", "receipt": "V00-000001", "kind": "refund"}},
    ("POST", "/refunds/{refund_id}/reject"): {"json": {"reason": "no"}},
    ("POST", "/payments/reconciliations"): {"params": {"date": "2026-11-20"}, "content": "charge_id\n"},
}


def routes() -> list[tuple[str, str]]:
    app = create_app("route-table")
    table = api_routes(app.routes)
    # Cross-check with what the OpenAPI document publishes, so no route escapes the walk.
    published = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    assert published <= set(table), sorted(published - set(table))
    return table


def test_every_route_is_in_the_access_table_and_public_ones_are_declared():
    listed = routes()
    assert sorted(set(listed) - set(ACCESS)) == [], "add the new routes to ACCESS (who may use them)"
    assert sorted(set(ACCESS) - set(listed)) == [], "ACCESS names routes that no longer exist"
    assert {r for r, kind in ACCESS.items() if kind == "public"} == set(PUBLIC_ROUTES)


def test_merchant_a_never_reaches_merchant_b(database_url):
    asyncio.run(_scenario(database_url))


async def _scenario(url: str) -> None:
    async with fleet_api(url) as (client, seed):
        params = {
            "serial": seed.devices["B"][0],
            "merchant_id": str(seed.merchants["B"]),
            "command_id": seed.commands["B"],
            "ticket_id": str(seed.tickets["B"]),
            "action": "cancel",
            "suggestion_id": str(seed.suggestions["B"]),
            "case_id": "1",  # staff-only routes: refused before any lookup
            "run_id": "1",
            "receipt": "V00-000001",
            "session_id": seed.paylater["B"],
            "refund_id": str(seed.refunds["B"]),
            "alert_id": str(seed.alerts["B"]),
            "notification_id": "1",
            "subscription_id": str(seed.subscriptions["B"]),  # staff-only routes: refused before any lookup
        }
        b_markers = [*seed.devices["B"], "Merchant B", seed.commands["B"], "merchant_b", "B's problem"]
        b_commands = await Command.filter(device__merchant_id=seed.merchants["B"]).count()
        a = await login(client, "merchant_a")
        failures = []
        for method, path in routes():
            names = re.findall(r"{(\w+)}", path)
            unknown = [n for n in names if n not in params]
            assert not unknown, f"{method} {path}: no object of merchant B for {unknown}; add it to params"
            target = path.format(**{n: params[n] for n in names})
            extra = BODIES.get((method, path), {})
            kind = ACCESS[(method, path)]
            anonymous = await client.request(method, target, **extra)
            if kind != "public" and anonymous.status_code != 401:
                failures.append(f"{method} {path} without a token: {anonymous.status_code}")
            answer = await client.request(method, target, **(extra | {"headers": extra.get("headers", {}) | a}))
            status = answer.status_code
            if (method, path) == ("POST", "/auth/password"):
                await User.filter(username="merchant_a").update(password_hash=PASSWORD_HASH)
            if (method, path) in (("POST", "/auth/logout"), ("POST", "/auth/password")):
                a = await login(client, "merchant_a")  # that ended A's sessions: B's are untouched
            if kind == "hidden" and status != 404:
                failures.append(f"{method} {target}: {status}, expected 404")
            elif kind in ("staff", "admin") and status != 403:
                failures.append(f"{method} {target}: {status}, expected 403")
            elif kind == "scoped":
                leaked = [m for m in b_markers if m in answer.text]
                if not 200 <= status < 300 or leaked:
                    failures.append(f"{method} {target}: {status}, shows {leaked}")
        assert failures == []
        assert await Command.filter(device__merchant_id=seed.merchants["B"]).count() == b_commands
        assert (await Ticket.get(id=seed.tickets["B"])).state == "opened"
        assert await Ticket.filter(merchant_id=seed.merchants["B"]).count() == 1
        assert not await Device.exists(serial="TKM-X001")
        assert (await RefundRequest.get(id=seed.refunds["B"])).status == "pending"
        assert (await Merchant.get(id=seed.merchants["B"])).auto_cancel_minutes == 30
        # The same calls as Biz Support do reach B's things: the refusals above are about who asks.
        support = await login(client, "support")
        assert (await client.get(f"/devices/{params['serial']}", headers=support)).status_code == 200
        assert (await client.get(f"/commands/{params['command_id']}", headers=support)).status_code == 200
