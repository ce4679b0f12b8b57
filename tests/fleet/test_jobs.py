"""#23: the periodic jobs out of the API's event loop, in their own `fleet jobs` process, one round at a
time across replicas, reading what changed rather than the fleet."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fleet.devices.models import Device
from fleet.ingest.models import Event
from fleet.repairs import service as repairs
from fleet.repairs.models import Suggestion
from tests.api_helpers import fleet_api, plan
from tests.fleet_server import FleetServer
from tests.gateway_helpers import wait

pytestmark = pytest.mark.slow  # processes


class Jobs:
    """A `fleet jobs` process, its JOBS_STATUS lines read as they come."""

    def __init__(self, database_url: str, every: float) -> None:
        env = dict(os.environ, FLEET_DATABASE_URL=database_url, FLEET_HOUSEKEEPING_S=str(every))
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "fleet"), "jobs"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        os.set_blocking(self.proc.stdout.fileno(), False)  # type: ignore[union-attr]
        self.states: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout.readlines():
            if line.startswith("JOBS_STATUS "):
                self.states.append(json.loads(line[len("JOBS_STATUS ") :]))
        return self.states

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)


def test_the_jobs_run_in_one_process_of_several_and_another_takes_over_when_it_dies(database_url):
    """#23: every `fleet serve` ran the jobs in its own event loop, so two replicas both ran every round
    (each building the fleet in memory, each sending the same rental locks). Now each replica's `fleet
    jobs` tries for one advisory lock: one leads, the other stands by, and takes over when the leader
    dies (its connection gone, its lock with it)."""
    if not database_url.startswith("postgres"):
        pytest.skip("SQLite: one service, one jobs process")
    first = Jobs(database_url, every=0.5)
    second = Jobs(database_url, every=0.5)
    try:
        wait(lambda: len(first.read()) >= 3 and len(second.read()) >= 3, what="both report")
        leaders = [j for j in (first, second) if j.read()[-1]["leader"]]
        assert len(leaders) == 1, (first.states[-3:], second.states[-3:])
        leader = leaders[0]
        standby = second if leader is first else first
        assert "done" in leader.states[-1] and "error" not in leader.states[-1], leader.states[-1]
        assert not any(s["leader"] for s in standby.states) and "done" not in standby.states[-1]
        leader.stop(signal.SIGKILL)  # no clean exit: the lock goes with its connection
        wait(lambda: standby.read()[-1]["leader"] and "done" in standby.states[-1], what="the other leads")
    finally:
        first.stop()
        second.stop()


def test_fleet_serve_runs_the_jobs_in_their_own_process_and_healthz_shows_them(database_url, tmp_path):
    """#23: housekeeping ran in `fleet serve`'s own event loop: at a million devices each round held the
    API for minutes. It is now a process the service starts (and restarts), whose state /healthz shows."""
    fleet = FleetServer(tmp_path, database_url)
    fleet.env["FLEET_HOUSEKEEPING_S"] = "1"
    with fleet:

        def jobs() -> dict[str, Any]:
            found: dict[str, Any] = fleet.request("GET", "/healthz")[1].get("jobs", {})
            return found if found.get("alive") and found.get("done") else {}

        health = wait(jobs, timeout=60, what="the jobs' first round in /healthz")
        assert health["leader"] is True and health["restarts"] == 0 and "error" not in health, health
        assert set(health["done"]) >= {"suggestions", "rental_commands", "refunds_auto_approved"}
        children = subprocess.run(["pgrep", "-P", str(fleet.proc.pid), "-f", "fleet.cli jobs"], capture_output=True)  # type: ignore[union-attr]
        assert children.returncode == 0, "fleet jobs is a child process of fleet serve"
        os.kill(int(children.stdout.split()[0]), signal.SIGKILL)
        restarted = wait(lambda: jobs().get("restarts") == 1 and jobs(), timeout=60, what="restarted")
        assert restarted["leader"] is True


def test_suggestions_weigh_the_terminals_with_new_faults_and_a_dismissed_one_stays_dismissed(database_url):
    """#23: the suggestion job built every device of the fleet each round and weighed every fault of the
    window. With its mark it weighs only the terminals with a fault since: a terminal whose printer
    errors were dismissed is not proposed again each minute, only when it faults again."""

    async def body() -> None:
        async with fleet_api(database_url) as (_client, seed):
            serial = seed.devices["A"][1]  # [0] has a suggestion of the seed's
            now = datetime(2026, 11, 20, 9, tzinfo=UTC)

            async def fault(n: int) -> int:
                event = await Event.create(
                    key=f"{serial}/j1/{900 + n}", serial=serial, jid="j1", seq=900 + n, type="fault",
                    device_time=now - timedelta(hours=n), data={"code": "printer_error", "active": True},
                )  # fmt: skip
                return int(event.id)

            for n in range(3):
                mark = await fault(n)
            assert await repairs.run_suggestions(now) == 1  # the first round: the whole window
            found = await Suggestion.get(device__serial=serial, kind="printer_errors")
            found.status = "dismissed"
            await found.save()
            assert await repairs.run_suggestions(now, after_event=mark) == 0  # nothing new: not again
            newest = await fault(3)
            assert await repairs.run_suggestions(now, after_event=mark) == 1  # it faulted again
            assert await repairs.run_suggestions(now, after_event=newest) == 0

    asyncio.run(body())


def test_the_rental_lock_job_reads_only_the_rentals_whose_lock_may_change(database_url):
    """#23: the rental job built all 350,000 rented devices each round. It now reads the locked ones and
    the ones past their end by the grace period: on PostgreSQL through its indexes;
    the locks it makes are the rule's (S2's grace in working days)."""

    async def body() -> None:
        async with fleet_api(database_url) as (_client, seed):
            today = date(2026, 11, 20)
            serials = seed.devices["A"][:2]
            ended = {serials[0]: today - timedelta(days=30), serials[1]: today + timedelta(days=30)}
            for serial, end in ended.items():
                await Device.filter(serial=serial).update(
                    ownership="rented", rental_start=end - timedelta(days=365), rental_end=end
                )
            in_good_standing = [d.serial for d in await repairs.lock_candidates(today)]
            assert serials[0] in in_good_standing and serials[1] not in in_good_standing
            now = datetime(2026, 11, 20, 3, tzinfo=UTC)
            assert await repairs.sync_rental_locks(today, now) == 1
            assert (await Device.get(serial=serials[0])).sales_locked
            assert await repairs.sync_rental_locks(today, now) == 0  # once
            if not database_url.startswith("postgres"):
                return
            client = Device._meta.db
            await client.execute_script(
                "INSERT INTO device (serial, model, device_type, ownership, online, capabilities, created_at,"
                " config, sales_locked, service_plan, rental_start, rental_end)"
                " SELECT 'TKM-R' || lpad(g::text, 7, '0'), 'TKM-58', 'mpos', 'rented', false, '[]', now(),"
                " '{}', false, 'basic', DATE '2026-01-01', DATE '2027-01-01' + (g % 700)"
                " FROM generate_series(0, 299999) g;"
                " INSERT INTO event (key, serial, jid, seq, type, device_time, received_at, data)"
                " SELECT 'TKM-R/j/' || g, 'TKM-R' || lpad((g % 300000)::text, 7, '0'), 'j', g,"
                " CASE WHEN g % 500 = 0 THEN 'fault' ELSE 'sale' END,"
                " TIMESTAMPTZ '2026-01-01' + g * INTERVAL '1 minute', now(), '{}'"
                " FROM generate_series(0, 399999) g;"
                " ANALYZE device; ANALYZE event"
            )

            locks = await plan(repairs.lock_candidates(today).order_by("id").limit(500))
            assert "idx_device_rental_end" in locks and "Seq Scan on device" not in locks, locks
            since = datetime(2026, 11, 13, tzinfo=UTC)
            faults = await plan(Event.filter(type="fault", device_time__gte=since).values_list("serial", flat=True))
            assert "idx_event_type_time" in faults and "Seq Scan on event" not in faults, faults

    asyncio.run(body())


def test_the_jobs_process_leaves_at_once_when_stopped_in_the_middle_of_a_round(database_url):
    """Found measuring #23 at a million devices: a round of the rental-lock job ran for minutes, and a
    `fleet jobs` asked to stop (SIGTERM, as `fleet serve` does when it stops) finished the round first,
    outliving its service. Here the round is held by a table lock of another connection; the stopped
    process leaves within seconds, its round cancelled."""
    if not database_url.startswith("postgres"):
        pytest.skip("the round is held by a PostgreSQL table lock")

    async def hold_and_stop() -> float:
        import asyncpg

        holder = await asyncpg.connect(database_url)
        watcher = await asyncpg.connect(database_url)  # pg_stat_activity is a snapshot per transaction
        jobs: Jobs | None = None
        try:
            async with holder.transaction():
                await holder.execute("LOCK TABLE event IN ACCESS EXCLUSIVE MODE")
                jobs = Jobs(database_url, every=0.5)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # its round waits on the lock
                    waiting = await watcher.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1",
                        holder.get_server_pid(),
                    )
                    if waiting:
                        break
                    await asyncio.sleep(0.2)
                else:
                    raise AssertionError("the jobs' round never reached the event table")
                began = time.monotonic()
                jobs.proc.send_signal(signal.SIGTERM)
                while jobs.proc.poll() is None and time.monotonic() - began < 20:
                    await asyncio.sleep(0.1)
                return time.monotonic() - began
        finally:
            if jobs is not None and jobs.proc.poll() is None:
                jobs.proc.kill()
            await holder.close()
            await watcher.close()

    took = asyncio.run(hold_and_stop())
    assert took < 5, f"still running {took:.1f} s after SIGTERM"
