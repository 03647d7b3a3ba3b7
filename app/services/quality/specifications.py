"""Material specifications (the tests a lot must pass before release) and which suppliers'
certificates of analysis QA accepts in place of a test. QA owns both; every change is audited
and nothing is deleted: a test that goes is retired with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.models import Material, MaterialSupplier, Party, Role, SpecKind, SpecTest, User
from app.services.core import audit
from app.services.core.actors import Actor, actor_identity, require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Violation, require
from app.services.core.quantities import read_number, record_id
from app.services.core.text import max_length, read_reason, read_text
from app.services.masterdata.materials import get_material

QC = (Role.QA,)
IDENTITY_RULE = "21 CFR 111.75(a)(1)"


@dataclass(frozen=True)
class SpecTestIn:
    name: str
    method: str
    kind: str  # SpecKind
    low: str = ""
    high: str = ""
    unit: str = ""
    expected: str = ""
    identity: bool = False
    coa_allowed: bool = False


def active_tests(session: Session, material_id: int) -> list[SpecTest]:
    return list(
        session.exec(
            select(SpecTest)
            .where(SpecTest.material_id == material_id, col(SpecTest.retired_at).is_(None))
            .order_by(col(SpecTest.id))
        )
    )


def limits_text(test: SpecTest) -> str:
    """What a result must be, in words: "99.0–100.5 %", "at most 0.5 %", "conforms"."""
    if test.kind == SpecKind.EXPECTED:
        return test.expected
    unit = f" {test.unit}" if test.unit else ""
    if test.low is not None and test.high is not None:
        return f"{test.low}–{test.high}{unit}"
    if test.low is not None:
        return f"at least {test.low}{unit}"
    return f"at most {test.high}{unit}"


def _read(session: Session, material: Material, new: SpecTestIn) -> SpecTest:
    problems: list[Violation] = []
    name = read_text(new.name, field="name", label="test name", problems=problems,
                     limit=max_length(SpecTest, "name"), required=True)  # fmt: skip
    method = read_text(new.method, field="method", label="method", problems=problems,
                       limit=max_length(SpecTest, "method"), required=True)  # fmt: skip
    unit = read_text(new.unit, field="unit", label="unit", problems=problems,
                     limit=max_length(SpecTest, "unit"))  # fmt: skip
    low = high = None
    expected = ""
    if new.kind not in tuple(SpecKind):
        problems.append(
            Violation("kind.unknown", "Choose a range of values or an expected result.", "kind")
        )
    elif new.kind == SpecKind.RANGE:
        if not new.low.strip() and not new.high.strip():
            problems.append(
                Violation("low.empty", "Give the lower limit, the upper limit or both.", "low")
            )
        if new.low.strip():
            low = read_number(new.low, field="low", label="lower limit", problems=problems,
                              signed=True)  # fmt: skip
        if new.high.strip():
            high = read_number(new.high, field="high", label="upper limit", problems=problems,
                               signed=True)  # fmt: skip
        if low is not None and high is not None and low > high:
            problems.append(
                Violation("high.order", "The upper limit is below the lower limit.", "high")
            )
    else:
        expected = read_text(new.expected, field="expected", label="expected result",
                             problems=problems, limit=max_length(SpecTest, "expected"),
                             required=True)  # fmt: skip
    if new.identity and new.coa_allowed and material.dietary_ingredient:
        problems.append(
            Violation(
                "coa_allowed.identity",
                f"{material.code} is a dietary ingredient: its identity test is always done "
                f"here ({IDENTITY_RULE}); a certificate cannot stand in for it.",
                "coa_allowed",
            )
        )
    taken = {t.name.casefold() for t in active_tests(session, material.id)}  # type: ignore[arg-type]
    if name and name.casefold() in taken:
        problems.append(
            Violation(
                "name.taken",
                f"{material.code} already has a test named {name!r}; retire it first to "
                "replace it.",
                "name",
            )
        )
    require(problems)
    return SpecTest(
        material_id=material.id,  # type: ignore[arg-type]
        name=name,
        method=method,
        kind=new.kind,
        low=low,
        high=high,
        unit=unit,
        expected=expected,
        identity=new.identity,
        coa_allowed=new.coa_allowed,
        created_at=None,  # type: ignore[arg-type]  # set by add_test
        created_by_id=0,
    )


def add_test(
    session: Session, *, actor: Actor, material_id: int, new: SpecTestIn, clock: Clock
) -> SpecTest:
    """Add a required test to a material's specification.

    Raises:
        PermissionDenied: not QA. NotFound. Rejected: every problem with the test at once.
    """
    require_role(actor, *QC, action="change a specification")
    material = get_material(session, material_id)
    test = _read(session, material, new)
    test.created_at = clock.now()
    test.created_by_id = actor_identity(actor)[0]  # type: ignore[assignment]
    session.add(test)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="material.spec_test_added",
        entity_type="material",
        entity_id=material.id,
        after={
            "test_id": test.id,
            "name": test.name,
            "method": test.method,
            "limits": limits_text(test),
            "identity": test.identity,
            "coa_allowed": test.coa_allowed,
        },
        clock=clock,
    )
    return test


def retire_test(
    session: Session, *, actor: Actor, spec_test_id: object, reason: str, clock: Clock
) -> SpecTest:
    """Take a test out of the specification (kept, with who, when and why).

    Raises:
        PermissionDenied, NotFound, Rejected (no reason, already retired).
    """
    require_role(actor, *QC, action="change a specification")
    test = get_test(session, spec_test_id)
    problems: list[Violation] = []
    reason = read_reason(reason, problems)
    if test.retired_at is not None:
        problems.append(Violation("test.retired", f"{test.name} is already retired."))
    require(problems)
    test.retired_at = clock.now()
    test.retired_by_id = actor_identity(actor)[0]
    test.retired_reason = reason
    session.add(test)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="material.spec_test_retired",
        entity_type="material",
        entity_id=test.material_id,
        before={"test_id": test.id, "name": test.name, "limits": limits_text(test)},
        reason=reason,
        clock=clock,
    )
    return test


def supplier_link(session: Session, material_id: int, party_id: int) -> MaterialSupplier | None:
    return session.exec(
        select(MaterialSupplier).where(
            MaterialSupplier.material_id == material_id, MaterialSupplier.party_id == party_id
        )
    ).first()


def coa_qualified(session: Session, material_id: int, party_id: int | None) -> bool:
    link = supplier_link(session, material_id, party_id) if party_id else None
    return link is not None and link.coa_qualified_at is not None


def qualified_supplier_ids(session: Session, material_id: int) -> set[int]:
    return set(
        session.exec(
            select(MaterialSupplier.party_id).where(
                MaterialSupplier.material_id == material_id,
                col(MaterialSupplier.coa_qualified_at).is_not(None),
            )
        )
    )


def qualify_supplier(
    session: Session, *, actor: Actor, material_id: int, party_code: str, reason: str,
    clock: Clock,
) -> MaterialSupplier:  # fmt: skip
    """QA accepts an approved supplier's certificates of analysis for this material (for the
    tests whose specification allows it), with the reason (e.g. the audit that qualified it).

    Raises:
        PermissionDenied: not QA. NotFound. Rejected: not an approved supplier, already
        qualified, no reason.
    """
    require_role(actor, *QC, action="qualify a supplier's certificates")
    material = get_material(session, material_id)
    party = session.exec(select(Party).where(Party.code == party_code.strip().upper())).first()
    problems: list[Violation] = []
    reason = read_reason(reason, problems)
    link = supplier_link(session, material.id, party.id) if party else None  # type: ignore[arg-type]
    if party is None or link is None:
        problems.append(
            Violation(
                "party.unapproved",
                f"{party_code.strip() or 'That party'} is not an approved supplier of "
                f"{material.code}.",
                "party",
            )
        )
    elif link.coa_qualified_at is not None:
        problems.append(
            Violation(
                "party.qualified",
                f"{party.business_name}'s certificates are already accepted for {material.code}.",
                "party",
            )
        )
    require(problems)
    assert link is not None
    assert party is not None
    link.coa_qualified_at = clock.now()
    link.coa_qualified_by_id = actor.id if isinstance(actor, User) else None
    session.add(link)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="material.supplier_coa_qualified",
        entity_type="material",
        entity_id=material.id,
        after={"supplier": party.code, "business_name": party.business_name},
        reason=reason,
        clock=clock,
    )
    return link


def get_test(session: Session, spec_test_id: object) -> SpecTest:
    """Raises NotFound."""
    wanted = record_id(spec_test_id)  # type: ignore[arg-type]
    test = session.get(SpecTest, wanted) if wanted else None
    if test is None:
        raise NotFound("There is no such specification test.")
    return test
