"""QC evidence of a lot: samples, results against the material's specification, certificates of
analysis, and the one rule that says whether the evidence is enough to release the lot.

Segregation of duties: whoever received a lot does not sample, test or release it. Evidence is
taken while the lot waits for its decision (quarantine or on hold); a wrong result is superseded
by a later one with a reason, never changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app.models import (
    Certificate,
    Lot,
    LotSample,
    LotStatus,
    Material,
    QcResult,
    ResultSource,
    Role,
    SpecKind,
    SpecTest,
    User,
)
from app.services.core import audit
from app.services.core.actors import require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Violation, require
from app.services.core.quantities import read_number, read_whole_number, record_id
from app.services.core.text import max_length, read_reason, read_text
from app.services.quality import specifications
from app.services.quality.specifications import IDENTITY_RULE, limits_text
from app.services.warehouse.ledger import RECORD_TYPE, WAREHOUSE, get_lot, lock_lot

QC = (Role.QA,)
OPEN_FOR_EVIDENCE = frozenset({LotStatus.QUARANTINE, LotStatus.ON_HOLD})
MAX_CERTIFICATE_BYTES = 5 * 1024 * 1024
# What a certificate may be, told by its first bytes (never by the name or the browser's word).
CERTIFICATE_KINDS = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
NOT_CONFORMING = "does not conform"


@dataclass
class TestEvidence:
    test: SpecTest
    current: QcResult | None
    superseded: list[QcResult]

    @property
    def limits(self) -> str:
        return limits_text(self.test)


@dataclass
class LotEvidence:
    tests: list[TestEvidence]
    samples: list[LotSample]
    certificates: list[Certificate]
    names: dict[int, str]  # user id -> full name, for who sampled/recorded/attached
    release_problems: list[Violation] = field(default_factory=list)


def receiver_refusal(lot: Lot, actor: User, doing: str) -> Violation | None:
    if lot.received_by_id == actor.id:
        return Violation(
            "duty.receiver",
            f"You received lot {lot.lot_code}: someone else must {doing} it.",
        )
    return None


def _closed(lot: Lot) -> list[Violation]:
    """[why] when the lot's decision is made and its evidence closed; else []."""
    if LotStatus(lot.status) in OPEN_FOR_EVIDENCE:
        return []
    status = LotStatus(lot.status).label.lower()
    return [Violation("lot.status", f"Lot {lot.lot_code} is {status}: its QC evidence is closed.")]


def _open_for_evidence(session: Session, actor: User, lot_code: str, doing: str) -> Lot:
    """The lot, locked, if `actor` may add evidence to it now.

    Raises:
        NotFound. Rejected: decided already, or `actor` received it.
    """
    lot = lock_lot(session, get_lot(session, lot_code).id)  # type: ignore[arg-type]
    problems = _closed(lot)
    refusal = receiver_refusal(lot, actor, doing)
    if refusal is not None:
        problems.append(refusal)
    require(problems)
    return lot


def take_sample(
    session: Session, *, actor: User, lot_code: str, containers: str, note: str = "",
    clock: Clock,
) -> LotSample:  # fmt: skip
    """Record that a sample was taken from `containers` of the lot's containers.

    Raises:
        PermissionDenied: not QA. NotFound. Rejected: the lot's decision is made, the actor
        received it, a bad number of containers.
    """
    require_role(actor, *QC, action="sample lots")
    lot = _open_for_evidence(session, actor, lot_code, "sample")
    problems: list[Violation] = []
    count = read_whole_number(containers, field="containers", label="number of containers sampled",
                              problems=problems, high=lot.containers)  # fmt: skip
    note = read_text(note, field="note", label="note", problems=problems,
                     limit=max_length(LotSample, "note"))  # fmt: skip
    require(problems)
    assert count is not None
    sample = LotSample(
        lot_id=lot.id,  # type: ignore[arg-type]
        containers=count,
        note=note,
        taken_at=clock.now(),
        taken_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(sample)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lot.sampled",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={"sample_id": sample.id, "containers": count, "of": lot.containers, "note": note},
        clock=clock,
    )
    return sample


def certificate_kind(data: bytes) -> str | None:
    return next((kind for magic, kind in CERTIFICATE_KINDS if data.startswith(magic)), None)


def attach_certificate(
    session: Session, *, actor: User, lot_code: str, filename: str, data: bytes, clock: Clock
) -> Certificate:
    """Keep the supplier's certificate of analysis with the lot, as sent, with its SHA-256.

    Raises:
        PermissionDenied: not QA or warehouse. NotFound. Rejected: decided already, empty, too
        large, not a PDF, PNG or JPEG, a bad file name.
    """
    require_role(actor, *QC, *WAREHOUSE, action="attach certificates of analysis")
    lot = lock_lot(session, get_lot(session, lot_code).id)  # type: ignore[arg-type]
    problems = _closed(lot)
    name = read_text(filename, field="certificate", label="file name", problems=problems,
                     limit=max_length(Certificate, "filename"))  # fmt: skip
    kind = certificate_kind(data)
    if not data:
        problems.append(
            Violation("certificate.empty", "Choose the certificate's file.", "certificate")
        )
    elif len(data) > MAX_CERTIFICATE_BYTES:
        problems.append(
            Violation(
                "certificate.size",
                f"The file is {len(data) / 1024 / 1024:.1f} MB; a certificate may be at most "
                f"{MAX_CERTIFICATE_BYTES // 1024 // 1024} MB. Scan it at a lower resolution.",
                "certificate",
            )
        )
    elif kind is None:
        problems.append(
            Violation(
                "certificate.kind",
                "A certificate must be a PDF, PNG or JPEG file; this one is none of them.",
                "certificate",
            )
        )
    require(problems)
    assert kind is not None
    certificate = Certificate(
        lot_id=lot.id,  # type: ignore[arg-type]
        filename=name or "certificate",
        content_type=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        content=data,
        attached_at=clock.now(),
        attached_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(certificate)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lot.certificate_attached",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        after={
            "certificate_id": certificate.id,
            "filename": certificate.filename,
            "content_type": kind,
            "sha256": certificate.sha256,
            "size": certificate.size,
        },
        clock=clock,
    )
    return certificate


def get_certificate(session: Session, lot_code: str, certificate_id: object) -> Certificate:
    """Raises NotFound (also for a certificate of another lot)."""
    lot = get_lot(session, lot_code)
    wanted = record_id(certificate_id)  # type: ignore[arg-type]
    certificate = session.get(Certificate, wanted) if wanted else None
    if certificate is None or certificate.lot_id != lot.id:
        raise NotFound(f"Lot {lot.lot_code} has no such certificate.")
    return certificate


def _current(session: Session, lot_id: int) -> dict[int, QcResult]:
    """Each test's current result: the newest that no later result supersedes."""
    results = session.exec(
        select(QcResult).where(QcResult.lot_id == lot_id).order_by(col(QcResult.id))
    ).all()
    replaced = {r.supersedes_id for r in results if r.supersedes_id}
    return {r.spec_test_id: r for r in results if r.id not in replaced}


def _read_value(test: SpecTest, raw: str, problems: list[Violation]) -> tuple[str, bool]:
    if test.kind == SpecKind.EXPECTED:
        value = read_text(raw, field="value", label="result", problems=problems,
                          limit=max_length(QcResult, "value"), required=True)  # fmt: skip
        return value, value.casefold() == test.expected.casefold()
    number = read_number(raw, field="value", label="result", problems=problems, signed=True)
    if number is None:
        return "", False
    within = (test.low is None or number >= test.low) and (test.high is None or number <= test.high)
    return str(number), within


def record_result(
    session: Session,
    *,
    actor: User,
    lot_code: str,
    spec_test_id: object,
    value: str,
    source: str = ResultSource.LAB.value,
    certificate_id: object = None,
    reason: str = "",
    clock: Clock,
) -> QcResult:
    """A result for one test of the lot's specification, flagged when out of its limits. A lab
    result needs a sample; a result from a certificate needs a test that allows it, a supplier
    qualified for the material and the certificate attached to this lot. A second result for the
    same test supersedes the first and needs a reason.

    Raises:
        PermissionDenied: not QA. NotFound. Rejected: every problem at once.
    """
    require_role(actor, *QC, action="record test results")
    lot = _open_for_evidence(session, actor, lot_code, "test")
    material = session.get(Material, lot.material_id)
    assert material is not None
    test = specifications.get_test(session, spec_test_id)
    problems: list[Violation] = []
    if test.material_id != lot.material_id or test.retired_at is not None:
        raise NotFound(f"{test.name} is not in {material.code}'s specification.")
    text, within = _read_value(test, value, problems)
    sample = certificate = None
    if source == ResultSource.LAB:
        sample = session.exec(
            select(LotSample).where(LotSample.lot_id == lot.id).order_by(col(LotSample.id).desc())
        ).first()
        if sample is None:
            problems.append(
                Violation(
                    "sample.none",
                    f"Take a sample of lot {lot.lot_code} first: a lab result is for a sample.",
                    "value",
                )
            )
    elif source == ResultSource.COA:
        problems += _certificate_problems(session, lot, material, test)
        wanted = record_id(certificate_id)  # type: ignore[arg-type]
        certificate = session.get(Certificate, wanted) if wanted else None
        if certificate is None or certificate.lot_id != lot.id:
            problems.append(
                Violation(
                    "certificate.none",
                    "Choose the attached certificate this result is taken from.",
                    "certificate_id",
                )
            )
    else:
        problems.append(Violation("source.unknown", "Choose lab or certificate.", "source"))
    earlier = _current(session, lot.id).get(test.id)  # type: ignore[arg-type]
    reason = read_reason(
        reason, problems, required=earlier is not None,
        empty=f"{test.name} has a result already ({earlier.value if earlier else ''}): give the "
        "reason for the new one.",
    )  # fmt: skip
    require(problems)
    result = QcResult(
        lot_id=lot.id,  # type: ignore[arg-type]
        spec_test_id=test.id,  # type: ignore[arg-type]
        source=source,
        value=text,
        within=within,
        sample_id=sample.id if sample else None,
        certificate_id=certificate.id if certificate else None,
        supersedes_id=earlier.id if earlier else None,
        reason=reason or None,
        recorded_at=clock.now(),
        recorded_by_id=actor.id,  # type: ignore[arg-type]
    )
    session.add(result)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lot.result_corrected" if earlier else "lot.result_recorded",
        entity_type=RECORD_TYPE,
        entity_id=lot.id,
        before={"result_id": earlier.id, "value": earlier.value} if earlier else None,
        after={
            "result_id": result.id,
            "test": test.name,
            "method": test.method,
            "value": text,
            "limits": limits_text(test),
            "within": within,
            "source": source,
            "certificate_id": result.certificate_id,
        },
        reason=reason or None,
        clock=clock,
    )
    return result


def _certificate_problems(
    session: Session, lot: Lot, material: Material, test: SpecTest
) -> list[Violation]:
    """Why a certificate may not stand in for `test` on this lot (empty when it may)."""
    if test.identity and material.dietary_ingredient:
        return [
            Violation(
                "source.identity",
                f"{material.code} is a dietary ingredient: its identity is tested here "
                f"({IDENTITY_RULE}), not taken from a certificate.",
                "source",
            )
        ]
    if not test.coa_allowed:
        return [
            Violation(
                "source.coa_not_allowed",
                f"The specification does not let a certificate stand in for {test.name}.",
                "source",
            )
        ]
    if not specifications.coa_qualified(session, material.id, lot.supplier_id):  # type: ignore[arg-type]
        return [
            Violation(
                "source.supplier_unqualified",
                f"The supplier of lot {lot.lot_code} is not qualified for {material.code}: "
                "test it here.",
                "source",
            )
        ]
    return []


def release_problems(session: Session, lot: Lot) -> list[Violation]:
    """Everything missing before the lot may be released (empty when the evidence is
    complete): a specification, an identity test for a dietary ingredient, a result within its
    limits for every test, each certificate result still acceptable."""
    material = session.get(Material, lot.material_id)
    assert material is not None
    tests = specifications.active_tests(session, material.id)  # type: ignore[arg-type]
    return _missing(session, lot, material, tests, _current(session, lot.id))  # type: ignore[arg-type]


def _missing(
    session: Session, lot: Lot, material: Material, tests: list[SpecTest],
    current: dict[int, QcResult],
) -> list[Violation]:  # fmt: skip
    if not tests:
        return [
            Violation(
                "spec.none",
                f"{material.code} has no specification: QA sets its tests on the material's page "
                "before a lot can be released.",
            )
        ]
    problems: list[Violation] = []
    if material.dietary_ingredient and not any(t.identity for t in tests):
        problems.append(
            Violation(
                "spec.identity",
                f"{material.code} is a dietary ingredient: its specification needs an identity "
                f"test ({IDENTITY_RULE}).",
            )
        )
    for test in tests:
        result = current.get(test.id)  # type: ignore[arg-type]
        if result is None:
            problems.append(
                Violation(
                    "result.missing",
                    f"No result yet for {test.name} ({test.method}, {limits_text(test)}).",
                )
            )
        elif not result.within:
            problems.append(
                Violation(
                    "result.out_of_limits",
                    f"{test.name} is {result.value}{' ' + test.unit if test.unit else ''}, "
                    f"outside {limits_text(test)}.",
                )
            )
        elif result.source == ResultSource.COA:
            problems += _certificate_problems(session, lot, material, test)
    return problems


def evidence(session: Session, lot: Lot) -> LotEvidence:
    """The lot's specification with each test's current and superseded results, its samples
    and certificates, and what is still missing for release."""
    material = session.get(Material, lot.material_id)
    assert material is not None
    tests = specifications.active_tests(session, lot.material_id)
    results = session.exec(
        select(QcResult).where(QcResult.lot_id == lot.id).order_by(col(QcResult.id))
    ).all()
    replaced = {r.supersedes_id for r in results if r.supersedes_id}
    current = {r.spec_test_id: r for r in results if r.id not in replaced}
    samples = list(
        session.exec(
            select(LotSample).where(LotSample.lot_id == lot.id).order_by(col(LotSample.id))
        )
    )
    certificates = list(
        session.exec(
            select(Certificate).where(Certificate.lot_id == lot.id).order_by(col(Certificate.id))
        )
    )
    people = {r.recorded_by_id for r in results} | {s.taken_by_id for s in samples}
    people |= {c.attached_by_id for c in certificates}
    names = dict(
        session.exec(select(User.id, User.full_name).where(col(User.id).in_(people))).all()
    )
    return LotEvidence(
        tests=[
            TestEvidence(
                test,
                current.get(test.id),  # type: ignore[arg-type]
                [r for r in results if r.spec_test_id == test.id and r not in current.values()],
            )
            for test in tests
        ],
        samples=samples,
        certificates=certificates,
        names=names,  # type: ignore[arg-type]
        release_problems=_missing(session, lot, material, tests, current),
    )


def evidence_actions(lot: Lot, user: User) -> frozenset[str]:
    """What `user` may add to the lot's evidence now ("sample", "result", "certificate"): the
    same rules the services enforce, for showing only the controls that will work."""
    if LotStatus(lot.status) not in OPEN_FOR_EVIDENCE or not user.active:
        return frozenset()
    actions = set()
    if user.has_role(*QC, *WAREHOUSE):
        actions.add("certificate")
    if user.has_role(*QC) and receiver_refusal(lot, user, "test") is None:
        actions |= {"sample", "result"}
    return frozenset(actions)
