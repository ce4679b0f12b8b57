"""#19, the audit trail: every change a person makes (commands, ticket actions, settings, credentials,
imports, users, refund decisions, fix cases, onboarding, passwords, alerts, the outbox) is recorded once,
with who, when, what, before and after, by one mechanism (fleet.audit.service.record in the change's
transaction); GET /audit reads it with filters, and a merchant's users see only their merchant's."""

import asyncio
from datetime import UTC, datetime

from fleet.audit.models import AuditEntry
from fleet.payments.models import FixPaymentCase
from tests.api_helpers import PASSWORD, fleet_api, login

CSV = (
    "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n"
    "TKM-A900,TKM-58,mpos,Merchant A,purchased,INV-9,2026-10-01\n"
)


def test_every_change_is_recorded_once_with_who_what_before_and_after(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            await AuditEntry.all().delete()  # the seed's own
            a, b = seed.merchants["A"], seed.merchants["B"]
            serial = seed.devices["A"][0]
            owner, support, admin = [await login(client, u) for u in ("merchant_a", "support", "admin")]
            case = await FixPaymentCase.create(
                source="late_payment", reason="cancelled_at_terminal", reference=f"{serial}:R-2/1", rrn="RRN9",
                paid_at=datetime(2026, 11, 20, tzinfo=UTC), amount=27_750, serial=serial, merchant_id=a,
                created_at=datetime(2026, 11, 20, tzinfo=UTC),
            )  # fmt: skip

            calls = [
                ("POST", f"/devices/{serial}/commands", support, {"json": {"name": "lock"}}),
                ("POST", f"/tickets/{seed.tickets['A']}/actions/cancel", owner, {"json": {"data": {}}}),
                ("PATCH", f"/merchants/{a}", owner, {"json": {"auto_cancel_minutes": 45}}),
                ("POST", f"/devices/{serial}/credentials", support, {}),
                ("POST", "/devices/import", support, {"content": CSV, "headers": {"Content-Type": "text/csv"}}),
                ("POST", "/users", admin, {"json": {"username": "kasir_a", "password": "a-long-password-1",
                                                    "role": "merchant", "merchant_id": a}}),
                ("POST", f"/refunds/{seed.refunds['A']}/reject", owner, {"json": {"reason": "barang rusak sendiri"}}),
                ("POST", f"/payments/fix-cases/{case.id}/resolve", support, {"json": {"outcome": "no_payment"}}),
                ("POST", f"/merchants/{a}/onboarding/finish", support, {}),
                ("POST", f"/alerts/{seed.alerts['A']}/acknowledge", owner, {}),
                ("POST", f"/suggestions/{seed.suggestions['B']}/dismiss", support, {}),
            ]  # fmt: skip
            for method, path, who, extra in calls:
                headers = extra.pop("headers", {}) | who
                answer = await client.request(method, path, headers=headers, **extra)
                assert answer.status_code < 300, (path, answer.status_code, answer.text)
            changed = await client.post(
                "/auth/password", json={"current_password": PASSWORD, "new_password": "a-new-password-42"},
                headers=owner,
            )  # fmt: skip
            assert changed.status_code == 200

            trail = (await client.get("/audit?limit=500", headers=support)).json()
            actions = sorted(e["action"] for e in trail["items"])
            assert actions == sorted([
                "command.sent", "ticket.cancel", "merchant.settings", "device.credentials", "devices.imported",
                "user.create", "refund.rejected", "fix_case.no_payment", "merchant.onboarded",
                "alert.acknowledge", "suggestion.dismiss", "user.password",
            ]), actions  # fmt: skip
            by_action = {e["action"]: e for e in trail["items"]}
            assert by_action["merchant.settings"]["actor"] == "merchant_a"
            assert by_action["merchant.settings"]["after"] == {"auto_cancel_minutes": 45}
            assert by_action["merchant.settings"]["before"] != by_action["merchant.settings"]["after"]
            assert by_action["ticket.cancel"]["before"] == {"state": "opened"}
            assert by_action["ticket.cancel"]["after"]["state"] == "cancelled"
            assert by_action["command.sent"]["target"] == f"device:{serial}"
            assert (
                by_action["command.sent"]["actor"] == "support"
                and by_action["command.sent"]["after"]["command"] == "lock"
            )
            assert by_action["devices.imported"]["after"] == {"devices": 1, "serials": ["TKM-A900"]}
            credentials = by_action["device.credentials"]
            assert credentials["after"] == {"credentials": True} and "password" not in str(credentials)
            assert by_action["user.password"]["before"] is None and by_action["user.password"]["after"] is None

            # Filters: an action's family, an actor, a target.
            tickets = (await client.get("/audit?action=ticket.", headers=support)).json()
            assert [e["action"] for e in tickets["items"]] == ["ticket.cancel"]
            mine = (await client.get("/audit?actor=support", headers=support)).json()
            assert {e["actor"] for e in mine["items"]} == {"support"} and mine["total"] == 6
            target = (await client.get(f"/audit?target=merchant:{a}", headers=support)).json()
            assert {e["action"] for e in target["items"]} >= {"merchant.settings", "merchant.onboarded"}

            # A merchant's user sees its merchant's entries, never another's (B's suggestion) nor the fleet's.
            again = await login(client, "merchant_a", "a-new-password-42")
            seen = (await client.get("/audit?limit=500", headers=again)).json()
            assert seen["items"] and all(e["merchant_id"] == a for e in seen["items"])
            assert "suggestion.dismiss" not in {e["action"] for e in seen["items"]}
            other = await login(client, "merchant_b")
            assert {e["merchant_id"] for e in (await client.get("/audit", headers=other)).json()["items"]} <= {b}

    asyncio.run(body())
