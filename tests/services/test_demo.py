"""The demo data carries both stories of SCENARIOS.md, and seeding twice changes nothing."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, func, select

from app.models import AuditEvent, RecipeRevision
from app.services.accounts.auth import find_user
from app.services.demo import seed_demo
from app.services.masterdata import equipment, materials, parties, training
from app.services.mbr import approval, reading
from app.services.warehouse import issuing, ledger
from tests.clock import CLOCK
from tests.conftest import SYSTEM


def test_demo_seed_carries_both_stories_and_is_idempotent(session: Session) -> None:
    assert seed_demo(session, actor=SYSTEM, clock=CLOCK)
    events = session.exec(select(func.count()).select_from(AuditEvent)).one()

    assert seed_demo(session, actor=SYSTEM, clock=CLOCK) == []
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events

    vc500 = reading.effective_revision(session, "VC500")
    assert vc500 is not None and vc500.revision == "B"
    view = reading.load_revision(session, vc500.id)  # type: ignore[arg-type]
    assert [(b.material.code, b.line.quantity, b.tolerance_words) for b in view.bom] == [
        ("RM-ASC", Decimal("55.0"), "±0.5 %"),
        ("RM-MCC", Decimal("20.0"), "±1 %"),
        ("RM-MGS", Decimal("0.50"), "±2 %"),
    ]
    blend = next(s for s in view.steps if s.step.code == "60")
    assert [(li.name, li.low, li.high) for li in blend.limits] == [
        ("Blend time", Decimal("14"), Decimal("16")),
        ("Speed", Decimal("11"), Decimal("13")),
    ]
    rev_a = session.exec(select(RecipeRevision).where(RecipeRevision.revision == "A")).one()
    assert rev_a.status == "superseded"
    assert approval.paper_approval(session, vc500)

    fs200 = reading.effective_revision(session, "FS-200")
    assert fs200 is not None and fs200.revision == "C" and fs200.drawing_revision == "C"
    fs_view = reading.load_revision(session, fs200.id)  # type: ignore[arg-type]
    kinds = {s.step.code: s.step.kind for s in fs_view.steps}
    assert kinds["30"] == "qa_hold"  # first-article inspection
    assert kinds["50"] == "unit_test"
    assert materials.get_by_code(session, "PCBA-200").tracking == "serial"  # type: ignore[union-attr]

    _, bl01 = equipment.status_by_code(session, "BL-01", clock=CLOCK)
    assert bl01.problems[0].startswith("Calibration overdue")
    for code in ("BL-02", "SC-01", "PR-01", "TR-01"):
        assert equipment.status_by_code(session, code, clock=CLOCK)[1].usable, code
    assert equipment.status_by_code(session, "TR-01", clock=CLOCK)[1].calibration_certificate == (
        "CAL-TR01-2026-03"
    )
    greenleaf = parties.get_by_code(session, "CUST-GREENLEAF")
    assert greenleaf is not None and greenleaf.business_name == "Greenleaf Pharmacy"
    asc = materials.get_by_code(session, "RM-ASC")
    assert [p.kind for p in materials.suppliers_of(session, asc.id)] == ["supplier"]  # type: ignore[union-attr, arg-type]

    expired = ledger.load_lot(session, "ASC-2409-02")
    assert expired.status == "released"
    assert expired.expired(CLOCK.today())
    assert [v.code for v in issuing.usability_problems(session, expired.lot, CLOCK.today())] == [
        "lot.expired"
    ]

    otto, olivia = find_user(session, "otto"), find_user(session, "olivia")
    step = next(s.step for s in view.steps if s.step.code == "20")
    assert [
        v.code for v in training.step_qualification(session, user=otto, step=step, clock=CLOCK)
    ] == [  # type: ignore[arg-type]
        "training.expired"
    ]
    assert training.step_qualification(session, user=olivia, step=step, clock=CLOCK) == []  # type: ignore[arg-type]
