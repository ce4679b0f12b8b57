"""Request parameters many routes share: a device's serial in the path, a merchant's id, paging, and the
time the request's rules are given (`Now`: the service's clock, which tests set)."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request

Serial = Annotated[str, Path(min_length=4, max_length=32, pattern=r"^[A-Z0-9-]+$")]
MerchantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
After = Annotated[
    str | None,
    Query(max_length=300, description="the next page: the `next` of the page before (keyset paging, fleet.paging)"),
]


def now_of(request: Request) -> datetime:
    """The time a request's rules are given: the service's clock (tests set it)."""
    now: datetime = request.app.state.clock()
    return now


Now = Annotated[datetime, Depends(now_of)]
