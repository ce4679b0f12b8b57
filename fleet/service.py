"""The running service: API, broker (in-process or external), ingest workers, the command dispatcher and,
with a payment gateway, the payments jobs and the terminals' PayLater requests.

`Service` is the app's lifespan: on start it applies migrations, connects the database, starts the
in-process broker when no external one is configured, spawns the ingest workers as `fleet ingest`
processes and the periodic jobs as `fleet jobs` (each restarted when it dies) and runs the command
dispatcher; on stop it undoes all of that.
"""

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from fleet import db, jobs
from fleet.auth import keys
from fleet.broker import BrokerAddress, InProcessBroker
from fleet.commands.dispatcher import Dispatcher
from fleet.ingest.worker import READY, STATUS, STATUS_EVERY_S
from fleet.notifications import service as notifications
from fleet.payments import service as payments
from fleet.payments.gateway import Acquirer, SandboxGateway
from fleet.payments.requests import TerminalRequests

NOTIFY_EVERY_S = 2.0  # how often the outbox is looked at
log = logging.getLogger("fleet.service")


class Service:
    def __init__(
        self,
        database_url: str,
        broker_url: str,
        *,
        ingest_workers: int = 1,
        migrate: bool = True,
        command_retry: timedelta = timedelta(seconds=30),
        broker_port: int = 1883,
        housekeeping_every: float = 60,
        acquirer: Acquirer | None = None,
        secret: str | None = None,
    ) -> None:
        self.acquirer = acquirer
        self.secret = secret  # the service secret: the PayLater OTP hashes are keyed by a key derived from it
        self.requests: TerminalRequests | None = None
        self.housekeeping_every = housekeeping_every
        self.database_url = database_url
        self.broker_url = broker_url
        self.ingest_workers = ingest_workers
        self.migrate = migrate
        self.command_retry = command_retry
        self.broker_port = broker_port
        self.broker: BrokerAddress | None = None
        self.dispatcher: Dispatcher | None = None
        self._in_process: InProcessBroker | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._workers: list[asyncio.subprocess.Process] = []
        self.worker_count = 0  # how many ingest workers run
        self.started = asyncio.Event()
        self.ingest_ready = asyncio.Event()  # an ingest worker has its subscriptions: terminals may publish
        self.worker_status: dict[int, tuple[float, dict[str, Any]]] = {}  # index -> (monotonic time, status)
        self.restarts: dict[int | str, int] = {}
        self.jobs_status: tuple[float | None, dict[str, Any]] = (None, {})  # (monotonic time, status)

    async def start(self) -> None:
        if self.migrate:
            await db.migrate(self.database_url)
        await db.connect(self.database_url, shared=True)
        if self.broker_url:
            self.broker = BrokerAddress.parse(self.broker_url)
            workers = self.ingest_workers
        else:
            self._in_process = await InProcessBroker(port=self.broker_port).start()
            self.broker = self._in_process.address
            if self.ingest_workers > 1:
                log.warning("the in-process broker has no shared subscriptions: running one ingest worker")
            workers = 1
        self.worker_count = workers
        for index in range(1, workers + 1):
            self._tasks.append(asyncio.create_task(self._supervise(index)))
        self.dispatcher = Dispatcher(self.broker, retry_after=self.command_retry)
        self._tasks.append(asyncio.create_task(self.dispatcher.run(self._stop)))
        self._tasks.append(asyncio.create_task(self._jobs()))
        self._tasks.append(asyncio.create_task(self._notifications()))
        if self.acquirer is not None:
            self._tasks.append(asyncio.create_task(self._payments()))
        if self.secret:  # without a gateway it answers that PayLater is not available
            self.requests = TerminalRequests(self.broker, self.acquirer, keys.derive(self.secret, keys.OTP))
            self._tasks.append(asyncio.create_task(self.requests.run(self._stop)))
        # Until a worker has subscribed, a broker without a session for it would drop what terminals send.
        try:
            await asyncio.wait_for(self.ingest_ready.wait(), 60)
        except TimeoutError:
            await self.stop()
            raise RuntimeError("no ingest worker subscribed within 60 s (see its output above)") from None
        self.started.set()

    def _env(self) -> dict[str, str]:
        """The environment of the processes this service starts: its database and broker, its jobs'
        period, and its payment gateway (the jobs' alerts and RF1 refunds go through it)."""
        assert self.broker is not None
        env = dict(os.environ, FLEET_DATABASE_URL=self.database_url, FLEET_BROKER_URL=self.broker.url)
        env["FLEET_HOUSEKEEPING_S"] = str(self.housekeeping_every)
        if isinstance(self.acquirer, SandboxGateway):
            env |= {
                "FLEET_GATEWAY_URL": self.acquirer.url,
                "FLEET_GATEWAY_API_KEY": self.acquirer.api_key,
                "FLEET_GATEWAY_WEBHOOK_SECRET": self.acquirer.webhook_secret,
                "FLEET_WEBHOOK_WINDOW_S": str(self.acquirer.window_s),
            }
        return env

    async def _keep_running(self, name: int | str, argv: list[str], heard: Callable[[str], bool]) -> None:
        """Keep the process `name` (an ingest worker's index, or "jobs") running, restarting it when it
        dies; each line it prints goes to `heard` first, and is passed on unless `heard` took it."""
        while not self._stop.is_set():
            proc = await asyncio.create_subprocess_exec(*argv, env=self._env(), stdout=asyncio.subprocess.PIPE)
            self._workers.append(proc)
            assert proc.stdout is not None
            async for line in proc.stdout:  # the process's own output, passed on
                text = line.decode(errors="replace").rstrip()
                if not heard(text):
                    print(text, flush=True)
            code = await proc.wait()
            self._workers.remove(proc)
            if not self._stop.is_set():
                self.restarts[name] = self.restarts.get(name, 0) + 1
                what = "jobs" if name == "jobs" else f"ingest worker {name}"
                log.error("%s exited with %s; restarting it", what, code)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1)

    async def _supervise(self, index: int) -> None:
        """Keep ingest worker `index` running; it resumes its broker session after a restart."""
        assert self.broker is not None
        argv = [sys.executable, "-m", "fleet.cli", "ingest", "--id", str(index)]
        argv += ["--mqtt", "5" if self.broker.v5 else "3.1.1"]

        def heard(text: str) -> bool:
            if text.startswith(STATUS + " "):
                with contextlib.suppress(ValueError):
                    self.worker_status[index] = (time.monotonic(), json.loads(text[len(STATUS) + 1 :]))
                return True
            if text.endswith(READY):
                self.ingest_ready.set()
            return False

        try:
            await self._keep_running(index, argv, heard)
        finally:
            self.worker_status.pop(index, None)

    async def _jobs(self) -> None:
        """Keep `fleet jobs` running: the periodic jobs, out of the API's event loop (fleet.jobs)."""

        def heard(text: str) -> bool:
            if text.startswith(jobs.STATUS + " "):
                with contextlib.suppress(ValueError):
                    self.jobs_status = (time.monotonic(), json.loads(text[len(jobs.STATUS) + 1 :]))
                return True
            return False

        await self._keep_running("jobs", [sys.executable, "-m", "fleet.cli", "jobs"], heard)

    def jobs_health(self) -> dict[str, Any]:
        """The jobs as /healthz tells them: alive (heard from within a few rounds), leading or standing
        by for another replica, the last round's time, what it did or its error, restarts."""
        seen, status = self.jobs_status
        alive = seen is not None and time.monotonic() - seen < max(3 * self.housekeeping_every, 180)
        return {"alive": alive, "restarts": self.restarts.get("jobs", 0), **status}

    def ingest_health(self) -> dict[str, Any]:
        """The ingest as /healthz tells it: each worker alive (its status fresh), connected and subscribed,
        restarts, when it last stored a batch, what it refused; `ok` when at least one worker is alive and
        connected (else nothing terminals send is being stored)."""
        now = time.monotonic()
        workers = []
        malformed = 0
        for index in range(1, self.worker_count + 1):
            seen, status = self.worker_status.get(index, (None, {}))
            alive = seen is not None and now - seen < 3 * STATUS_EVERY_S
            counters = status.get("counters", {})
            malformed += sum(v for k, v in counters.items() if k.startswith("malformed."))
            workers.append(
                {
                    "id": index,
                    "alive": alive,
                    "connected": alive and bool(status.get("connected")),
                    "restarts": self.restarts.get(index, 0),
                    "last_stored_at": status.get("last_stored_at"),
                    "quarantined": counters.get("quarantined", 0),
                    "conflicts": counters.get("events.conflict", 0),
                }
            )
        return {
            "ok": any(w["connected"] for w in workers),
            "broker": self.broker.public_url if self.broker else None,
            "workers": workers,
            "malformed": malformed,
        }

    async def _notifications(self) -> None:
        """Every few seconds: the outbox's messages that are due, sent or put off (fleet.notifications)."""
        while not self._stop.is_set():
            try:
                await notifications.send_due(self.acquirer, datetime.now(UTC))
            except Exception:  # the database is away: the next round retries
                log.exception("notifications round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), NOTIFY_EVERY_S)

    async def _payments(self) -> None:
        """Terminals' pending QRIS payments become charges at the acquirer (and cancelled ones cancelled)."""
        assert self.acquirer is not None
        follower = payments.TerminalPayments(self.acquirer)
        while not self._stop.is_set():
            try:
                await follower.step(datetime.now(UTC))
            except Exception:  # the gateway or the database is away: the next round retries
                log.exception("payments round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 0.5)

    async def stop(self) -> None:
        self._stop.set()
        for proc in list(self._workers):
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        for proc in list(self._workers):  # still there after its time to leave: it does not outlive us
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
                log.error("pid %d did not stop when asked; killed", proc.pid)
        if self._in_process is not None:
            await self._in_process.stop()
        await db.disconnect()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        app.state.service = self
        try:
            yield
        finally:
            await self.stop()
