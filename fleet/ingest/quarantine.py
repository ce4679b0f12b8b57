"""What the ingest acknowledged without storing, as Biz Support reads it (the API and the portal)."""

from fleet.ingest.models import QuarantinedMessage
from fleet.ingest.worker import KEY_CONFLICT, UNSTORABLE
from protocol import errors

# Every reason a message is quarantined for: the wire contract's codes, then the ingest's own.
REASONS = (
    errors.BAD_TOPIC,
    errors.BAD_JSON,
    errors.TOO_LARGE,
    errors.BAD_VERSION,
    errors.MISSING,
    errors.WRONG_TYPE,
    errors.BAD_VALUE,
    errors.SERIAL_MISMATCH,
    errors.BAD_TEXT,
    errors.TOO_DEEP,
    UNSTORABLE,
    KEY_CONFLICT,
)


async def listing(
    serial: str | None, reason: str | None, limit: int, offset: int
) -> tuple[int, list[QuarantinedMessage]]:
    """(how many match, the page of them), newest first."""
    query = QuarantinedMessage.all()
    if serial:
        query = query.filter(serial=serial)
    if reason:
        query = query.filter(reason=reason)
    return await query.count(), await query.order_by("-id").offset(offset).limit(limit)


def preview(payload: bytes, size: int = 160) -> str:
    """The start of a kept payload as text, undecodable bytes replaced."""
    text = bytes(payload[: size * 4]).decode("utf-8", "replace")
    return text if len(text) <= size else text[: size - 1] + "…"
