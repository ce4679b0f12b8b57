"""#23, first steps: lists that held at a few hundred tickets and broke at fleet scale, and the indexes
the lists need, on SQLite and PostgreSQL."""

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from fleet.repairs.models import Ticket
from fleet.web.pages import ALERT_ROWS
from tests.api_helpers import fleet_api, login, plan, portal_login

pytestmark = pytest.mark.slow  # 33,000 tickets

LATE = 33_000  # past the PostgreSQL driver's 32,767 parameters a statement


def test_the_overdue_list_holds_past_32767_late_tickets(database_url):
    """#23: `GET /tickets?overdue=true|false` sent every late ticket's id as a query parameter: past
    32,767 late tickets it failed on the driver's parameter limit (a 500). Lateness is SQL now."""

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            device = seed.devices["A"][0]
            from fleet.devices.models import Device

            row = await Device.get(serial=device)
            at = datetime(2026, 1, 5, 9, tzinfo=UTC)
            shared = {"device_id": row.id, "merchant_id": seed.merchants["A"], "problem": "macet", "opened_by": "x"}
            tickets = [
                Ticket(
                    **shared,
                    state="repairing",
                    opened_at=at,
                    updated_at=at,
                    received_on=date(2026, 1, 5),
                    due_earliest=date(2026, 1, 8),
                    due_latest=date(2026, 1, 9),
                )
                for _ in range(LATE)
            ]
            # and one finished in time, one without a due day: neither is late
            tickets.append(
                Ticket(
                    **shared,
                    state="closed",
                    opened_at=at,
                    updated_at=at,
                    due_latest=date(2026, 1, 9),
                    finished_on=date(2026, 1, 8),
                )
            )
            tickets.append(Ticket(**shared, state="opened", opened_at=at, updated_at=at))
            await Ticket.bulk_create(tickets, batch_size=2000)
            support = await login(client, "support")
            late = await client.get("/tickets", params={"overdue": "true", "limit": 5}, headers=support)
            assert late.status_code == 200, late.text[:300]
            assert len(late.json()) == 5 and all(t["state"] == "repairing" for t in late.json())
            on_time = await client.get("/tickets", params={"overdue": "false", "limit": 500}, headers=support)
            assert on_time.status_code == 200, on_time.text[:300]
            states = sorted(t["state"] for t in on_time.json())
            assert "repairing" not in states and {"closed", "opened"} <= set(states), states
            # The dashboard counts them in SQL and lists the first ALERT_ROWS (it loaded every late ticket).
            await portal_login(client, "support")
            dashboard = await client.get("/portal/dashboard")
            assert dashboard.status_code == 200 and f">{LATE}</b>" in dashboard.text
            assert dashboard.text.count('href="/portal/tickets/') == ALERT_ROWS

    asyncio.run(body())


INDEXED = {
    "event": ("merchant_id", "device_time"),
    "device": ("merchant_id",),
    "ticket": ("device_id",),
    "ticket_transition": ("ticket_id",),
    "command": ("device_id",),
}


def _indexes(database_url: str) -> dict[str, list[tuple[str, ...]]]:
    found: dict[str, list[tuple[str, ...]]] = {}
    if database_url.startswith("sqlite://"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite://"))
        for table in INDEXED:
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=?", (table,)):
                cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info('{name}')"))
                found.setdefault(table, []).append(cols)
        conn.close()
        return found

    async def pg() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT t.relname, array_agg(a.attname ORDER BY k.n) FROM pg_index i "
                "JOIN pg_class t ON t.oid = i.indrelid "
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
                "WHERE t.relname = ANY($1::text[]) GROUP BY t.relname, i.indexrelid",
                list(INDEXED),
            )
            for table, cols in rows:
                found.setdefault(table, []).append(tuple(cols))
        finally:
            await conn.close()

    asyncio.run(pg())
    return found


def test_the_lists_have_their_indexes(database_url):
    """#23: event.merchant_id was declared indexed but the migration never made the index (a 5 M-row scan
    per merchant's transactions); the foreign keys the lists filter on had none."""
    found = _indexes(database_url)
    for table, columns in INDEXED.items():
        assert any(cols[: len(columns)] == columns for cols in found.get(table, [])), (table, found.get(table))


def test_the_device_search_uses_its_trigram_indexes_on_postgresql(database_url):
    """#23: the device search is a substring match in any case on the serial or the merchant's name
    (`ILIKE '%…%'` in effect): a b-tree cannot serve it, and at a million devices every search scanned the
    table. On PostgreSQL the serial and the merchant's name now have trigram indexes on the very expression
    the search compares, and the named merchants' ids are looked up first, so the device side is the
    serial's trigram index OR-ed with the merchant index. On both databases the answer is the same."""
    from fleet.auth.deps import Principal
    from fleet.auth.models import Role
    from fleet.devices import service as devices
    from fleet.devices.models import Device, DeviceType, Merchant, Ownership

    async def body() -> None:
        async with fleet_api(database_url):
            merchants = [Merchant(name=f"Warung {n:04d}") for n in range(300)] + [Merchant(name="Toko Sinar Jaya")]
            await Merchant.bulk_create(merchants, batch_size=500)
            ids = [m.id for m in await Merchant.filter(name__startswith="Warung").order_by("id")]
            sinar = await Merchant.get(name="Toko Sinar Jaya")
            await Device.bulk_create(
                [
                    Device(
                        serial=f"TKM-S{n:06d}", model="TKM-58", device_type=DeviceType.MPOS,
                        ownership=Ownership.PURCHASED, merchant_id=sinar.id if n % 10_000 == 7 else ids[n % len(ids)],
                    )
                    for n in range(30_000)
                ],
                batch_size=2_000,
            )  # fmt: skip
            staff = Principal(1, "support", Role.BIZ_SUPPORT, None)
            now = datetime(2026, 12, 1, tzinfo=UTC)
            by_serial = [d.serial for d in await (await devices.listed(staff, now, q="s012345"))]
            assert by_serial == ["TKM-S012345"]
            by_name = [d.serial for d in await (await devices.listed(staff, now, q="sinar"))]
            assert by_name == ["TKM-S000007", "TKM-S010007", "TKM-S020007"]
            if not database_url.startswith("postgres"):
                return
            client = Device._meta.db
            # To half a million devices, so that the planner chooses by itself (at 30,000 a scan is
            # rightly cheaper): plain SQL, the ORM would take minutes.
            await client.execute_script(
                "INSERT INTO device (serial, model, device_type, ownership, online, capabilities, created_at,"
                " config, sales_locked, service_plan, merchant_id)"
                " SELECT 'TKM-T' || lpad(g::text, 7, '0'), 'TKM-58', 'mpos', 'purchased', false, '[]', now(),"
                f" '{{}}', false, 'basic', {ids[0]} FROM generate_series(0, 469999) g;"
                " ANALYZE device; ANALYZE merchant"
            )

            async def search(q: str) -> str:
                return await plan((await devices.listed(staff, now, q=q)).limit(50))  # as the API pages it

            by_serial_plan = await search("s012345")
            assert "idx_device_serial_trgm" in by_serial_plan, by_serial_plan
            by_name_plan = await search("sinar")  # the serial's trigrams OR the named merchant's id
            assert "idx_device_serial_trgm" in by_name_plan and "idx_device_merchant" in by_name_plan, by_name_plan
            assert "Seq Scan on device" not in by_serial_plan + by_name_plan

    asyncio.run(body())


def test_the_dashboard_counts_its_five_figures_in_one_pass_of_the_device_table(database_url):
    """#23: the dashboard counted online, offline, paper out, low battery and long offline with a query
    each: five scans of the device table per request at a million devices. One statement now counts all
    five, each figure the same as its own filter's count."""
    from fleet.devices import service as devices
    from fleet.devices.models import Device, DeviceType, Ownership

    async def body() -> None:
        async with fleet_api(database_url):
            now = datetime(2026, 12, 1, 9, tzinfo=UTC)
            await Device.bulk_create(
                [
                    Device(
                        serial=f"TKM-C{n:05d}", model="TKM-58", device_type=DeviceType.MPOS,
                        ownership=Ownership.PURCHASED, online=n % 3 == 0,
                        last_seen=None if n % 7 == 0 else now - timedelta(minutes=n % 400),
                        paper="out" if n % 5 == 0 else "ok", battery_pct=n % 100,
                    )
                    for n in range(2_000)
                ],
                batch_size=500,
            )  # fmt: skip
            filters = devices.dashboard_filters(now, now - timedelta(hours=2), 20)
            executed: list[str] = []
            client = Device._meta.db
            original = client.execute_query_dict

            async def counting(sql: str, values: Any = None) -> Any:
                executed.append(sql)
                return await original(sql, values)

            client.execute_query_dict = counting  # type: ignore[method-assign]
            try:
                counts = await devices.counted(filters)
            finally:
                client.execute_query_dict = original  # type: ignore[method-assign]
            assert len(executed) == 1 and executed[0].count("FROM") == 1, executed
            for name, q in filters.items():
                assert counts[name] == await Device.filter(q).count(), name
            assert counts["online"] + counts["offline"] == await Device.all().count()
            assert 0 < counts["long_offline"] < counts["offline"]

    asyncio.run(body())
