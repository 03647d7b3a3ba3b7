"""CSV for spreadsheets, safe to open: a cell that a spreadsheet would run as a formula is
written as text instead (CSV/formula injection, OWASP), so an exported sign-in name such as
`=HYPERLINK(...)` stays a name."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# A spreadsheet treats a cell starting with these as a formula (tab and CR too, per OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """`value`, with a text cell that would start a formula prefixed by an apostrophe. Numbers
    stay numbers (a negative quantity is data, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A header row and the rows, every text cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()
