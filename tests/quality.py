"""QC evidence for tests that release lots: a specification and passing results, recorded
through the services by a QA person (not the lot's receiver)."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Lot, LotStatus, Material, User
from app.services.quality import qc, specifications
from app.services.quality.specifications import SpecTestIn
from tests.clock import CLOCK

IDENTITY = SpecTestIn("Identity", "FTIR", "expected", expected="conforms", identity=True)


def give_specification(session: Session, material: Material, by: User) -> None:
    """An identity test, unless the material has a specification already."""
    if not specifications.active_tests(session, material.id):  # type: ignore[arg-type]
        specifications.add_test(
            session,
            actor=by,
            material_id=material.id,
            new=IDENTITY,
            clock=CLOCK,  # type: ignore[arg-type]
        )


def pass_qc(session: Session, lot: Lot, by: User) -> None:
    """Sample the lot and record a passing result for every test still open."""
    if LotStatus(lot.status) not in qc.OPEN_FOR_EVIDENCE:
        return
    material = session.get(Material, lot.material_id)
    assert material is not None
    give_specification(session, material, by)
    evidence = qc.evidence(session, lot)
    if not evidence.samples:
        qc.take_sample(session, actor=by, lot_code=lot.lot_code, containers="1", clock=CLOCK)
    for item in evidence.tests:
        if item.current is None or not item.current.within:
            value = item.test.expected or str(
                item.test.low if item.test.low is not None else item.test.high
            )
            qc.record_result(
                session, actor=by, lot_code=lot.lot_code, spec_test_id=item.test.id, value=value,
                reason="" if item.current is None else "Retested", clock=CLOCK,
            )  # fmt: skip
