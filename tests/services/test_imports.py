"""CSV import of materials and equipment: a dry run lists every wrong row and keeps nothing;
a real import is all or nothing and goes through the same rules as the screens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from app.models import Equipment, Material, User
from app.services.core.errors import PermissionDenied, Rejected
from app.services.masterdata import imports, materials
from app.services.masterdata.materials import MaterialIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, audit_actions, count

GOOD = (
    "\ufeffCode;Name;Kind;Unit;GTIN;Allergens;Tracking;Shelf life days\r\n"
    "RM-ASC;Ascorbic acid;raw;kg;;;lot;1095\r\n"
    "\r\n"
    "VC500;Vitamin C 500 mg tablets;finished;tablets;09501101020917;;lot;730\r\n"
).encode()


def test_dry_run_checks_everything_and_keeps_nothing(session: Session) -> None:
    report = imports.run_import(
        session, actor=SYSTEM, kind_name="materials", data=GOOD, dry_run=True, clock=CLOCK
    )

    assert report.ok
    assert report.rows == 2
    assert report.created == ["RM-ASC", "VC500"]
    assert count(session, Material) == 0
    assert audit_actions(session) == []


def test_import_creates_every_row_with_its_audit_event(session: Session) -> None:
    report = imports.run_import(
        session,
        actor=SYSTEM,
        kind_name="materials",
        data=GOOD,
        filename="erp.csv",
        dry_run=False,
        clock=CLOCK,
    )

    assert report.ok
    assert [m.code for m in materials.list_materials(session)] == ["RM-ASC", "VC500"]
    assert audit_actions(session) == ["material.created", "material.created", "import.materials"]


def test_one_wrong_row_names_line_and_column_and_nothing_is_imported(session: Session) -> None:
    materials.create_material(
        session, actor=SYSTEM, new=MaterialIn("RM-MCC", "Cellulose", "raw", "kg"), clock=CLOCK
    )
    data = (
        b"code,name,kind,unit,gtin\n"
        b"RM-ASC,Ascorbic acid,raw,kg,\n"
        b"RM-MGS,Magnesium stearate,powder,kg,\n"
        b"RM-MCC,Cellulose again,raw,kg,\n"
        b"VC500,Tablets,finished,tablets,09501101020918\n"
        b"RM-ASC,Duplicate,raw,kg,\n"
    )

    report = imports.run_import(
        session, actor=SYSTEM, kind_name="materials", data=data, dry_run=False, clock=CLOCK
    )

    assert [(e.line, e.column) for e in report.errors] == [
        (3, "kind"),
        (4, "code"),
        (5, "gtin"),
        (6, "code"),
    ]
    assert report.errors[1].message == "There is already a material RM-MCC."
    assert report.errors[3].message == "RM-ASC is also on line 2."
    assert report.created == []
    assert [m.code for m in materials.list_materials(session)] == ["RM-MCC"]
    assert "import.materials" not in audit_actions(session)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "The file is empty."),
        (b"code,name\nX,Y\n", "Columns missing from the header: kind, unit."),
        (b"code,name,kind,unit,colour\n", "Unknown columns: colour."),
        ("code,name,kind,unit\nRM,Säure,raw,kg\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(
    session: Session, data: bytes, words: str
) -> None:
    with pytest.raises(Rejected, match=words):
        imports.run_import(
            session, actor=SYSTEM, kind_name="materials", data=data, dry_run=True, clock=CLOCK
        )


def test_equipment_import_and_who_may_import(
    session: Session, make_user: Callable[..., User]
) -> None:
    data = (
        b"code,name,kind,needs_cleaning,clean_hold_hours\n"
        b"BL-03,Blender 3,blender,yes,48\n"
        b"TR-02,Rig,test rig,no,\n"
    )
    with pytest.raises(PermissionDenied):
        imports.run_import(
            session,
            actor=make_user("warehouse"),
            kind_name="equipment",
            data=data,
            dry_run=False,
            clock=CLOCK,
        )

    report = imports.run_import(
        session, actor=SYSTEM, kind_name="equipment", data=data, dry_run=False, clock=CLOCK
    )

    assert report.ok
    assert count(session, Equipment) == 2
    bad = imports.run_import(
        session,
        actor=SYSTEM,
        kind_name="equipment",
        data=b"code,name,kind,needs_cleaning\nBL-04,Blender 4,blender,maybe\n",
        dry_run=True,
        clock=CLOCK,
    )
    assert [(e.line, e.column) for e in bad.errors] == [(2, "needs_cleaning")]
