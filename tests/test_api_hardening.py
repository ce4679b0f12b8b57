"""API hardening (#22): what a security probe of the running service found, each a test on SQLite and
PostgreSQL through the real app."""

import asyncio

from api_helpers import PASSWORD, fleet_api, login
from fleet_helpers import database_url  # noqa: F401  (fixture)

from fleet.repairs.models import Ticket


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_a_mixed_case_form_content_type_does_not_slip_a_nul_past_the_guard(database_url):  # noqa: F811
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


def test_the_public_check_refuses_a_blank_invoice_for_a_device_without_one(database_url):  # noqa: F811
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
