"""The periodic jobs (repair suggestions, rental locks, RF1 and complaint approvals, O1 activations, alert
rules) in a process of their own, `fleet jobs`, which `fleet serve` starts and restarts like its ingest
workers: a round that reads much of the database never holds up the API's event loop.

One round at a time across every replica of the service: on PostgreSQL the process that holds a session
advisory lock (on a connection of its own, so it is released the moment that process or its connection
dies) runs the rounds, the others stand by and try for it each round. On SQLite there is one service
and so one jobs process.

Asked to stop (SIGTERM) in the middle of a round, it leaves at once: a round is many small changes,
each committed on its own and each made again by the next round if it was not. The process tells its
supervisor how it stands with lines `JOBS_STATUS {json}` (leader or standby, the
last round's time and what it did, or its error), shown in /healthz.
"""

import asyncio
import contextlib
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from fleet.ingest.models import Event
from fleet.payments import refunds
from fleet.payments.gateway import Acquirer
from fleet.repairs import service as repairs

STATUS = "JOBS_STATUS"
LOCK_KEY = 0x504F_5346_4A42  # the jobs' advisory lock ("POSFJB"); any fixed number shared by replicas
log = logging.getLogger("fleet.jobs")


async def one_round(now: datetime, acquirer: Acquirer | None, after_event: int | None = None) -> dict[str, int]:
    """Every job once: what each did. `after_event`: see repairs.run_suggestions."""
    done = await repairs.housekeeping(now, acquirer, after_event=after_event)
    done["refunds_auto_approved"] = await refunds.auto_approve(now, acquirer)
    return done


class Rounds:
    """The rounds of one jobs process, and the suggestion job's mark between them: each round weighs
    the faults stored after the newest event id seen two rounds before (a batch of events committed a
    little after a later id is still seen; weighing a terminal twice proposes nothing twice)."""

    def __init__(self, acquirer: Acquirer | None) -> None:
        self.acquirer = acquirer
        self.marks: tuple[int | None, int | None] = (None, None)

    async def run(self, now: datetime) -> dict[str, int]:
        newest: list[int] = await Event.all().order_by("-id").limit(1).values_list("id", flat=True)  # type: ignore[assignment]
        done = await one_round(now, self.acquirer, after_event=self.marks[0])
        self.marks = (self.marks[1], newest[0] if newest else 0)
        return done


class Leadership:
    """Whether this process is the one that runs the rounds (see the module's docstring)."""

    def __init__(self, database_url: str) -> None:
        self.dsn = database_url.split("?", 1)[0] if database_url.startswith("postgres") else ""
        self.conn: Any = None
        self.leader = False

    async def held(self) -> bool:
        if not self.dsn:
            return True
        try:
            if self.conn is None or self.conn.is_closed():
                self.leader = False
                self.conn = await asyncpg.connect(self.dsn, timeout=10)
            if self.leader:
                await self.conn.fetchval("SELECT 1")  # the lock lives as long as this connection
            else:
                self.leader = bool(await self.conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY))
        except (OSError, asyncpg.PostgresError, TimeoutError) as e:
            log.warning("jobs: the lock's connection failed (%s); standing by", e)
            await self.close()
        return self.leader

    async def close(self) -> None:
        self.leader = False
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close()
        self.conn = None


def _report(state: dict[str, Any]) -> None:
    print(STATUS + " " + json.dumps(state, default=str), flush=True)


async def run(database_url: str, acquirer: Acquirer | None, every: float, stop: asyncio.Event) -> None:
    """The jobs process's loop: a round every `every` seconds while this process leads."""
    leadership = Leadership(database_url)
    rounds = Rounds(acquirer)
    state: dict[str, Any] = {"leader": False}
    try:
        while not stop.is_set():
            began = time.monotonic()
            state["leader"] = await leadership.held()
            if state["leader"]:
                now = datetime.now(UTC)
                work = asyncio.create_task(rounds.run(now))
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait((work, stopping), return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not work.done():  # asked to stop mid-round: each change it made stands on its own
                    work.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await work
                    break
                try:
                    state["done"] = work.result()
                    state.pop("error", None)
                except Exception as e:  # a failed round must not end the loop; the next one retries
                    log.exception("jobs round failed")
                    state["error"] = f"{type(e).__name__}: {e}"[:300]
                state["round_at"] = now.isoformat()
                state["round_s"] = round(time.monotonic() - began, 3)
            _report(state)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, every - (time.monotonic() - began)))
    finally:
        await leadership.close()
