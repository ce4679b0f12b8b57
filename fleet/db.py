"""Database wiring: one Tortoise config for the app, its migrations and the `tortoise` CLI.

tortoise -c fleet.db.TORTOISE_ORM makemigrations     # after a model change; commit the new file
"""

from collections.abc import AsyncIterator
from typing import Any, TypeVar

from tortoise import Tortoise
from tortoise.migrations.api import migrate as run_migrations
from tortoise.models import Model
from tortoise.queryset import QuerySet

from fleet.settings import get_settings

M = TypeVar("M", bound=Model)

MODELS = [
    "fleet.devices.models",
    "fleet.ingest.models",
    "fleet.auth.models",
    "fleet.commands.models",
    "fleet.repairs.models",
    "fleet.payments.models",
    "fleet.notifications.models",
    "fleet.alerts.models",
    "fleet.audit.models",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    """Tortoise settings for `database_url` (sqlite://path, postgres://user@host:port/db)."""
    # The connection is named after its engine: Tortoise caches compiled SQL per connection name, and one
    # process (a test run) may use SQLite and PostgreSQL one after the other.
    engine = database_url.split("://", 1)[0]
    if engine in ("postgres", "postgresql", "asyncpg") and "maxsize=" not in database_url:
        # The connection pool of one process (Tortoise's default is 5: under 8 clients 3 always waited).
        database_url += ("&" if "?" in database_url else "?") + f"maxsize={get_settings().database_pool}"
    return {
        "connections": {engine: database_url},
        "apps": {"fleet": {"models": MODELS, "default_connection": engine, "migrations": "fleet.migrations"}},
        "use_tz": True,
        "timezone": "UTC",
    }


# For the `tortoise` CLI (makemigrations): the configured database, SQLite by default.
TORTOISE_ORM = tortoise_config(get_settings().database_url)


async def migrate(database_url: str) -> None:
    """Apply every committed migration to the database at `database_url`."""
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def connect(database_url: str, shared: bool = False) -> None:
    """Connect this task's context; `shared`: also every other task's (the service: uvicorn serves
    requests and runs the lifespan in tasks of its own)."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=shared)


async def disconnect() -> None:
    await Tortoise.close_connections()


async def in_batches(query: QuerySet[M], size: int = 500) -> AsyncIterator[list[M]]:
    """The rows of `query` a batch at a time, by keyset on the primary key (each batch a fresh indexed
    range `id > last`, never an OFFSET): a job walks any number of rows holding `size` of them."""
    last: Any = None
    while True:
        page = query if last is None else query.filter(id__gt=last)
        rows = await page.order_by("id").limit(size)
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = rows[-1].pk


async def explain(query: Any, options: str = "") -> list[Any]:
    """PostgreSQL's plan of a query (`EXPLAIN {options}` of the very statement and values it would send):
    the rows' one column each, lines of text, or the JSON plan with options "(FORMAT JSON)"."""
    probe = query  # a QuerySet or a values query, planned here, not read
    probe._choose_db_if_not_chosen()
    probe._make_query()
    sql, params = probe.query.get_parameterized_sql()
    _, rows = await probe._db.execute_query(f"EXPLAIN {options} {sql}", params)
    return [next(iter(r.values())) for r in rows]
