"""QC release needs evidence (issue 11 points 1-2): a specification per material, a sample, a
result within limits for every test (or an accepted certificate from a qualified supplier), an
identity test of our own for dietary ingredients, and nobody releases, samples or tests a lot
they received."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session, select

from app.db import Database
from app.models import Lot, QcResult, User
from app.services.accounts.auth import find_user
from app.services.accounts.users import NewUser, create_user
from app.services.core.errors import NotFound, PermissionDenied, Rejected
from app.services.demo import seed_demo
from app.services.demo.quality import certificate_pdf
from app.services.masterdata import materials
from app.services.quality import qc, specifications
from app.services.quality.specifications import SpecTestIn
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK
from tests.conftest import PASSWORD, SYSTEM, audit_actions
from tests.signing import Signer, sign_lot, sign_with_password

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def plant(session: Session) -> Session:
    """The demo plant: RM-ASC (a dietary ingredient) has identity (FTIR, lab only) and assay
    (99.0-100.5 %, a certificate may stand in); Northbridge's certificates are accepted."""
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    return session


@pytest.fixture
def qa(make_signer: Callable[..., Signer]) -> User:
    return make_signer("qa", username="qa-lead", full_name="Quinn Adeyemi").user


def _walt(session: Session) -> User:
    return find_user(session, "walt")  # type: ignore[return-value]


def receive(session: Session, by: User, material: str = "RM-ASC",
            supplier: str = "SUP-NORTHBRIDGE") -> Lot:  # fmt: skip
    lot, _ = receipt.receive(
        session,
        actor=by,
        new=ReceiptIn(material, supplier, "S-88231", "60", date(2028, 5, 31), "2",
                      key=uuid.uuid4().hex),
        clock=CLOCK,
    )  # fmt: skip
    return lot


def _tests(session: Session, code: str = "RM-ASC") -> dict[str, int]:
    material = materials.get_by_code(session, code)
    assert material is not None
    return {t.name: t.id for t in specifications.active_tests(session, material.id)}  # type: ignore[arg-type,misc]


def result(session: Session, by: User, lot: Lot, test: str, value: str, **kw: object) -> QcResult:
    return qc.record_result(
        session, actor=by, lot_code=lot.lot_code, spec_test_id=_tests(session)[test],
        value=value, clock=CLOCK, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def release(session: Session, by: User, lot: Lot) -> None:
    sign_with_password(session, by, record_type="lot", record_id=lot.id, meaning="released")


def test_a_lot_is_released_only_on_complete_evidence_and_the_page_shows_it(
    plant: Session, qa: User
) -> None:
    session = plant
    lot = receive(session, _walt(session))
    with pytest.raises(PermissionDenied) as refused:
        release(session, qa, lot)
    assert "No result yet for Identity (FTIR, conforms)." in refused.value.message
    assert "No result yet for Assay (HPLC, 99.0–100.5 %)." in refused.value.message

    with pytest.raises(Rejected, match="Take a sample of lot .* first"):
        result(session, qa, lot, "Identity", "conforms")
    qc.take_sample(session, actor=qa, lot_code=lot.lot_code, containers="2", clock=CLOCK)
    result(session, qa, lot, "Identity", "conforms")
    flagged = result(session, qa, lot, "Assay", "98.2")
    assert flagged.within is False  # recorded, flagged, never refused silently
    with pytest.raises(PermissionDenied, match=r"Assay is 98.2 %, outside 99.0–100.5 %"):
        release(session, qa, lot)

    with pytest.raises(Rejected, match="Assay has a result already .98.2.: give the reason"):
        result(session, qa, lot, "Assay", "99.7")
    retest = result(session, qa, lot, "Assay", "99.7", reason="OOS investigation: dilution error")
    assert retest.supersedes_id == flagged.id
    evidence = qc.evidence(session, lot)
    assert evidence.release_problems == []
    (assay,) = [t for t in evidence.tests if t.test.name == "Assay"]
    assert (assay.current, assay.superseded) == (retest, [flagged])  # the first stays visible

    release(session, qa, lot)
    assert lot.status == "released"
    assert audit_actions(session, entity_type="lot", entity_id=str(lot.id)) == [
        "lot.received", "lot.sampled", "lot.result_recorded", "lot.result_recorded",
        "lot.result_corrected", "signature.created", "lot.released",
    ]  # fmt: skip
    with pytest.raises(Rejected, match="is released: its QC evidence is closed"):
        result(session, qa, lot, "Assay", "99.9", reason="late")


def test_the_range_is_inclusive_and_either_limit_may_be_open(plant: Session, qa: User) -> None:
    session = plant
    lot = receive(session, _walt(session))
    qc.take_sample(session, actor=qa, lot_code=lot.lot_code, containers="1", clock=CLOCK)
    assert result(session, qa, lot, "Assay", "100.5").within is True
    assert result(session, qa, lot, "Assay", "100.51", reason="retest").within is False
    assert result(session, qa, lot, "Assay", "99.0", reason="retest").within is True
    assert result(session, qa, lot, "Identity", "does not conform").within is False
    assert result(session, qa, lot, "Identity", "Conforms", reason="retest").within is True
    mcc = receive(session, _walt(session), "RM-MCC", "SUP-CELLUTEC")
    qc.take_sample(session, actor=qa, lot_code=mcc.lot_code, containers="1", clock=CLOCK)
    lod = _tests(session, "RM-MCC")["Loss on drying"]  # at most 7.0 %
    check = qc.record_result(session, actor=qa, lot_code=mcc.lot_code, spec_test_id=lod,
                             value="-0.1", clock=CLOCK)  # fmt: skip
    assert check.within is True
    for nonsense in ("1e3", "NaN", "٣", "9" * 20, "", "1,5"):
        with pytest.raises(Rejected):
            result(session, qa, lot, "Assay", nonsense, reason="retest")


def test_a_material_without_a_specification_cannot_be_released(plant: Session, qa: User) -> None:
    session = plant
    lot = receive(session, _walt(session), "RM-ASC")
    for test_id in _tests(session).values():
        specifications.retire_test(session, actor=qa, spec_test_id=test_id,
                                   reason="Replaced by monograph 2027", clock=CLOCK)  # fmt: skip
    with pytest.raises(PermissionDenied, match="RM-ASC has no specification: QA sets its tests"):
        release(session, qa, lot)
    specifications.add_test(
        session, actor=qa, material_id=lot.material_id,
        new=SpecTestIn("Assay", "HPLC", "range", low="99", high="101", unit="%"), clock=CLOCK,
    )  # fmt: skip
    with pytest.raises(
        PermissionDenied,
        match=r"dietary ingredient: its specification needs an identity test \(21 CFR 111.75",
    ):
        release(session, qa, lot)


def test_a_certificate_stands_in_only_where_allowed_and_never_for_a_dietary_identity(
    plant: Session, qa: User
) -> None:
    session = plant
    walt = _walt(session)
    lot = receive(session, walt)
    material = materials.get_by_code(session, "RM-ASC")
    assert material is not None
    pdf = certificate_pdf(lot, material)
    certificate = qc.attach_certificate(
        session, actor=walt, lot_code=lot.lot_code, filename="COA S-88231.pdf", data=pdf,
        clock=CLOCK,
    )  # the receiver may attach the delivery's certificate  # fmt: skip
    assert (certificate.sha256, certificate.size) == (hashlib.sha256(pdf).hexdigest(), len(pdf))
    assert certificate.content_type == "application/pdf"

    coa = {"source": "coa", "certificate_id": certificate.id}
    with pytest.raises(Rejected, match=r"its identity is tested here \(21 CFR 111.75"):
        result(session, qa, lot, "Identity", "conforms", **coa)
    with pytest.raises(Rejected, match="a certificate cannot stand in for it"):
        specifications.add_test(
            session, actor=qa, material_id=material.id,  # type: ignore[arg-type]
            new=SpecTestIn("Identity B", "HPTLC", "expected", expected="conforms", identity=True,
                           coa_allowed=True),
            clock=CLOCK,
        )  # fmt: skip
    assay = result(session, qa, lot, "Assay", "99.6", **coa)
    assert (assay.source, assay.certificate_id, assay.sample_id) == ("coa", certificate.id, None)

    # MCC from Cellutec: identity allows no certificate; Lubrichem is not qualified for MCC.
    mcc = receive(session, walt, "RM-MCC", "SUP-CELLUTEC")
    mcc_certificate = qc.attach_certificate(session, actor=qa, lot_code=mcc.lot_code,
                                            filename="coa.png", data=PNG, clock=CLOCK)  # fmt: skip
    identity = _tests(session, "RM-MCC")["Identity"]
    with pytest.raises(Rejected, match="does not let a certificate stand in for Identity"):
        qc.record_result(session, actor=qa, lot_code=mcc.lot_code, spec_test_id=identity,
                         value="conforms", source="coa", certificate_id=mcc_certificate.id,
                         clock=CLOCK)  # fmt: skip
    with pytest.raises(Rejected, match="Choose the attached certificate"):
        result(session, qa, lot, "Assay", "99.6", source="coa", certificate_id=mcc_certificate.id,
               reason="wrong certificate")  # fmt: skip
    with pytest.raises(NotFound):
        qc.get_certificate(session, lot.lot_code, mcc_certificate.id)


def test_an_unqualified_suppliers_certificate_is_refused(plant: Session, qa: User) -> None:
    session = plant
    material = materials.get_by_code(session, "RM-MGS")
    assert material is not None
    materials.approve_supplier(session, actor=qa, material_id=material.id,  # type: ignore[arg-type]
                               party_code="SUP-CELLUTEC", clock=CLOCK)  # fmt: skip
    lot = receive(session, _walt(session), "RM-MGS", "SUP-CELLUTEC")
    kept = qc.attach_certificate(session, actor=qa, lot_code=lot.lot_code, filename="c.pdf",
                                 data=b"%PDF-1.4 demo", clock=CLOCK)  # fmt: skip
    lod = _tests(session, "RM-MGS")["Loss on drying"]
    with pytest.raises(Rejected, match="is not qualified for RM-MGS: test it here"):
        qc.record_result(session, actor=qa, lot_code=lot.lot_code, spec_test_id=lod, value="3",
                         source="coa", certificate_id=kept.id, clock=CLOCK)  # fmt: skip

    def qualify(reason: str) -> object:
        return specifications.qualify_supplier(
            session, actor=qa, material_id=material.id,  # type: ignore[arg-type]
            party_code="SUP-CELLUTEC", reason=reason, clock=CLOCK,
        )  # fmt: skip

    with pytest.raises(Rejected, match="Give a reason"):
        qualify("")
    qualify("Audit 2026-11")
    qc.record_result(session, actor=qa, lot_code=lot.lot_code, spec_test_id=lod, value="3",
                     source="coa", certificate_id=kept.id, clock=CLOCK)  # fmt: skip
    with pytest.raises(Rejected, match="already accepted"):
        qualify("again")


def test_a_certificate_is_a_pdf_or_an_image_of_sensible_size(plant: Session, qa: User) -> None:
    lot = receive(plant, _walt(plant))
    for data, message in (
        (b"", "Choose the certificate's file"),
        (b"MZ\x90\x00 an executable", "must be a PDF, PNG or JPEG"),
        (b"<html><script>alert(1)</script>", "must be a PDF, PNG or JPEG"),
        (b"%PDF-" + b"0" * qc.MAX_CERTIFICATE_BYTES, "a certificate may be at most 5 MB"),
    ):
        with pytest.raises(Rejected, match=message):
            qc.attach_certificate(plant, actor=qa, lot_code=lot.lot_code, filename="x.pdf",
                                  data=data, clock=CLOCK)  # fmt: skip
    with pytest.raises(Rejected, match="invisible control character"):
        qc.attach_certificate(plant, actor=qa, lot_code=lot.lot_code, filename="coa\u202egpj.pdf",
                              data=PNG, clock=CLOCK)  # fmt: skip


def test_whoever_received_a_lot_neither_samples_tests_nor_releases_it(
    plant: Session, make_signer: Callable[..., Signer], qa: User
) -> None:
    session = plant
    both = make_signer("warehouse", "qa", username="ada2", full_name="Ada Both").user
    lot = receive(session, both)  # received by a person who is also QA
    with pytest.raises(
        Rejected, match=f"You received lot {lot.lot_code}: someone else must sample it"
    ):
        qc.take_sample(session, actor=both, lot_code=lot.lot_code, containers="1", clock=CLOCK)
    qc.take_sample(session, actor=qa, lot_code=lot.lot_code, containers="2", clock=CLOCK)
    with pytest.raises(Rejected, match="someone else must test it"):
        result(session, both, lot, "Identity", "conforms")
    assert qc.evidence_actions(lot, both) == {"certificate"}
    assert qc.evidence_actions(lot, qa) == {"sample", "result", "certificate"}
    sign_lot(session, qa, lot, "released")  # evidence by qa first: the only gap left is who
    lot2 = receive(session, both)
    qc.take_sample(session, actor=qa, lot_code=lot2.lot_code, containers="1", clock=CLOCK)
    result(session, qa, lot2, "Identity", "conforms")
    result(session, qa, lot2, "Assay", "99.5")
    with pytest.raises(
        PermissionDenied, match=f"You received lot {lot2.lot_code}: someone else must release it"
    ):
        release(session, both, lot2)
    with pytest.raises(Rejected, match="containers sampled is a whole number from 1 to 2"):
        qc.take_sample(session, actor=qa, lot_code=lot2.lot_code, containers="3", clock=CLOCK)
    with pytest.raises(PermissionDenied, match="Only QA can sample lots"):
        qc.take_sample(session, actor=_walt(session), lot_code=lot2.lot_code, containers="1",
                       clock=CLOCK)  # fmt: skip


def test_two_first_results_for_one_test_at_once_make_one_current_result(
    backend: str, app_database: Callable[[str], str]
) -> None:
    """Two QA people enter the identity result at the same moment: one is the result, the
    other is told it needs a reason; never two results that both claim to be first."""
    db = Database(app_database(backend))
    with db.session_scope() as s:
        seed_demo(s, actor=SYSTEM, clock=CLOCK)
        for name in ("qa7", "qa8"):
            create_user(s, actor=SYSTEM, new=NewUser(name, name, ("qa",), PASSWORD), clock=CLOCK)
        lot = receive(s, _walt(s))
        qa7 = find_user(s, "qa7")
        assert qa7 is not None
        qc.take_sample(s, actor=qa7, lot_code=lot.lot_code, containers="1", clock=CLOCK)
        code, lot_id, test_id = lot.lot_code, lot.id, _tests(s)["Identity"]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def enter(name: str) -> None:
        barrier.wait()
        try:
            with db.session_scope() as s:
                person = find_user(s, name)
                outcomes.append(qc.record_result(s, actor=person, lot_code=code,  # type: ignore[arg-type]
                                                 spec_test_id=test_id, value="conforms",
                                                 clock=CLOCK).id)  # fmt: skip
        except Rejected as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=enter, args=(n,)) for n in ("qa7", "qa8")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [o for o in outcomes if isinstance(o, str)]
    assert len(refused) == 1, outcomes
    assert "Identity has a result already" in refused[0]
    with db.session_scope() as s:
        kept = s.exec(select(QcResult).where(QcResult.lot_id == lot_id)).all()
        assert [r.spec_test_id for r in kept] == [test_id]
    db.engine.dispose()
