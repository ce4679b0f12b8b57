"""What every input must be before a model sees it: money a strict integer, names clean text.

A name (a merchant's, a device model) is shown in the portals, in the receipts' headers and in every
spreadsheet someone exports. It is normalised to NFC (the same name typed on two keyboards is one name)
and trimmed, and refused when it holds a control or format character (bidi overrides such as U+202E turn
"Toko abc.exe" into something else on screen; zero-width characters make two names look alike) or when
it starts like a spreadsheet formula (=, +, -, @), which a CSV export would hand to the spreadsheet as one.
"""

import csv
import io
import unicodedata
from collections.abc import Iterator
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

from protocol.schema import MONEY_MAX

FORMULA_START = ("=", "+", "-", "@")

# The days a query or report may name: wider than any record, narrow enough that a day either side exists.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)

# Integer Rupiah, never a string or a float that happens to be whole.
Money = Annotated[int, Field(strict=True, ge=0, le=MONEY_MAX)]
PositiveMoney = Annotated[int, Field(strict=True, ge=1, le=MONEY_MAX)]


def name_problem(text: str) -> str | None:
    """Why `text` (already normalised) is not a name, or None."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return f"must not hold control, format or invisible characters (U+{ord(ch):04X})"
    if text.startswith(FORMULA_START):
        return "must not start with " + " ".join(FORMULA_START) + " (a spreadsheet would run it as a formula)"
    return None


def clean_name(text: str) -> str:
    """`text` as a name is kept (NFC, trimmed); ValueError naming what is wrong with it."""
    text = unicodedata.normalize("NFC", text).strip()
    problem = name_problem(text) if text else "must not be empty"
    if problem:
        raise ValueError(problem)
    return text


Name = Annotated[str, AfterValidator(clean_name)]


class BadCsv(ValueError):
    """A CSV file that cannot be read as one, with the line at fault."""


def csv_records(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """(the header's column names, stripped; then each record as (its line, its cells)). Raises BadCsv for
    what the csv module refuses (a line break inside an unquoted field, a field over its 131,072
    characters), naming the line, where it would otherwise end the request with a 500."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as e:
        raise BadCsv(_csv_problem(1, e)) from e
    reader.fieldnames = header

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise BadCsv(_csv_problem(reader.line_num, e)) from e
            yield reader.line_num, {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}

    return header, records()


def _csv_problem(line: int, error: csv.Error) -> str:
    text = str(error)
    if "new-line" in text:
        text = "a line break inside a field that is not quoted"
    elif "field limit" in text:
        text = f"a field longer than {csv.field_size_limit()} characters"
    return f"line {line}: {text}"
