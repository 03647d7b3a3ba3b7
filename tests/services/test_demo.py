"""The demo data carries both stories of SCENARIOS.md, and seeding twice changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from app.models import AuditEvent, CleaningEvent, Lot, Meaning, RecipeRevision, Signature
from app.services.accounts.auth import find_user
from app.services.demo import DEMO_PEOPLE, seed_demo
from app.services.demo.signing import DEMO_RP
from app.services.esign import signers
from app.services.esign.reverify import reverify
from app.services.masterdata import (
    document_approval,
    documents,
    equipment,
    materials,
    parties,
    training,
)
from app.services.mbr import approval, reading
from app.services.quality import qc
from app.services.warehouse import issuing, ledger
from tests.clock import CLOCK, NOW
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
    assert approval.paper_approval(session, vc500) is None  # approved by signature, in the system

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
    assert [v.code for v in issuing.usability_problems(expired.lot, CLOCK.today())] == [
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


# What each demo person does while the demo is seeded (everything else is the seeding actor's).
DONE_BY = {
    # Ada: checks identities, issues the SOPs, authors the MBRs, signs as author.
    "ada": {
        "esign.identity_checked",
        "document.added",
        "document.revision_started",
        "document.submitted",
        "mbr.created",
        "mbr.step_added",
        "mbr.bom_added",
        "mbr.revision_started",
        "mbr.header_changed",
        "mbr.step_changed",
        "mbr.bom_changed",
        "mbr.submitted",
        "signature.created",
    },
    # Quinn: approves the MBRs (making them effective, superseding A), sets the raw materials'
    # specifications, qualifies their suppliers' certificates, samples, tests, releases lots.
    "quinn": {
        "signature.created",
        "document.effective",
        "mbr.effective",
        "mbr.superseded",
        "lot.released",
        "material.spec_test_added",
        "material.supplier_coa_qualified",
        "lot.sampled",
        "lot.result_recorded",
    },
    # Walter: attaches the certificate that came with each delivery he received.
    "walt": {"lot.certificate_attached"},
    "olivia": {"equipment.cleaned"},  # the demo's operator cleans the equipment
}


def test_demo_approvals_and_releases_are_real_signatures_made_at_seed_time(
    session: Session,
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    ada, quinn = find_user(session, "ada"), find_user(session, "quinn")
    assert ada is not None and quinn is not None

    # Each revision that became effective carries Ada's "authored" and Quinn's "approved".
    revisions = session.exec(select(RecipeRevision).order_by(col(RecipeRevision.id))).all()
    assert [(r.revision, r.status) for r in revisions] == [
        ("A", "superseded"),
        ("B", "effective"),
        ("C", "effective"),
    ]
    for revision in revisions:
        signed = approval.review_signatures(session, revision)
        assert signed[Meaning.AUTHORED].signer_id == ada.id, revision.revision
        assert signed[Meaning.APPROVED].signer_id == quinn.id, revision.revision
        assert approval.paper_approval(session, revision) is None

    # Each demo SOP was written by Ada and made effective by Quinn's approval signature.
    for listing in documents.list_documents(session):
        effective = listing.effective
        assert effective is not None and effective.created_by_id == ada.id
        approved = document_approval.approval_of(session, effective)
        assert approved is not None and approved.signer_id == quinn.id
        assert approved.method == "password"

    # Every lot the demo shows as released was released by Quinn's signature.
    released = session.exec(select(Lot).where(Lot.status == "released")).all()
    assert {lot.lot_code for lot in released} == {
        "ASC-2409-02", "MCC-2610-01", "MGS-2610-01", "ASC-2611-07"
    }  # fmt: skip
    for lot in released:
        # ... on complete evidence: sampled and tested by Quinn, the certificate attached by
        # Walter who received it (he could not have sampled, tested or released it).
        evidence = qc.evidence(session, lot)
        assert evidence.release_problems == []
        assert {s.taken_by_id for s in evidence.samples} == {quinn.id}
        assert {c.attached_by_id for c in evidence.certificates} == {lot.received_by_id}
        assert lot.received_by_id != quinn.id
        assert {t.current.recorded_by_id for t in evidence.tests if t.current} == {quinn.id}
        (sig,) = session.exec(
            select(Signature).where(
                Signature.record_type == "lot", Signature.record_id == str(lot.id)
            )
        ).all()
        assert (sig.meaning, sig.signer_id, sig.method) == ("released", quinn.id, "password")

    # Each signer acknowledged e-signing themselves, before signing anything else.
    for person in (ada, quinn):
        first = session.exec(
            select(Signature).where(Signature.signer_id == person.id).order_by(col(Signature.id))
        ).first()
        assert first is not None
        assert (first.record_type, first.record_id) == (signers.ACKNOWLEDGEMENT, str(person.id))

    # `batchbook signatures verify --all` has something to check, and it all holds.
    checked, findings = reverify(session, rp=DEMO_RP)
    # acknowledgements, SOP approvals, MBR revisions, lot releases
    assert checked == 2 + 2 + 3 * 2 + 4
    assert findings == []


def test_every_seeded_event_happens_at_seed_time_by_whoever_did_it(session: Session) -> None:
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # events are dated by the database's clock there
        started = session.execute(text("SELECT clock_timestamp()")).scalar_one()
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()

    # Nothing is backdated: the trail starts when the seed ran, in the order it was written.
    times = [e.occurred_at for e in events]
    if postgres:
        assert times == sorted(times) and times[0] >= started
    else:
        assert set(times) == {NOW}

    # A signature's event is its signer's.
    for event in (e for e in events if e.action == "signature.created"):
        signature = session.get(Signature, json.loads(event.after or "{}")["signature_id"])
        assert signature is not None
        assert (event.actor_id, event.actor_username) == (
            signature.signer_id,
            signature.signer_username,
        )

    # A demo person appears in the trail only for what they did; nobody's account is used
    # before it exists, and Ada's identity was checked before she checked anyone else's.
    people = {username for username, _name, _roles in DEMO_PEOPLE}
    created_at = {}
    for event in events:
        if event.action == "user.created":
            created_at[json.loads(event.after or "{}")["username"]] = event.id
        if event.actor_username in people:
            assert event.action in DONE_BY.get(event.actor_username, set()), event.action
            assert created_at[event.actor_username] < event.id
    checks = [e for e in events if e.action == "esign.identity_checked"]
    assert checks[0].actor_username == SYSTEM.name
    assert {e.actor_username for e in checks[1:]} == {"ada"}

    # Olivia records her cleanings as she does them, not hours before her account existed.
    cleanings = session.exec(select(CleaningEvent)).all()
    assert cleanings and {(c.cleaned_at, c.recorded_at) for c in cleanings} == {(NOW, NOW)}

    # No revision was made effective outside the system.
    assert not [e for e in events if "outside the system" in (e.reason or "")]
