"""The fleet API on SQLite and on PostgreSQL: login and roles, devices, telemetry, transactions,
commands and CSV import, with RFC 9457 problem+json errors."""

import asyncio

from fleet.devices.models import Device, Merchant
from tests.api_helpers import NOW, PASSWORD, fleet_api, login, portal_login

PROBLEM = "application/problem+json"


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_login_roles_and_problem_details(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            bad = await client.post("/auth/token", data={"username": "support", "password": "wrong password"})
            assert bad.status_code == 401 and bad.headers["content-type"] == PROBLEM
            assert bad.json()["detail"] == "wrong username or password" and bad.headers["www-authenticate"] == "Bearer"
            nobody = await client.post("/auth/token", data={"username": "nobody", "password": PASSWORD})
            assert nobody.status_code == 401 and nobody.json() | {"instance": ""} == bad.json() | {"instance": ""}

            anonymous = await client.get("/devices")
            assert anonymous.status_code == 401 and anonymous.json()["type"] == "/problems/unauthorized"
            forged = await client.get("/devices", headers={"Authorization": "Bearer not.a.token"})
            assert forged.status_code == 401

            support = await login(client, "support")
            me = await client.get("/auth/me", headers=support)
            assert me.json()["role"] == "biz_support"
            merchant = await login(client, "merchant_a")
            refused = await client.post("/merchants", json={"name": "New"}, headers=merchant)
            assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
            users = await client.get("/users", headers=support)
            assert users.status_code == 403  # only admins manage users
            admin = await login(client, "admin")
            made = await client.post(
                "/users",
                json={"username": "kasir", "password": "0123456789x", "role": "merchant", "merchant_id": None},
                headers=admin,
            )
            assert made.status_code == 422 and "merchant_id" in made.json()["detail"]

            invalid = await client.get("/devices?limit=100000", headers=support)
            assert invalid.status_code == 422 and invalid.headers["content-type"] == PROBLEM
            assert invalid.json()["errors"][0]["loc"] == ["query", "limit"]

    run(body())


def test_device_list_filters_and_detail(database_url):
    async def body() -> None:
        async with fleet_api(database_url, clock=lambda: NOW) as (client, seed):
            support = await login(client, "support")
            everything = (await client.get("/devices", headers=support)).json()
            assert everything["total"] == 4
            a = seed.merchants["A"]
            mine = (await client.get(f"/devices?merchant_id={a}", headers=support)).json()
            assert [d["serial"] for d in mine["items"]] == seed.devices["A"]
            online = (await client.get("/devices?online=true&model=TKM-58", headers=support)).json()
            assert sorted(d["serial"] for d in online["items"]) == ["TKM-A000", "TKM-B000"]
            assert (await client.get("/devices?firmware=9.9.9", headers=support)).json()["total"] == 0
            first = (await client.get("/devices?limit=1", headers=support)).json()
            assert [d["serial"] for d in first["items"]] == ["TKM-A000"] and first["next"]
            page = (await client.get(f"/devices?limit=1&after={first['next']}", headers=support)).json()
            assert page["total"] == 4 and [d["serial"] for d in page["items"]] == ["TKM-A001"]

            detail = (await client.get("/devices/TKM-A000", headers=support)).json()
            assert detail["telemetry"]["uptime_s"] == 118 * 60  # the latest sample
            assert [e["type"] for e in detail["recent_events"]] == ["receipt", "sale", "payment", "open"]
            assert detail["open_commands"] == 1 and detail["ownership"] == "purchased"
            missing = await client.get("/devices/NOPE-0001", headers=support)
            assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM

    run(body())


def test_telemetry_is_downsampled_into_buckets(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            support = await login(client, "support")
            query = "since=2026-11-20T07:00:00Z&until=2026-11-20T09:00:00Z"
            full = (await client.get(f"/devices/TKM-A000/telemetry?{query}&points=2000", headers=support)).json()
            assert len(full["points"]) == 60 and all(p["samples"] == 1 for p in full["points"])
            coarse = (await client.get(f"/devices/TKM-A000/telemetry?{query}&points=4", headers=support)).json()
            assert coarse["bucket_seconds"] == 1800 and [p["samples"] for p in coarse["points"]] == [15] * 4
            first = coarse["points"][0]
            # minutes 0..28 of the seeded series: mean of the gauges, max of the counters
            assert first["mem_free"] == 50_000 + 28 / 2 and first["printed_mm"] == 280
            backwards = await client.get(
                "/devices/TKM-A000/telemetry?since=2026-11-20T09:00:00Z&until=2026-11-20T08:00:00Z", headers=support
            )
            assert backwards.status_code == 422

    run(body())


def test_transactions_by_device_and_by_merchant(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            merchant = await login(client, "merchant_a")
            by_device = (await client.get("/devices/TKM-A000/transactions", headers=merchant)).json()
            assert [e["type"] for e in by_device["items"]] == ["sale", "payment"]  # not open/receipt
            sales = (
                await client.get(f"/merchants/{seed.merchants['A']}/transactions?type=sale", headers=merchant)
            ).json()
            assert sales["total"] == 2 and {e["serial"] for e in sales["items"]} == set(seed.devices["A"])

    run(body())


def test_commands_are_validated_queued_and_scoped_by_role(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            merchant = await login(client, "merchant_a")
            reprint = await client.post(
                "/devices/TKM-A000/commands", json={"name": "reprint", "args": {"receipt": "A-12"}}, headers=merchant
            )
            assert reprint.status_code == 202 and reprint.json()["status"] == "pending"
            lock = await client.post("/devices/TKM-A000/commands", json={"name": "lock"}, headers=merchant)
            assert lock.status_code == 403  # locking a rented terminal is the vendor's decision
            support = await login(client, "support")
            bad = await client.post("/devices/TKM-A000/commands", json={"name": "reprint", "args": {}}, headers=support)
            assert bad.status_code == 422 and bad.json()["field"] == "args.receipt"
            pay = await client.post("/devices/TKM-A000/commands", json={"name": "pay_confirm"}, headers=support)
            assert pay.status_code == 422  # payment confirmations come from the payments backend only
            listed = (await client.get("/devices/TKM-A000/commands", headers=merchant)).json()
            assert [c["name"] for c in listed] == ["reprint", "ping"]
            one = await client.get(f"/commands/{reprint.json()['id']}", headers=merchant)
            assert one.json()["args"] == {"receipt": "A-12"} and one.json()["requested_by"] == "merchant_a"

    run(body())


CSV = """serial,model,device_type,merchant,ownership,invoice_number,invoice_date,rental_start,rental_end
tkm-c001,TKM-58,mpos,Merchant C,purchased,INV-9,2026-02-01,,
TKM-C002,TKM-80,printer,Merchant A,rented,,,2026-06-01,2027-05-31
TKM-C003,TKM-58,mpos,Merchant C,purchased,,,,
TKM-C004,TKM-58,toaster,Merchant C,leased,INV-1,2026-13-01,,
TKM-A000,TKM-58,mpos,Merchant A,purchased,INV-1,2026-01-01,,
TKM-C001,TKM-58,mpos,Merchant C,purchased,INV-1,2026-01-01,,
TKM/C007,TKM-58,mpos,Merchant C,rented,,,2026-06-01,2026-05-01
"""


def test_csv_import_registers_good_rows_and_reports_each_bad_one(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            support = await login(client, "support")
            headers = support | {"Content-Type": "text/csv"}
            dry = (await client.post("/devices/import?dry_run=true", content=CSV, headers=headers)).json()
            assert dry["created"] == 2 and not await Device.exists(serial="TKM-C001")
            report = (await client.post("/devices/import", content=CSV, headers=headers)).json()
            assert report["rows"] == 7 and report["created"] == 2 and report["merchants_created"] == ["Merchant C"]
            errors = {(e["line"], e["field"]) for e in report["errors"]}
            assert errors == {
                (4, "invoice_date"),  # W1: a purchased device needs its invoice
                (5, "device_type"),
                (5, "ownership"),
                (5, "invoice_date"),
                (6, "serial"),  # already registered
                (7, "serial"),  # repeats line 2
                (8, "serial"),
                (8, "rental_end"),  # W2: a rental period that ends before it starts
            }
            c001 = await Device.get(serial="TKM-C001").prefetch_related("merchant")
            assert c001.merchant.name == "Merchant C" and str(c001.invoice_date) == "2026-02-01"
            assert await Device.get(serial="TKM-C002").values_list("merchant__name", flat=True) == "Merchant A"
            again = (await client.post("/devices/import", content=CSV, headers=headers)).json()
            assert again["created"] == 0 and await Merchant.filter(name="Merchant C").count() == 1

            no_columns = await client.post("/devices/import", content="serial,model\nX,Y\n", headers=headers)
            assert no_columns.status_code == 422 and "device_type" in no_columns.json()["detail"]
            binary = await client.post("/devices/import", content=b"serial\xff\xfe\x80", headers=headers)
            assert binary.status_code == 422
            merchant = await login(client, "merchant_a")
            assert (await client.post("/devices/import", content=CSV, headers=merchant)).status_code == 403

    run(body())


def test_hostile_requests_get_clear_errors_are_counted_and_change_nothing(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            support = await login(client, "support")
            devices, merchants = await Device.all().count(), await Merchant.all().count()
            hostile = [
                ("GET", "/devices?model=%00", {}),
                ("POST", "/merchants", {"json": {"name": "a\u0000b"}}),
                ("POST", "/devices/import", {"content": "serial\x00,model\n", "headers": {"Content-Type": "text/csv"}}),
                ("POST", "/auth/token", {"data": {"username": "admin\x00", "password": PASSWORD}}),
            ]
            for method, path, extra in hostile:
                answer = await client.request(method, path, **(extra | {"headers": extra.get("headers", {}) | support}))
                assert answer.status_code == 400 and answer.json()["type"] == "/problems/nul-character", path
            junk = await client.post(
                "/merchants", content=b"{not json", headers=support | {"Content-Type": "application/json"}
            )
            assert junk.status_code == 422 and junk.headers["content-type"] == PROBLEM
            huge = await client.get(f"/merchants/{2**63}", headers=support)
            assert huge.status_code == 422
            traversal = await client.get("/devices/..%2F..%2Fetc%2Fpasswd", headers=support)
            assert traversal.status_code in (404, 422)
            health = (await client.get("/healthz")).json()
            assert health["refused_requests"] == {"refused.nul-character": 4}
            assert await Device.all().count() == devices and await Merchant.all().count() == merchants

    run(body())


def test_a_terminal_that_changes_hands_does_not_take_its_sales_with_it(database_url):
    """A terminal given back and handed to another merchant: the new merchant sees none of the previous
    owner's sales (not in the device's transactions, its detail, its orders, nor a pay link for them);
    the previous owner still has them in its own transactions."""

    async def body() -> None:
        from fleet.ingest.models import Event
        from fleet.payments.gateway import SandboxGateway

        # A gateway adapter that is never reached: the pay link is refused before any charge is made.
        unused = SandboxGateway("http://127.0.0.1:9", "unused-key", "unused-secret")
        async with fleet_api(database_url, acquirer=unused) as (client, seed):
            serial = seed.devices["A"][0]
            old_order = {"receipt": "V00-000077", "status": "partially_paid", "total": 50_000, "paid": 20_000}
            await Event.create(
                key=f"{serial}/j1/77",
                serial=serial,
                jid="j1",
                seq=77,
                type="sale",
                device_time=(await Event.filter(serial=serial).first()).device_time,  # type: ignore[union-attr]
                data=old_order | {"outstanding": 30_000},
                merchant_id=seed.merchants["A"],
            )
            a, b = await login(client, "merchant_a"), await login(client, "merchant_b")
            support = await login(client, "support")
            before = (await client.get(f"/merchants/{seed.merchants['A']}/transactions", headers=a)).json()["total"]
            await Device.filter(serial=serial).update(merchant_id=seed.merchants["B"])

            assert (await client.get(f"/devices/{serial}", headers=a)).status_code == 404  # not A's any more
            mine = await client.get(f"/devices/{serial}/transactions", headers=b)
            assert mine.status_code == 200 and mine.json()["total"] == 0
            assert (await client.get(f"/devices/{serial}", headers=b)).json()["recent_events"] == []
            b_all = (await client.get(f"/merchants/{seed.merchants['B']}/transactions", headers=b)).json()
            assert all(item["serial"] != serial for item in b_all["items"])
            kept = (await client.get(f"/merchants/{seed.merchants['A']}/transactions", headers=a)).json()
            assert kept["total"] == before and any(item["serial"] == serial for item in kept["items"])
            order = f"/devices/{serial}/orders/V00-000077"
            assert (await client.get(order, headers=b)).status_code == 404
            link = await client.post(f"{order}/paylinks", json={"email": "x@y.id", "methods": ["qris"]}, headers=b)
            assert link.status_code == 404, link.text
            assert (await client.get(order, headers=support)).json()["outstanding"] == 30_000  # staff see all
            everything = await client.get(f"/devices/{serial}/transactions", headers=support)
            assert everything.json()["total"] > 0

    run(body())


def test_device_search_is_one_rule_in_the_api_and_the_portal(database_url):
    """#17: the API matched serial prefixes and the portal serial substrings; both now match the serial or
    the merchant's name, in any case, within what the caller may see."""

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            support = await login(client, "support")
            a0, a1 = seed.devices["A"]
            for q, expected in (("a000", {a0}), ("-A0", {a0, a1}), ("merchant a", {a0, a1}), ("zzz", set())):
                found = (await client.get("/devices", params={"q": q}, headers=support)).json()["items"]
                assert {d["serial"] for d in found} == expected, q
            owner = await login(client, "merchant_a")
            theirs = (await client.get("/devices", params={"q": "merchant b"}, headers=owner)).json()["items"]
            assert theirs == []
            await portal_login(client, "support")
            listing = await client.get("/portal/devices", params={"q": "merchant a"})
            assert a0 in listing.text and a1 in listing.text and seed.devices["B"][0] not in listing.text

    run(body())
