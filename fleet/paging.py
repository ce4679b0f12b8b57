"""Lists a page at a time by keyset, with a total that is exact when cheap and estimated when not.

    page = await paging.keyset(query, ("-device_time", "-id"), limit=50, after=cursor)
    page.items, page.next, page.total, page.estimated

A page is the rows after the previous page's last one in the list's order (`after`: the `next` cursor the
previous page gave), read through the index of that order: page 10,000 costs what page 1 does, where an
OFFSET reads and drops every row before it. The order's last field must be unique (the id), so that rows
sharing the other fields' values are neither skipped nor repeated; every field goes the same way.

The total: on PostgreSQL the planner's estimate of the rows first, and an exact count only when that
estimate is under EXACT_UP_TO (a count of a few thousand index entries is cheap, one of five million is
not): `estimated` says which. SQLite counts.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from fleet import db
from fleet.errors import Invalid

M = TypeVar("M", bound=Model)
EXACT_UP_TO = 20_000
CURSOR_MAX = 300  # characters: a cursor holds a few values


@dataclass
class Page(Generic[M]):
    items: list[M]
    next: str | None  # the cursor of the page after this one; None on the last page
    total: int
    estimated: bool  # the total is the planner's estimate (a large list on PostgreSQL)


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, model: type[Model], names: list[str]) -> list[Any]:
    """The values a cursor holds, each as its field's type; Invalid for anything a page never gave."""
    try:
        if len(cursor) > CURSOR_MAX:
            raise ValueError("too long")
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(names):
            raise ValueError("not this list's")
        out: list[Any] = []
        for name, value in zip(names, values, strict=True):
            field = model._meta.fields_map[name]
            if isinstance(field, fields.DatetimeField):
                if not isinstance(value, str):
                    raise ValueError(name)
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:  # a page's cursor carries its zone; a naive time is not one
                    raise ValueError(name)
                out.append(moment)
            elif isinstance(field, fields.IntField | fields.BigIntField):
                if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
                    raise ValueError(name)
                out.append(value)
            else:
                if not isinstance(value, str):
                    raise ValueError(name)
                out.append(value)
        return out
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as e:
        raise Invalid(f"not a cursor of this list: pass the `next` of its previous page ({e})") from None


def _after(names: list[str], descending: bool, values: list[Any]) -> Q:
    """Rows after `values` in the order of `names`, written so that the first field bounds an index
    range: (a, b) > (x, y) as a >= x AND (a > x OR b > y), and so on for more fields."""
    beyond, last = ("lt", "lte") if descending else ("gt", "gte")
    first, *rest = names
    if not rest:
        return Q(**{f"{first}__{beyond}": values[0]})
    tail = _after(rest, descending, values[1:])
    return Q(**{f"{first}__{last}": values[0]}) & (Q(**{f"{first}__{beyond}": values[0]}) | tail)


async def total(query: QuerySet[M]) -> tuple[int, bool]:
    """How many rows `query` holds, and whether that is an estimate (see the module's docstring)."""
    client = query._db if query._db is not None else query.model._meta.db
    if client.capabilities.dialect == "postgres":
        plan = (await db.explain(query.all(), "(FORMAT JSON)"))[0]  # a copy
        plan = json.loads(plan) if isinstance(plan, str) else plan
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        if estimate >= EXACT_UP_TO:
            return estimate, True
    return await query.count(), False


async def keyset(query: QuerySet[M], order: tuple[str, ...], *, limit: int, after: str | None = None) -> Page[M]:
    """One page of `query` in `order` (field names, all "-" for newest first, or none), after the cursor
    `after` (see the module's docstring)."""
    descending = order[0].startswith("-")
    names = [name.lstrip("-") for name in order]
    if any(name.startswith("-") != descending for name in order):
        raise ValueError("a keyset order goes one way")
    count, estimated = await total(query)
    page = query
    if after:
        page = page.filter(_after(names, descending, _decode(after, query.model, names)))
    rows = await page.order_by(*order).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = _encode([getattr(rows[-1], name) for name in names]) if more and rows else None
    return Page(rows, cursor, count, estimated)
