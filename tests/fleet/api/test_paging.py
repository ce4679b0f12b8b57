"""#23: the long lists a page at a time by keyset (fleet.paging), with totals exact when cheap and
estimated when not, on SQLite and PostgreSQL."""

import asyncio
import html
import re
from datetime import timedelta
from typing import Any

from fleet import paging
from fleet.ingest.models import Event
from tests import factories
from tests.api_helpers import fleet_api, login, plan, portal_login

PROBLEM = "application/problem+json"


def test_a_merchants_transactions_walk_page_by_page_each_once_in_order_through_ties(database_url):
    """The transactions were paged by OFFSET: page n read and dropped every row before it (at 5 million
    events a late page took seconds), and a sale stored meanwhile shifted every later page by one. Now
    `next` is a cursor on (time, id): 130 sales, ten to each moment, walk in pages of 25 newest first,
    each exactly once, the last page without a `next`."""

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            serial, merchant = seed.devices["A"][1], seed.merchants["A"]
            for n in range(130):
                when = factories.WHEN + timedelta(minutes=n // 10)
                await factories.sale(serial, 1000 + n, f"P-{n:03d}", 1_000, 1_000, when)
            owner = await login(client, "merchant_a")
            expected = [
                e.key
                for e in await Event.filter(merchant_id=merchant, type__in=("sale", "void", "refund", "payment"))
                .order_by("-device_time", "-id")
            ]  # fmt: skip
            seen: list[str] = []
            url = f"/merchants/{merchant}/transactions?limit=25"
            cursor = None
            pages = 0
            while True:
                page = (await client.get(url + (f"&after={cursor}" if cursor else ""), headers=owner)).json()
                assert page["total"] == len(expected) + (pages >= 2) and page["total_estimated"] is False
                seen += [item["key"] for item in page["items"]]
                pages += 1
                cursor = page["next"]
                if cursor is None:
                    break
                # a sale stored while the list is read lands on the first page, never shifts the rest
                if pages == 2:
                    await factories.sale(serial, 5000, "P-NEW", 1_000, 1_000, factories.WHEN + timedelta(days=1))
            assert seen == expected and pages == -(-len(expected) // 25)
            by_device = (await client.get(f"/devices/{serial}/transactions?limit=7", headers=owner)).json()
            second = await client.get(
                f"/devices/{serial}/transactions?limit=7&after={by_device['next']}", headers=owner
            )
            assert len({i["key"] for i in by_device["items"] + second.json()["items"]}) == 14

    asyncio.run(body())


def test_a_cursor_the_list_never_gave_is_a_clear_422_never_a_500(database_url):
    """Bad input: a cursor is the client's to send back untouched; anything else (garbage, another list's,
    the wrong types, too long, a huge number) is refused with a problem that says what to send."""
    hostile = [
        "!!!",
        "bm90IGpzb24",  # "not json"
        paging._encode([1, 2, 3]),  # another list's shape
        paging._encode(["yesterday", 5]),  # not a time
        paging._encode(["2026-11-20T09:00:00", 5]),  # a time without its zone
        paging._encode(["2026-11-20T09:00:00+00:00", "5"]),  # the id as a string
        paging._encode(["2026-11-20T09:00:00+00:00", 2**70]),  # past any id
        paging._encode(["2026-11-20T09:00:00+00:00", True]),
        "A" * 299,
    ]

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            support = await login(client, "support")
            merchant = seed.merchants["A"]
            for cursor in hostile:
                answer = await client.get(f"/merchants/{merchant}/transactions?after={cursor}", headers=support)
                assert answer.status_code == 422, (cursor, answer.status_code, answer.text[:200])
                assert answer.headers["content-type"] == PROBLEM and "cursor" in answer.json()["detail"]
            devices = await client.get(f"/devices?after={paging._encode([7])}", headers=support)
            assert devices.status_code == 422 and "cursor" in devices.json()["detail"]
            too_long = await client.get("/devices?after=" + "A" * 400, headers=support)
            assert too_long.status_code == 422

    asyncio.run(body())


def test_on_postgresql_a_long_list_pages_through_its_index_and_its_total_is_estimated(database_url):
    """At 400,000 events of one merchant a later page is an index range read from the cursor on
    (merchant, time), not a scan and a sort; the total is the planner's estimate (flagged), not a count
    of every row per request."""
    if not database_url.startswith("postgres"):
        return

    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            merchant = seed.merchants["A"]
            db = Event._meta.db
            await db.execute_script(
                "INSERT INTO event (key, serial, jid, seq, type, device_time, received_at, data, merchant_id)"
                " SELECT 'TKM-P/j/' || g, 'TKM-P' || (g % 50), 'j', g, 'sale',"
                " TIMESTAMPTZ '2026-01-01' + (g / 3) * INTERVAL '1 second', now(), '{}', "
                f"{merchant} FROM generate_series(1, 400000) g; ANALYZE event"
            )
            support = await login(client, "support")
            first = (await client.get(f"/merchants/{merchant}/transactions?limit=50", headers=support)).json()
            assert first["total_estimated"] is True
            exact = await Event.filter(merchant_id=merchant, type__in=("sale", "void", "refund", "payment")).count()
            assert abs(first["total"] - exact) < exact * 0.2, (first["total"], exact)
            values = paging._decode(first["next"], Event, ["device_time", "id"])
            query = Event.filter(merchant_id=merchant, type__in=("sale", "void", "refund", "payment"))
            later = query.filter(paging._after(["device_time", "id"], True, values)).order_by("-device_time", "-id")
            shown: Any = await plan(later.limit(51))
            assert "Index Scan Backward using idx_event_merchant_time" in shown and "Seq Scan" not in shown, shown
            # at most the ties of one moment sorted by id, as the index hands the rows over in time order
            sorts = [line.strip() for line in shown.splitlines() if "Sort  (" in line]
            assert all(line.startswith("->  Incremental Sort") for line in sorts), shown

    asyncio.run(body())


def test_the_portal_device_list_says_how_many_and_pages_through_all_keeping_its_filters(database_url):
    """#23 (and #18's finding): with 262 devices the device page showed the first 200, with no count and no
    way on; two live terminals fell off it. It now shows how many there are and 50 a page, the next page
    a link that keeps the search."""
    from fleet.devices.models import Device, DeviceType, Ownership

    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            await Device.bulk_create(
                [
                    Device(serial=f"TKM-G{n:04d}", model="TKM-58", device_type=DeviceType.MPOS,
                           ownership=Ownership.PURCHASED)
                    for n in range(262)
                ]
            )  # fmt: skip
            await portal_login(client, "support")
            url: str | None = "/portal/devices?q=tkm-g"
            seen: list[str] = []
            while url:
                page = await client.get(url)
                assert page.status_code == 200, page.text[:300]
                assert "262 perangkat" in page.text
                rows = re.findall(r'href="/portal/devices/(TKM-G\d+)"', page.text)
                assert 0 < len(rows) <= 50
                seen += rows
                found = re.search(r'id="next-page" href="([^"]+)"', page.text)
                url = html.unescape(found.group(1)) if found else None
                assert url is None or "q=tkm-g" in url
            assert seen == [f"TKM-G{n:04d}" for n in range(262)]
            wrong = await client.get("/portal/devices?after=nonsense")
            assert wrong.status_code == 422 and "<html" in wrong.text.lower()

    asyncio.run(body())
