"""Loading materials and equipment from a CSV file (an ERP export): all or nothing.

Each row goes through the same create function a person uses on the screen, so the file is
checked by exactly the same rules. A dry run does everything inside a savepoint and rolls it
back; a real import keeps the rows only when every one of them was accepted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.models import EquipmentKind, MaterialKind
from app.services.core import audit
from app.services.core.actors import Actor
from app.services.core.clock import Clock
from app.services.core.errors import Rejected, Violation, require
from app.services.masterdata import common as masterdata
from app.services.masterdata import equipment, materials

MAX_ROWS = 5000


@dataclass(frozen=True)
class ImportKind:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    create: Callable[[Session, Actor, dict[str, str], Clock], Any]
    # What each column holds, shown on the upload page (the rules themselves live in the
    # create functions; these words only describe them).
    columns: tuple[tuple[str, str], ...] = ()


def _material(session: Session, actor: Actor, row: dict[str, str], clock: Clock) -> Any:
    new = materials.MaterialIn(
        code=row["code"],
        name=row["name"],
        kind=row["kind"].strip().lower(),
        unit=row["unit"],
        gtin=row.get("gtin", ""),
        allergens=row.get("allergens", ""),
        tracking=(row.get("tracking", "") or "lot").strip().lower(),
        shelf_life_days=row.get("shelf_life_days", ""),
    )
    return materials.create_material(session, actor=actor, new=new, clock=clock)


def _yes(value: str, default: bool) -> bool:
    text = (value or "").strip().lower()
    if not text:
        return default
    if text in ("1", "yes", "y", "true", "ja", "x"):
        return True
    if text in ("0", "no", "n", "false", "nein"):
        return False
    raise Rejected(
        [
            Violation(
                "needs_cleaning.value",
                f"needs_cleaning is yes or no, not {value!r}.",
                "needs_cleaning",
            )
        ]
    )


def _equipment(session: Session, actor: Actor, row: dict[str, str], clock: Clock) -> Any:
    new = equipment.EquipmentIn(
        code=row["code"],
        name=row["name"],
        kind=row["kind"].strip().lower().replace(" ", "_"),
        needs_cleaning=_yes(row.get("needs_cleaning", ""), True),
        clean_hold_hours=row.get("clean_hold_hours", "") or "72",
    )
    return equipment.create_equipment(session, actor=actor, new=new, clock=clock)


_CODE = "1-40 letters, digits, '.', '_', '/' or '-'; new to Batchbook and once per file"

KINDS = {
    "materials": ImportKind(
        "materials",
        ("code", "name", "kind", "unit"),
        ("gtin", "allergens", "tracking", "shelf_life_days"),
        _material,
        (
            ("code", _CODE),
            ("name", "the material's name"),
            ("kind", ", ".join(k.value for k in MaterialKind)),
            ("unit", "unit of measure: " + ", ".join(materials.UNITS)),
            ("gtin", "8, 12, 13 or 14 digits with a valid GS1 check digit; kept as 14 digits"),
            ("allergens", "comma-separated, in quotes when the file uses commas"),
            ("tracking", "lot (the default) or serial"),
            ("shelf_life_days", "whole days above zero, or empty"),
        ),
    ),
    "equipment": ImportKind(
        "equipment",
        ("code", "name", "kind"),
        ("needs_cleaning", "clean_hold_hours"),
        _equipment,
        (
            ("code", _CODE),
            ("name", "the equipment's name"),
            ("kind", ", ".join(k.value for k in EquipmentKind)),
            ("needs_cleaning", "yes or no (yes when empty)"),
            ("clean_hold_hours", "hours it stays clean after cleaning (72 when empty)"),
        ),
    ),
}


@dataclass(frozen=True)
class RowError:
    line: int  # the line of the file, as a spreadsheet shows it (header = 1)
    column: str
    message: str


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_rows(data: bytes, kind: ImportKind) -> list[tuple[int, dict[str, str]]]:
    """The file's data rows as (line, {column: value}); blank lines skipped.

    Raises:
        Rejected: not UTF-8 text, no header, missing or unknown columns, too many rows.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Rejected(
            [
                Violation(
                    "file.encoding", "The file is not UTF-8 text. Export it as CSV UTF-8.", "file"
                )
            ]
        ) from None
    if not text.strip():
        raise Rejected([Violation("file.empty", "The file is empty.", "file")])
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
    missing = [c for c in kind.required if c not in header]
    unknown = [c for c in header if c and c not in kind.required + kind.optional]
    problems = []
    if missing:
        problems.append(
            Violation(
                "file.columns", f"Columns missing from the header: {', '.join(missing)}.", "file"
            )
        )
    if unknown:
        allowed = ", ".join(kind.required + kind.optional)
        problems.append(
            Violation(
                "file.unknown_columns",
                f"Unknown columns: {', '.join(unknown)}. Allowed: {allowed}.",
                "file",
            )
        )
    require(problems)
    rows = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        rows.append(
            (
                line,
                {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)},
            )
        )
    if len(rows) > MAX_ROWS:
        raise Rejected(
            [Violation("file.size", f"At most {MAX_ROWS} rows per file; split it.", "file")]
        )
    return rows


def run_import(
    session: Session,
    *,
    actor: Actor,
    kind_name: str,
    data: bytes,
    filename: str = "",
    dry_run: bool,
    clock: Clock,
) -> ImportReport:
    """Check (and, unless `dry_run`, import) every row; nothing is kept unless all rows pass.

    Raises:
        PermissionDenied: not admin or QA. Rejected: the file itself is unreadable.
    """
    masterdata.require_editor(actor)
    kind = KINDS[kind_name]
    rows = read_rows(data, kind)
    report = ImportReport(kind=kind_name, dry_run=dry_run, rows=len(rows))
    if not rows:
        report.errors.append(RowError(1, "", "The file has a header but no rows."))
        return report
    seen: dict[str, int] = {}
    outer = session.begin_nested()
    for line, row in rows:
        code = row.get("code", "").strip().upper()
        if code and code in seen:
            report.errors.append(RowError(line, "code", f"{code} is also on line {seen[code]}."))
            continue
        seen[code] = line
        inner = session.begin_nested()
        try:
            kind.create(session, actor, row, clock)
        except Rejected as exc:
            inner.rollback()
            report.errors.extend(RowError(line, v.field or "", v.message) for v in exc.violations)
            continue
        inner.commit()
        report.created.append(code)
    if dry_run or report.errors:
        outer.rollback()
        if report.errors:
            report.created = []
        return report
    audit.record(
        session,
        actor=actor,
        action=f"import.{kind_name}",
        entity_type="import",
        entity_id=filename or kind_name,
        after={"file": filename, "rows": len(rows), "created": report.created},
        clock=clock,
    )
    outer.commit()
    return report
