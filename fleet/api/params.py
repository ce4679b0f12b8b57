"""Request parameters many routes share: a device's serial in the path, a merchant's id, paging."""

from typing import Annotated

from fastapi import Path, Query

Serial = Annotated[str, Path(min_length=4, max_length=32, pattern=r"^[A-Z0-9-]+$")]
MerchantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
