"""A batch of terminal messages written set-based: one statement per table, or per kind of change to the
device rows, for the whole batch, however many terminals and messages it holds (the ingest issued one
statement per terminal and kind, and built an ORM object per row).

The batch's rows reach the database as arrays (`unnest`, PostgreSQL) or as one JSON document
(`json_each`, SQLite), so the SQL text is the same for every batch and the database plans it once. The
conditions that keep newer over older (presence by the terminal's time, the latest heartbeat) are in the
SQL, so they hold against another worker's commit in between.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

# Presence (domain.presence.state_wins): a state stamped `at` replaces the stored one unless that is newer;
# on a tie the offline wins (the will of a connection is its last word). A will without a time ends any
# session; an online without a time only stands where nothing is known.
PRESENCE_APPLIES = """CASE WHEN v.at IS NULL THEN (NOT v.online OR d.state_at IS NULL)
    ELSE (d.state_at IS NULL OR d.state_at < v.at OR (NOT v.online AND d.state_at = v.at)) END"""


# The PostgreSQL type of an array of each kind of field.
_TYPES: tuple[tuple[type[fields.Field[Any]], str], ...] = (
    (fields.BigIntField, "bigint"),
    (fields.SmallIntField, "smallint"),
    (fields.IntField, "integer"),
    (fields.BooleanField, "boolean"),
    (fields.DatetimeField, "timestamptz"),
    (fields.JSONField, "jsonb"),
    (fields.CharField, "text"),
)


def columns(model: type[Model], names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(column, PostgreSQL type) of the model's fields `names`, for `insert`."""
    out = []
    for name in names:
        field = model._meta.fields_map[name]
        out.append((field.source_field or name, next(t for kind, t in _TYPES if isinstance(field, kind))))
    return tuple(out)


def _source(dialect: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """The batch's rows as a table `v` with `columns` ((name, PostgreSQL type) pairs), and its parameters."""
    if dialect == "postgres":  # JSON goes as text, cast where it is used
        arrays = ", ".join(f"${n}::{_array(kind)}[]" for n, (_name, kind) in enumerate(columns, 1))
        names = ", ".join(name for name, _kind in columns)
        arrays_of = [
            [json.dumps(row[i]) for row in rows] if kind == "jsonb" else [row[i] for row in rows]
            for i, (_name, kind) in enumerate(columns)
        ]
        return f"unnest({arrays}) AS v({names})", arrays_of
    picks = ", ".join(f"json_extract(j.value, '$[{i}]') AS {name}" for i, (name, _kind) in enumerate(columns))
    jsons = [kind == "jsonb" for _name, kind in columns]
    encoded = [[json.dumps(v) if jsons[i] else _sqlite(v) for i, v in enumerate(row)] for row in rows]
    return f"(SELECT {picks} FROM json_each(?) AS j) AS v", [json.dumps(encoded)]


def _array(kind: str) -> str:
    return "text" if kind == "jsonb" else kind


def _sqlite(value: Any) -> Any:
    """A value as Tortoise stores it in SQLite (datetimes as `isoformat(" ")`, so they compare as stored)."""
    return value.isoformat(" ") if isinstance(value, datetime) else value


async def insert(
    conn: BaseDBAsyncClient,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """Insert `rows` into `table` in one statement; `ignore_conflicts`: a row whose unique key is stored
    already is left out (a redelivered event)."""
    if not rows:
        return
    dialect = conn.capabilities.dialect
    source, params = _source(dialect, columns, rows)
    names = ", ".join(name for name, _kind in columns)
    if dialect == "postgres":
        picks = ", ".join(f"v.{name}::jsonb" if kind == "jsonb" else f"v.{name}" for name, kind in columns)
    else:
        picks = ", ".join(f"v.{name}" for name, _kind in columns)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    # WHERE TRUE: SQLite needs it to tell the SELECT's end from ON CONFLICT.
    sql = f"INSERT INTO {table} ({names}) SELECT {picks} FROM {source} WHERE TRUE{conflict}"
    await conn.execute_query(sql, params)


async def _update(
    conn: BaseDBAsyncClient, sets: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], where: str
) -> None:
    if not rows:
        return
    dialect = conn.capabilities.dialect
    source, params = _source(dialect, columns, rows)
    sql = f"UPDATE device AS d SET {sets} FROM {source} WHERE d.serial = v.serial AND ({where})"
    await conn.execute_query(sql, params)


async def owners(conn: BaseDBAsyncClient, serials: Sequence[str]) -> dict[str, int | None]:
    """The registered terminals among `serials`, each with its merchant (None: nobody's yet)."""
    if not serials:
        return {}
    source, params = _source(conn.capabilities.dialect, (("serial", "text"),), [(s,) for s in serials])
    rows = await conn.execute_query_dict(
        f"SELECT d.serial AS serial, d.merchant_id AS merchant FROM device AS d JOIN {source} ON d.serial = v.serial",
        params,
    )
    return {str(row["serial"]): row["merchant"] for row in rows}


async def lock(conn: BaseDBAsyncClient, serials: Sequence[str]) -> None:
    """Lock the batch's device rows in one order (PostgreSQL): two workers touching the same terminals wait
    for each other instead of deadlocking. SQLite takes one lock for the whole database anyway."""
    if serials and conn.capabilities.dialect == "postgres":
        await conn.execute_query(
            "SELECT 1 FROM device WHERE serial = ANY($1::text[]) ORDER BY id FOR UPDATE", [sorted(serials)]
        )


async def hellos(conn: BaseDBAsyncClient, rows: Sequence[tuple[str, str, str, list[str], str]]) -> None:
    """(serial, firmware, hw_id, capabilities, boot reason) of each terminal's hello."""
    caps = "v.caps::jsonb" if conn.capabilities.dialect == "postgres" else "v.caps"
    await _update(
        conn,
        f"firmware = v.fw, hw_id = v.hw_id, capabilities = {caps}, boot_reason = v.boot",
        (("serial", "text"), ("fw", "text"), ("hw_id", "text"), ("caps", "text"), ("boot", "text")),
        [(serial, fw, hw_id, json.dumps(caps_), boot) for serial, fw, hw_id, caps_, boot in rows],
        "TRUE",
    )


async def presence(conn: BaseDBAsyncClient, rows: Sequence[tuple[str, datetime | None, bool]]) -> None:
    """(serial, the terminal's time of the state or None, online) of each terminal's winning state."""
    await _update(
        conn,
        "online = v.online, state_at = COALESCE(v.at, d.state_at)",
        (("serial", "text"), ("at", "timestamptz"), ("online", "boolean")),
        rows,
        PRESENCE_APPLIES,
    )


# A terminal heard in the batch: (serial, its latest heartbeat's time, paper, battery %, printed mm), the
# heartbeat's fields None when the batch holds none of its heartbeats.
Heard = tuple[str, datetime | None, str | None, int | None, int | None]
_NEWER = "(v.at IS NOT NULL AND (d.telemetry_at IS NULL OR d.telemetry_at <= v.at))"


async def heard(conn: BaseDBAsyncClient, rows: Sequence[Heard], now: datetime) -> None:
    """Every terminal of the batch was heard now, and its health is its latest heartbeat's unless a later
    one is stored already: one new version of each device row, whatever the batch held of it."""
    health = (("telemetry_at", "at"), ("paper", "paper"), ("battery_pct", "battery"), ("printed_mm", "printed"))
    sets = ", ".join(f"{column} = CASE WHEN {_NEWER} THEN v.{value} ELSE d.{column} END" for column, value in health)
    columns = (
        ("serial", "text"),
        ("now", "timestamptz"),
        ("at", "timestamptz"),
        ("paper", "text"),
        ("battery", "smallint"),
        ("printed", "bigint"),
    )
    await _update(conn, "last_seen = v.now, " + sets, columns, [(row[0], now, *row[1:]) for row in rows], "TRUE")
