"""A seeded fleet database and logged-in HTTP clients on the real app (httpx over ASGI), for API tests.

Two merchants, A and B, each with devices, transactions, telemetry and a command; a user per role.
Tests assert that merchant A's user never reaches B's things.
"""

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from fleet import db
from fleet.alerts.models import Alert, Subscription
from fleet.app import create_app
from fleet.auth import passwords
from fleet.auth.models import Role, User
from fleet.commands import service as commands
from fleet.devices.models import Device, DeviceType, Merchant, Ownership
from fleet.ingest.models import Event, TelemetrySample
from fleet.payments.models import PayLaterSession, RefundRequest
from fleet.repairs import service as repairs
from fleet.repairs.models import Suggestion

PASSWORD = "correct horse battery"
PASSWORD_HASH = passwords.hash_password(PASSWORD)  # once: the hash is deliberately slow
SECRET = "test-secret-" + "x" * 32
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass
class Seed:
    merchants: dict[str, int] = field(default_factory=dict)
    devices: dict[str, list[str]] = field(default_factory=dict)  # merchant letter → serials
    commands: dict[str, str] = field(default_factory=dict)  # merchant letter → command id
    tickets: dict[str, int] = field(default_factory=dict)  # merchant letter → repair ticket id
    suggestions: dict[str, int] = field(default_factory=dict)  # merchant letter → suggestion id
    paylater: dict[str, str] = field(default_factory=dict)  # merchant letter → PayLater session id
    refunds: dict[str, int] = field(default_factory=dict)  # merchant letter → refund request id
    alerts: dict[str, int] = field(default_factory=dict)  # merchant letter → an open alert's id
    subscriptions: dict[str, int] = field(default_factory=dict)  # merchant letter → an alert subscription


async def seed() -> Seed:
    out = Seed()
    for letter in "AB":
        merchant = await Merchant.create(name=f"Merchant {letter}")
        out.merchants[letter] = merchant.id
        serials = [f"TKM-{letter}{n:03d}" for n in range(2)]
        out.devices[letter] = serials
        for n, serial in enumerate(serials):
            rented = n == 1
            device = await Device.create(
                serial=serial,
                model="TKM-58" if n == 0 else "TKM-80",
                device_type=DeviceType.MPOS,
                merchant=merchant,
                ownership=Ownership.RENTED if rented else Ownership.PURCHASED,
                invoice_number=None if rented else f"INV-{serial}",
                invoice_date=None if rented else date(2026, 1, 5),
                rental_start=date(2026, 6, 1) if rented else None,
                rental_end=date(2027, 5, 31) if rented else None,
                online=n == 0,
                last_seen=NOW if n == 0 else None,
                firmware="1.0.0",
            )
            for seq, kind in enumerate(("open", "payment", "sale", "receipt"), start=1):
                await Event.create(
                    key=f"{serial}/j1/{seq}",
                    serial=serial,
                    jid="j1",
                    seq=seq,
                    type=kind,
                    device_time=NOW - timedelta(minutes=10 - seq),
                    data={"receipt": 1, "total": 25000} if kind == "sale" else {},
                    merchant_id=merchant.id,  # as the ingest stamps it
                )
            for minute in range(0, 120, 2):
                await TelemetrySample.create(
                    serial=serial,
                    device_time=NOW - timedelta(minutes=120 - minute),
                    uptime_s=minute * 60,
                    mem_free=50_000 + minute,
                    battery_pct=100 - minute // 4,
                    printed_mm=minute * 10,
                    paper="ok",
                )
        device = await Device.get(serial=serials[0])
        cmd = await commands.enqueue(device, "ping", args={}, requested_by="seed", now=NOW)
        out.commands[letter] = cmd.cmd_id
        ticket = await repairs.open_ticket(
            device, problem=f"{letter}'s problem: cutter jams", opened_by="seed", now=NOW
        )
        out.tickets[letter] = ticket.id
        suggestion = await Suggestion.create(device=device, kind="printer_errors", reason="seeded", created_at=NOW)
        out.suggestions[letter] = suggestion.id
        session = await PayLaterSession.create(
            id=f"{letter.lower()}" * 24,
            serial=device.serial,
            receipt="V00-000001",
            amount=100_000,
            phone="+6281200000001",
            otp_digest="0" * 64,
            otp_expires_at=NOW,
            created_by="seed",
            created_at=NOW,
        )
        out.paylater[letter] = session.id
        refund = await RefundRequest.create(
            merchant=merchant,
            serial=device.serial,
            receipt="V00-000003",
            kind="refund",
            paid=25000,
            refund_amount=25000,
            made_at=NOW,
            answer_due=NOW.date(),
        )
        out.refunds[letter] = refund.id
        alert = await Alert.create(
            kind="paper_out",
            serial=device.serial,
            merchant_id=merchant.id,
            detail="paper out",
            opened_at=NOW,
            last_seen_at=NOW,
        )
        out.alerts[letter] = alert.id
        subscription = await Subscription.create(
            merchant_id=merchant.id, channel="email", address=f"alerts@merchant-{letter.lower()}.id",
            created_by="seed", created_at=NOW,
        )  # fmt: skip
        out.subscriptions[letter] = subscription.id
    for username, role, letter in (
        ("admin", Role.ADMIN, None),
        ("support", Role.BIZ_SUPPORT, None),
        ("merchant_a", Role.MERCHANT, "A"),
        ("merchant_b", Role.MERCHANT, "B"),
    ):
        await User.create(
            username=username,
            password_hash=PASSWORD_HASH,
            role=role,
            merchant_id=out.merchants[letter] if letter else None,
        )
    return out


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


async def portal_login(client: httpx.AsyncClient, username: str) -> str:
    """Log in through the portal's form, as a browser does; the CSRF token of the logged-in pages (it is
    bound to the session: the login page's own token no longer serves)."""
    token = CSRF_FIELD.search((await client.get("/login")).text)
    assert token, "the login form's CSRF field"
    form = {"username": username, "password": PASSWORD, "csrf": token[1], "next": "/portal"}
    answer = await client.post("/login", data=form)
    assert answer.status_code == 303, answer.text
    inside = CSRF_FIELD.search((await client.get("/portal", follow_redirects=True)).text)
    assert inside, "the logged-in pages' CSRF field"
    return inside[1]


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": "Bearer " + response.json()["access_token"]}


@contextlib.asynccontextmanager
async def fleet_api(
    database_url: str, clock: Callable[[], datetime] | None = None, acquirer: object = None
) -> AsyncIterator[tuple[httpx.AsyncClient, Seed]]:
    """The app on a migrated, seeded database; requests go through the ASGI interface in this task.
    `clock`: the time the app's rules are given (default: the real one)."""
    await db.migrate(database_url)
    await db.connect(database_url)
    try:
        data = await seed()
        app = create_app(SECRET, clock=clock, acquirer=acquirer) if clock else create_app(SECRET, acquirer=acquirer)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fleet.test") as client:
            yield client, data
    finally:
        await db.disconnect()


async def plan(query: Any) -> str:
    """PostgreSQL's plan (EXPLAIN) of a Tortoise query, as text."""
    return "\n".join(str(line) for line in await db.explain(query))
