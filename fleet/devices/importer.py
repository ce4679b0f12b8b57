"""Bulk registration of devices from CSV, with a report that names every bad row and why.

Valid rows are registered, bad rows are not; nothing half-done: each valid row is one device, and the
whole import is one transaction. A merchant named in the file that does not exist yet is created.
Columns: serial, model, device_type, merchant, ownership, invoice_number, invoice_date, rental_start,
rental_end (dates as YYYY-MM-DD), and optionally service_plan (basic or premium: S1's lead time; empty or
absent: basic). A purchased device needs its invoice (warranty runs from the invoice date, W1); a rented
one needs its rental period (W2).
"""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from tortoise.transactions import in_transaction

from fleet.api.inputs import BadCsv, csv_records, name_problem
from fleet.audit import service as audit
from fleet.devices.models import Device, DeviceType, Merchant, Ownership
from fleet.domain import sla
from fleet.ingest.models import Event
from protocol import topics

COLUMNS = (
    "serial",
    "model",
    "device_type",
    "merchant",
    "ownership",
    "invoice_number",
    "invoice_date",
    "rental_start",
    "rental_end",
    "service_plan",
)
REQUIRED_COLUMNS = ("serial", "model", "device_type", "merchant", "ownership")
MAX_ROWS = 50_000


@dataclass
class RowError:
    line: int  # the line in the file (the header is line 1)
    serial: str | None
    field: str
    message: str


@dataclass
class DeviceRow:
    line: int
    serial: str
    model: str
    device_type: DeviceType
    merchant: str
    ownership: Ownership
    invoice_number: str | None
    invoice_date: date | None
    rental_start: date | None
    rental_end: date | None
    service_plan: str = sla.BASIC


@dataclass
class ImportReport:
    rows: int = 0
    created: list[str] = field(default_factory=list)
    merchants_created: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class BadFile(ValueError):
    """The file as a whole cannot be read (not CSV, missing columns, too many rows)."""


def _date(value: str, name: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: {value!r} is not a date (YYYY-MM-DD)")
        return None


def parse(text: str) -> tuple[list[DeviceRow], list[RowError], int]:
    """Rows that are valid on their own, errors for the others, and the number of data rows."""
    try:
        header, records = csv_records(text)
    except BadCsv as e:
        raise BadFile(str(e)) from e
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise BadFile("missing columns: " + ", ".join(missing) + "; expected " + ",".join(COLUMNS))
    rows: list[DeviceRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    count = 0
    try:
        for count, (line, raw) in enumerate(records, start=1):
            if count > MAX_ROWS:
                raise BadFile(f"more than {MAX_ROWS} rows; split the file")
            _row(line, raw, rows, errors, seen)
    except BadCsv as e:
        raise BadFile(str(e)) from e
    return rows, errors, count


def _row(line: int, raw: dict[str, str], rows: list[DeviceRow], errors: list[RowError], seen: dict[str, int]) -> None:
    """One record: a valid row into `rows`, or its errors into `errors`."""
    cells = {c: unicodedata.normalize("NFC", raw.get(c) or "").strip() for c in COLUMNS}
    serial = cells["serial"].upper()
    row_errors: list[tuple[str, str]] = []

    def bad(name: str, message: str, errs: list[tuple[str, str]] = row_errors) -> None:
        errs.append((name, message))

    if not topics.valid_serial(serial):
        bad("serial", "4-32 characters of A-Z, 0-9 and '-'")
    elif serial in seen:
        bad("serial", f"repeats line {seen[serial]}")
    else:
        seen[serial] = line
    if not 1 <= len(cells["model"]) <= 32:
        bad("model", "required, at most 32 characters")
    elif problem := name_problem(cells["model"]):
        bad("model", problem)
    if cells["device_type"] not in DeviceType.__members__.values():
        bad("device_type", "one of " + ", ".join(DeviceType))
    if not 1 <= len(cells["merchant"]) <= 120:
        bad("merchant", "required, at most 120 characters")
    elif problem := name_problem(cells["merchant"]):
        bad("merchant", problem)
    if cells["ownership"] not in Ownership.__members__.values():
        bad("ownership", "purchased or rented")
    plan = cells["service_plan"] or sla.BASIC
    if plan not in sla.PLANS:
        bad("service_plan", "basic or premium (empty: basic)")
    date_errors: list[str] = []
    invoice_date = _date(cells["invoice_date"], "invoice_date", date_errors)
    start = _date(cells["rental_start"], "rental_start", date_errors)
    end = _date(cells["rental_end"], "rental_end", date_errors)
    for message in date_errors:
        bad(message.split(":", 1)[0], message)
    if len(cells["invoice_number"]) > 64:
        bad("invoice_number", "at most 64 characters")
    if cells["ownership"] == Ownership.PURCHASED and not (cells["invoice_number"] and invoice_date):
        bad("invoice_date", "a purchased device needs invoice_number and invoice_date (W1)")
    if cells["ownership"] == Ownership.RENTED:
        if not (start and end):
            bad("rental_start", "a rented device needs rental_start and rental_end (W2)")
        elif end < start:
            bad("rental_end", "ends before rental_start")
    if row_errors:
        errors.extend(RowError(line, serial or None, name, message) for name, message in row_errors)
        return
    rows.append(
        DeviceRow(
            line,
            serial,
            cells["model"],
            DeviceType(cells["device_type"]),
            cells["merchant"],
            Ownership(cells["ownership"]),
            cells["invoice_number"] or None,
            invoice_date,
            start,
            end,
            plan,
        )
    )


async def import_devices(
    text: str,
    *,
    by: str,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
) -> ImportReport:
    """Register the file's valid rows; serials already registered are reported, never overwritten. The
    audit trail gets one entry per merchant the devices went to (the first 100 serials, and how many)."""
    rows, errors, count = parse(text)
    report = ImportReport(rows=count, errors=errors)
    existing: set[str] = set()
    for start in range(0, len(rows), 1000):
        chunk = [r.serial for r in rows[start : start + 1000]]
        existing.update(str(s) for s in await Device.filter(serial__in=chunk).values_list("serial", flat=True))
    fresh = []
    for row in rows:
        if row.serial in existing:
            report.errors.append(RowError(row.line, row.serial, "serial", "already registered"))
        else:
            fresh.append(row)
    report.errors.sort(key=lambda e: e.line)
    if dry_run:
        report.created = [r.serial for r in fresh]
        return report
    async with in_transaction():
        merchants = {m.name: m for m in await Merchant.filter(name__in={r.merchant for r in fresh})}
        for name in sorted({r.merchant for r in fresh} - set(merchants)):
            merchants[name] = await Merchant.create(name=name)
            report.merchants_created.append(name)
        for start in range(0, len(fresh), 500):
            batch = fresh[start : start + 500]
            await Device.bulk_create(
                [
                    Device(
                        serial=r.serial,
                        model=r.model,
                        device_type=r.device_type,
                        merchant=merchants[r.merchant],
                        ownership=r.ownership,
                        invoice_number=r.invoice_number,
                        invoice_date=r.invoice_date,
                        rental_start=r.rental_start,
                        rental_end=r.rental_end,
                        service_plan=r.service_plan,
                    )
                    for r in batch
                ]
            )
            # Sales a terminal sent before anyone registered it (W4) are its merchant's.
            for name in {r.merchant for r in batch}:
                serials = [r.serial for r in batch if r.merchant == name]
                await Event.filter(serial__in=serials, merchant_id=None).update(merchant_id=merchants[name].id)
            if progress:
                progress(len(batch))
        for name in sorted({r.merchant for r in fresh}):
            serials = [r.serial for r in fresh if r.merchant == name]
            await audit.record(
                actor=by, action="devices.imported", target=f"merchant:{merchants[name].id}", at=now,
                merchant_id=merchants[name].id, after={"devices": len(serials), "serials": serials[:100]},
            )  # fmt: skip
    report.created = [r.serial for r in fresh]
    return report
