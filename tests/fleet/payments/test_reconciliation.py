"""FP1 reconciliation of a generated day of 10,000 transactions with injected mismatches: exactly the
injected ones come out, each with its reason, as fix-payment cases (SQLite and PostgreSQL)."""

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from fleet.ingest.models import Event
from fleet.payments.models import FixPaymentCase
from tests.api_helpers import fleet_api, login
from tools.sandbox_gateway import settlement_csv

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

DAY = date(2026, 11, 19)
TERMINALS = [f"TKM-R{n:03d}" for n in range(50)]
N = 10_000


def generate_day(rng: random.Random) -> tuple[list[Event], list[dict], dict[str, str], set[str]]:
    """Terminal payment events and the gateway's settlement rows; the injected mismatches by reference."""
    events, rows, expected, unsettled = [], [], {}, set()
    start = datetime(DAY.year, DAY.month, DAY.day, 1, tzinfo=UTC)
    for i in range(N):
        serial = TERMINALS[i % len(TERMINALS)]
        paid_at = start + timedelta(seconds=i * 7)
        rrn = f"{500000000000 + i}"
        amount = 10_000 + rng.randrange(500) * 100
        reference = f"{serial}:R-{i:06d}/1"
        key = f"{serial}/j1/{i}"
        at = paid_at + timedelta(seconds=rng.randrange(-90, 90))  # the terminal's clock and the network
        row = {"charge_id": f"ch_{i}", "reference": reference, "rrn": rrn, "amount": amount}
        row |= {"paid_at": paid_at.isoformat(), "terminal": serial, "method": "qris"}
        kind = i % 1000  # ten of each injection, spread over the day
        if kind == 1:
            row["amount"] = amount + 100
            expected[reference] = "amount_mismatch"
        elif kind == 2:
            expected[reference] = "wrong_terminal"
            row["terminal"] = TERMINALS[(i + 1) % len(TERMINALS)]
        elif kind == 3:
            at = paid_at + timedelta(hours=1)
            expected[reference] = "outside_window"
        if kind == 4:
            expected[reference] = "no_order"  # paid, but the terminal recorded nothing
        else:
            data = {"receipt": f"R-{i:06d}", "status": "confirmed", "method": "qris", "amount": amount, "ref": rrn}
            events.append(Event(key=key, serial=serial, jid="j1", seq=i, type="payment", device_time=at, data=data))
        if kind == 5:
            unsettled.add(key)  # recorded at the terminal, never settled
            continue
        if kind in (1, 2, 3):
            unsettled.add(key)
        rows.append(row)
        if kind == 6:
            rows.append(dict(row, charge_id=f"ch_{i}_dup"))  # settled twice
            expected[reference + "#dup"] = "duplicate"
    rng.shuffle(rows)
    return events, rows, expected, unsettled


def test_a_day_of_10000_with_injected_mismatches_finds_exactly_those(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (client, _seed):
            events, rows, expected, unsettled = generate_day(random.Random(7))
            for start in range(0, len(events), 1000):
                await Event.bulk_create(events[start : start + 1000])
            support = await login(client, "support")
            answer = await client.post(
                "/payments/reconciliations",
                params={"date": DAY.isoformat()},
                content=settlement_csv(rows),
                headers=support | {"Content-Type": "text/csv"},
            )
            assert answer.status_code == 201, answer.text
            run = answer.json()
            assert run["settled"] == len(rows) == N - 10 + 10  # kind 5 never settled, kind 6 settled twice
            assert run["unmatched"] == len(expected) == 50
            assert run["matched"] == len(rows) - 50
            assert set(run["report"]["unsettled"]) == unsettled
            found = {}
            for item in run["report"]["unmatched"]:
                name = item["reference"] + ("#dup" if item["reason"] == "duplicate" else "")
                found[name] = item["reason"]
            assert found == expected
            cases = await FixPaymentCase.filter(source="reconciliation").values_list("reference", "reason")
            assert len(cases) == 50 and {r for _, r in cases} == set(expected.values())

    asyncio.run(body())
