"""Master batch records: authoring a draft, review, two-signature approval, supersession,
immutability (service and database), new revisions and comparison."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from app.models import (
    AuditEvent,
    BomLine,
    Material,
    Meaning,
    RecipeRevision,
    RecipeStep,
    RevisionStatus,
    User,
)
from app.services.core.errors import PermissionDenied, Rejected
from app.services.esign import signatures
from app.services.masterdata import training
from app.services.mbr import approval, bom, compare, reading, revisions, steps
from app.services.mbr.bom import BomLineIn
from app.services.mbr.revisions import HeaderIn
from app.services.mbr.steps import LimitIn, StepIn
from tests.clock import CLOCK, at
from tests.conftest import SYSTEM, audit_actions, count
from tests.signing import NOW, Signer
from tests.signing import sign_with_password as signed_by

HEADER = HeaderIn(batch_size="100000", batch_unit="tablets", sop_codes="sop-pr-014, SOP-QA-001")
WEIGH = StepIn(code="20", kind="weigh", title="Weigh ascorbic acid", training_code="VC500")
BLEND = StepIn(
    code="40",
    kind="record_values",
    title="Blend",
    equipment_kind="blender",
    training_code="VC500",
    limits=(LimitIn("Blend time", "min", "14", "16"), LimitIn("Speed", "rpm", "11", "13")),
)
ASC = BomLineIn("RM-ASC", "55.0", "kg", "0.5", "percent", "20")


@pytest.fixture
def master(session: Session) -> None:
    """Inert reference data: two materials and the VC500 curriculum."""
    for code, name in (("RM-ASC", "Ascorbic acid"), ("RM-MCC", "Microcrystalline cellulose")):
        session.add(Material(code=code, name=name, kind="raw", unit="kg", created_at=NOW))
    session.flush()
    training.create_curriculum(
        session,
        actor=SYSTEM,
        code="VC500",
        title="VC500 MBR",
        kind="mbr",
        validity_days=365,
        clock=CLOCK,
    )


@pytest.fixture
def author(make_signer: Callable[..., Signer]) -> Signer:
    return make_signer("admin", "qa", username="ada", full_name="Ada Ferreira")


@pytest.fixture
def approver(make_signer: Callable[..., Signer]) -> Signer:
    return make_signer("qa", username="quinn", full_name="Quinn Adeyemi")


@pytest.fixture
def draft(session: Session, master: None, author: Signer) -> RecipeRevision:
    revision = revisions.create_recipe(
        session,
        actor=author.user,
        code="vc500",
        name="Vitamin C 500 mg tablets",
        header=HEADER,
        clock=CLOCK,
    )
    steps.add_step(session, actor=author.user, revision_id=revision.id, new=WEIGH, clock=CLOCK)
    steps.add_step(session, actor=author.user, revision_id=revision.id, new=BLEND, clock=CLOCK)
    bom.add_bom_line(session, actor=author.user, revision_id=revision.id, new=ASC, clock=CLOCK)
    return revision


def sign(session: Session, signer: User, revision: RecipeRevision, meaning: str) -> object:
    return signed_by(
        session, signer, record_type=reading.RECORD_TYPE, record_id=revision.id, meaning=meaning
    )


def approve(session: Session, revision: RecipeRevision, author: User, approver: User) -> None:
    approval.submit_for_review(session, actor=author, revision_id=revision.id, clock=at(NOW))
    sign(session, author, revision, "authored")
    sign(session, approver, revision, "approved")


def test_author_builds_a_draft_with_steps_bom_and_limits(
    session: Session, draft: RecipeRevision
) -> None:
    view = reading.load_revision(session, draft.id)

    assert view.title == "VC500 rev A"
    assert view.status == RevisionStatus.DRAFT
    assert view.revision.batch_size == Decimal("100000")
    assert view.revision.sop_codes == "SOP-PR-014,SOP-QA-001"
    assert [s.step.code for s in view.steps] == ["20", "40"]
    assert [(li.name, li.low, li.high) for li in view.steps[1].limits] == [
        ("Blend time", Decimal("14"), Decimal("16")),
        ("Speed", Decimal("11"), Decimal("13")),
    ]
    assert view.bom[0].material.code == "RM-ASC"
    assert view.bom[0].line.quantity == Decimal("55.0")  # the written precision is kept
    assert view.bom[0].tolerance_words == "±0.5 %"
    assert view.steps[0].bom == [view.bom[0].line]
    assert audit_actions(session, entity_type="mbr_revision") == [
        "mbr.created",
        "mbr.step_added",
        "mbr.step_added",
        "mbr.bom_added",
    ]


def test_a_product_whose_first_revisions_were_on_paper_starts_at_its_next_letter(
    session: Session, master: None, author: Signer, approver: Signer
) -> None:
    header = HeaderIn("10", "pcs", "C")
    with pytest.raises(Rejected) as refused:
        revisions.create_recipe(
            session, actor=author.user, code="FS-200", name="Flow sensor", header=header,
            first_revision="CC", clock=CLOCK,
        )  # fmt: skip
    assert [v.field for v in refused.value.violations] == ["first_revision"]

    revision = revisions.create_recipe(
        session, actor=author.user, code="FS-200", name="Flow sensor", header=header,
        first_revision="c", clock=CLOCK,
    )  # fmt: skip

    assert revision.revision == "C"
    created = session.exec(select(AuditEvent).where(AuditEvent.action == "mbr.created")).one()
    assert '"revision":"C"' in (created.after or "")
    steps.add_step(session, actor=author.user, revision_id=revision.id, new=WEIGH, clock=CLOCK)
    bom.add_bom_line(session, actor=author.user, revision_id=revision.id, new=ASC, clock=CLOCK)
    approve(session, revision, author.user, approver.user)
    next_one = revisions.start_revision(
        session, actor=author.user, recipe_id=revision.recipe_id, clock=CLOCK
    )
    assert next_one.revision == "D"


@pytest.mark.parametrize(
    ("step", "field", "words"),
    [
        (StepIn(code="20", kind="instruction", title="Again"), "code", "already exists"),
        (StepIn(code="50", kind="juggle", title="X"), "kind", "Choose what kind"),
        (StepIn(code="50", kind="instruction", title=" "), "title", "Give the step a title"),
        (StepIn(code="50", kind="record_values", title="Check"), "limit1", "at least one value"),
        (
            StepIn("50", "record_values", "Check", limits=(LimitIn("Hardness", "kP", "12", "8"),)),
            "limit1",
            "low limit is above the high",
        ),
        (
            StepIn("50", "record_values", "Check", limits=(LimitIn("Hardness", "kP", "x", "8"),)),
            "limit1",
            "must be a number",
        ),
        (StepIn(code="50", kind="equipment_check", title="Blender"), "equipment_kind", "kind of"),
        (StepIn("50", "instruction", "Read", training_code="NOPE"), "training_code", "NOPE"),
    ],
)
def test_bad_step_is_refused_beside_its_field_and_nothing_is_written(
    session: Session, draft: RecipeRevision, author: Signer, step: StepIn, field: str, words: str
) -> None:
    steps_before = count(session, RecipeStep)
    events_before = len(audit_actions(session))

    with pytest.raises(Rejected) as refused:
        steps.add_step(session, actor=author.user, revision_id=draft.id, new=step, clock=CLOCK)

    assert [v.field for v in refused.value.violations] == [field]
    assert words in refused.value.violations[0].message
    assert count(session, RecipeStep) == steps_before
    assert len(audit_actions(session)) == events_before


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        (BomLineIn("RM-XYZ", "1", "kg", "1"), "material", "no material"),
        (BomLineIn("RM-MCC", "-3", "kg", "1"), "quantity", "more than zero"),
        (BomLineIn("RM-MCC", "twenty", "kg", "1"), "quantity", "must be a number"),
        (BomLineIn("RM-MCC", "20", "kg", "150"), "tolerance", "above 100 %"),
        (BomLineIn("RM-MCC", "20", "kg", "25", "absolute"), "tolerance", "smaller than"),
        (BomLineIn("RM-MCC", "20", "kg", "1", step_code="40"), "step", "weigh or material-scan"),
        (BomLineIn("RM-MCC", "20", "kg", "1", step_code="99"), "step", "no step 99"),
    ],
)
def test_bad_bom_line_is_refused_beside_its_field(
    session: Session, draft: RecipeRevision, author: Signer, line: BomLineIn, field: str, words: str
) -> None:
    with pytest.raises(Rejected) as refused:
        bom.add_bom_line(session, actor=author.user, revision_id=draft.id, new=line, clock=CLOCK)

    assert [v.field for v in refused.value.violations] == [field]
    assert words in refused.value.violations[0].message
    assert count(session, BomLine) == 1


def test_steps_reorder_and_remove_and_bom_lines_follow_renamed_steps(
    session: Session, draft: RecipeRevision, author: Signer
) -> None:
    first = reading.load_revision(session, draft.id).steps[0].step
    steps.move_step(session, actor=author.user, step_id=first.id, offset=1, clock=CLOCK)
    assert [s.step.code for s in reading.load_revision(session, draft.id).steps] == ["40", "20"]

    with pytest.raises(Rejected, match="already at that end"):
        steps.move_step(session, actor=author.user, step_id=first.id, offset=1, clock=CLOCK)

    steps.update_step(session, actor=author.user, step_id=first.id, new=WEIGH.__class__(
        code="30", kind="weigh", title="Weigh ascorbic acid"
    ), clock=CLOCK)  # fmt: skip
    assert reading.load_revision(session, draft.id).bom[0].line.step_code == "30"

    steps.remove_step(session, actor=author.user, step_id=first.id, clock=CLOCK)
    view = reading.load_revision(session, draft.id)
    assert [(s.step.code, s.step.position) for s in view.steps] == [("40", 1)]
    assert view.bom[0].line.step_code is None
    assert "mbr.step_removed" in audit_actions(session, entity_type="mbr_revision")


def test_a_drafts_bom_line_and_step_limits_are_replaced_as_the_app_role(
    session: Session, draft: RecipeRevision, author: Signer
) -> None:
    """On PostgreSQL this runs as the least-privilege app role (issue 9 point 3): editing a
    draft deletes its own rows, which the role may do only there (the freeze triggers guard
    every effective or superseded revision's rows)."""
    view = reading.load_revision(session, draft.id)
    blend = view.steps[1].step
    steps.update_step(session, actor=author.user, step_id=blend.id, new=BLEND.__class__(
        code="40", kind="record_values", title="Blend", equipment_kind="blender",
        training_code="VC500", limits=(LimitIn("Blend time", "min", "15", "17"),),
    ), clock=CLOCK)  # fmt: skip
    bom.remove_bom_line(session, actor=author.user, line_id=view.bom[0].line.id, clock=CLOCK)
    view = reading.load_revision(session, draft.id)
    assert [(li.name, li.low, li.high) for li in view.steps[1].limits] == [
        ("Blend time", Decimal("15"), Decimal("17"))
    ]
    assert view.bom == []
    assert "mbr.bom_removed" in audit_actions(session, entity_type="mbr_revision")


def test_operators_cannot_author(
    session: Session, draft: RecipeRevision, make_user: Callable[..., User]
) -> None:
    operator = make_user("operator")
    with pytest.raises(PermissionDenied, match="Only Admin or QA"):
        steps.add_step(
            session,
            actor=operator,
            revision_id=draft.id,
            new=StepIn("50", "instruction", "Tidy up"),
            clock=CLOCK,
        )


def test_an_incomplete_draft_cannot_go_to_review_and_every_gap_is_named(
    session: Session, master: None, author: Signer
) -> None:
    revision = revisions.create_recipe(
        session, actor=author.user, code="X1", name="Empty", header=HEADER, clock=CLOCK
    )
    steps.add_step(session, actor=author.user, revision_id=revision.id, new=WEIGH, clock=CLOCK)
    bom.add_bom_line(
        session,
        actor=author.user,
        revision_id=revision.id,
        new=BomLineIn("RM-MCC", "1", "kg", "1"),
        clock=CLOCK,
    )

    with pytest.raises(Rejected) as refused:
        approval.submit_for_review(session, actor=author.user, revision_id=revision.id, clock=CLOCK)

    messages = [v.message for v in refused.value.violations]
    assert "BOM line RM-MCC does not name the step that consumes it." in messages
    assert "Weigh step 20 has no material to weigh." in messages
    assert session.get(RecipeRevision, revision.id).status == "draft"  # type: ignore[union-attr]


def test_review_freezes_the_draft(session: Session, draft: RecipeRevision, author: Signer) -> None:
    approval.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=CLOCK)

    with pytest.raises(Rejected, match="in review and frozen"):
        steps.add_step(
            session,
            actor=author.user,
            revision_id=draft.id,
            new=StepIn("50", "qa_hold", "Hold"),
            clock=CLOCK,
        )
    with pytest.raises(Rejected, match="in review and frozen"):
        revisions.update_header(
            session, actor=author.user, revision_id=draft.id, header=HEADER, clock=CLOCK
        )


def test_effective_needs_the_author_and_a_different_qa_approver(
    session: Session, draft: RecipeRevision, author: Signer, approver: Signer
) -> None:
    approval.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=at(NOW))

    with pytest.raises(PermissionDenied, match="author signs first"):
        sign(session, approver.user, draft, "approved")
    sign(session, author.user, draft, "authored")
    with pytest.raises(PermissionDenied, match="a different QA person must approve"):
        sign(session, author.user, draft, "approved")
    assert session.get(RecipeRevision, draft.id).status == "in_review"  # type: ignore[union-attr]

    sign(session, approver.user, draft, "approved")

    revision = session.get(RecipeRevision, draft.id)
    assert revision is not None
    assert revision.status == "effective"
    assert revision.effective_at is not None
    signed = approval.review_signatures(session, revision)
    assert {m: s.printed_name for m, s in signed.items()} == {
        Meaning.AUTHORED: "Ada Ferreira",
        Meaning.APPROVED: "Quinn Adeyemi",
    }
    assert audit_actions(session, entity_type="mbr_revision")[-1] == "mbr.effective"
    assert reading.effective_revision(session, "VC500") == revision


def test_operators_cannot_approve(
    session: Session,
    draft: RecipeRevision,
    author: Signer,
    make_signer: Callable[..., Signer],
) -> None:
    approval.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=at(NOW))
    sign(session, author.user, draft, "authored")
    operator = make_signer("operator")
    with pytest.raises(PermissionDenied, match="Only QA can sign"):
        sign(session, operator.user, draft, "approved")


def test_a_new_revision_supersedes_the_effective_one_when_approved(
    session: Session, draft: RecipeRevision, author: Signer, approver: Signer
) -> None:
    approve(session, draft, author.user, approver.user)
    rev_b = revisions.start_revision(
        session, actor=author.user, recipe_id=draft.recipe_id, clock=CLOCK
    )
    assert rev_b.revision == "B"
    with pytest.raises(Rejected, match="still draft"):
        revisions.start_revision(session, actor=author.user, recipe_id=draft.recipe_id, clock=CLOCK)
    bom.add_bom_line(
        session,
        actor=author.user,
        revision_id=rev_b.id,
        new=BomLineIn("RM-MCC", "20.0", "kg", "1", step_code="20"),
        clock=CLOCK,
    )

    approve(session, rev_b, author.user, approver.user)

    session.refresh(draft)
    assert draft.status == "superseded"
    assert draft.superseded_at is not None
    assert rev_b.status == "effective"
    assert reading.effective_revision(session, "VC500") == rev_b


def test_effective_revision_never_changes_the_service_refuses(
    session: Session, draft: RecipeRevision, author: Signer, approver: Signer
) -> None:
    approve(session, draft, author.user, approver.user)
    step = reading.load_revision(session, draft.id).steps[0].step
    line = reading.load_revision(session, draft.id).bom[0].line

    for attempt in (
        lambda: revisions.update_header(
            session, actor=author.user, revision_id=draft.id, header=HEADER, clock=CLOCK
        ),
        lambda: steps.update_step(
            session, actor=author.user, step_id=step.id, new=WEIGH, clock=CLOCK
        ),
        lambda: steps.remove_step(session, actor=author.user, step_id=step.id, clock=CLOCK),
        lambda: bom.remove_bom_line(session, actor=author.user, line_id=line.id, clock=CLOCK),
        lambda: bom.add_bom_line(
            session, actor=author.user, revision_id=draft.id, new=ASC, clock=CLOCK
        ),
        lambda: approval.submit_for_review(
            session, actor=author.user, revision_id=draft.id, clock=CLOCK
        ),
    ):
        with pytest.raises(Rejected, match="effective and can never change"):
            attempt()


def test_effective_revision_never_changes_the_database_refuses(
    session: Session, draft: RecipeRevision, author: Signer, approver: Signer
) -> None:
    approve(session, draft, author.user, approver.user)
    step = reading.load_revision(session, draft.id).steps[0].step
    statements = [
        ("UPDATE recipe_revision SET batch_size = '1' WHERE id = :rev", "frozen"),
        ("UPDATE recipe_revision SET status = 'draft' WHERE id = :rev", "frozen"),
        ("UPDATE bom_line SET quantity = '1' WHERE revision_id = :rev", "frozen"),
        ("DELETE FROM bom_line WHERE revision_id = :rev", "frozen"),
        ("UPDATE recipe_step SET title = 'x' WHERE revision_id = :rev", "frozen"),
        (
            "INSERT INTO recipe_step (revision_id, position, code, kind, title, instruction,"
            " per_unit, verification_required) VALUES (:rev, 9, '99', 'instruction', 'x', '',"
            " false, false)",
            "frozen",
        ),
        ("UPDATE step_limit SET high = '99'", "frozen"),
        # The app role has no DELETE here at all; the owner meets the trigger.
        ("DELETE FROM recipe_revision WHERE id = :rev", "append-only|permission denied"),
    ]
    for sql, words in statements:
        with pytest.raises(DatabaseError, match=words), session.begin_nested():
            session.execute(text(sql), {"rev": draft.id, "step": step.id})

    # What an effective revision may still do: become superseded (and nothing else with it).
    with session.begin_nested():
        session.execute(
            text(
                "UPDATE recipe_revision SET status = 'superseded', superseded_at = :now"
                " WHERE id = :rev"
            ),
            {"rev": draft.id, "now": NOW},
        )
    with pytest.raises(DatabaseError, match="frozen"), session.begin_nested():
        session.execute(text("UPDATE recipe_revision SET status = 'effective' WHERE id = :rev"), {
            "rev": draft.id
        })  # fmt: skip


def test_return_to_draft_needs_a_reason_and_earlier_signatures_lapse(
    session: Session, draft: RecipeRevision, author: Signer, approver: Signer
) -> None:
    approval.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=at(NOW))
    sign(session, author.user, draft, "authored")

    with pytest.raises(Rejected, match="Give a reason"):
        approval.return_to_draft(
            session, actor=approver.user, revision_id=draft.id, reason=" ", clock=CLOCK
        )
    approval.return_to_draft(
        session,
        actor=approver.user,
        revision_id=draft.id,
        reason="Speed limits too wide",
        clock=CLOCK,
    )
    steps.update_step(
        session,
        actor=author.user,
        step_id=reading.load_revision(session, draft.id).steps[1].step.id,
        new=StepIn("40", "record_values", "Blend", limits=(LimitIn("Speed", "rpm", "11", "12"),)),
        clock=CLOCK,
    )
    approval.submit_for_review(
        session, actor=author.user, revision_id=draft.id, clock=at(NOW + timedelta(hours=1))
    )

    assert approval.review_signatures(session, draft) == {}
    shown = signatures.signatures_for(session, record_type="mbr_revision", record_id=str(draft.id))
    assert [s.valid for s in shown] == [False]  # the old "authored" no longer matches


def test_compare_lists_bom_and_steps_added_removed_and_changed(
    session: Session, draft: RecipeRevision, author: Signer, approver: Signer
) -> None:
    approve(session, draft, author.user, approver.user)
    rev_b = revisions.start_revision(
        session, actor=author.user, recipe_id=draft.recipe_id, clock=CLOCK
    )
    b = reading.load_revision(session, rev_b.id)
    bom.update_bom_line(
        session,
        actor=author.user,
        line_id=b.bom[0].line.id,
        new=BomLineIn("RM-ASC", "55.0", "kg", "0.4", "percent", "20"),
        clock=CLOCK,
    )
    bom.add_bom_line(
        session,
        actor=author.user,
        revision_id=rev_b.id,
        new=BomLineIn("RM-MCC", "20.0", "kg", "1", step_code="20"),
        clock=CLOCK,
    )
    steps.remove_step(session, actor=author.user, step_id=b.steps[1].step.id, clock=CLOCK)
    steps.add_step(
        session,
        actor=author.user,
        revision_id=rev_b.id,
        new=StepIn("90", "qa_hold", "QA release"),
        clock=CLOCK,
    )

    diff = compare.compare(session, old_id=draft.id, new_id=rev_b.id)

    assert [(c.key, c.change, c.fields) for c in diff.bom] == [
        ("RM-ASC", "changed", ["tolerance"]),
        ("RM-MCC", "added", []),
    ]
    assert [(c.key, c.change) for c in diff.steps] == [("40", "removed"), ("90", "added")]
    assert diff.header == []
    assert compare.compare(session, old_id=draft.id, new_id=draft.id).identical


def test_paper_approval_is_for_migration_only_and_says_so(
    session: Session, draft: RecipeRevision, author: Signer
) -> None:
    approval.submit_for_review(session, actor=author.user, revision_id=draft.id, clock=CLOCK)
    with pytest.raises(PermissionDenied):
        approval.approve_outside_the_system(
            session, actor=author.user, revision_id=draft.id, reference="QA-2025-118", clock=CLOCK
        )

    approval.approve_outside_the_system(
        session, actor=SYSTEM, revision_id=draft.id, reference="paper MBR QA-2025-118", clock=CLOCK
    )

    assert draft.status == "effective"
    assert approval.paper_approval(session, draft) == (
        "Approved outside the system: paper MBR QA-2025-118"
    )


def test_step_qualification_names_every_reason(
    session: Session, draft: RecipeRevision, make_user: Callable[..., User]
) -> None:
    step = session.exec(select(RecipeStep).where(RecipeStep.code == "20")).one()
    operator = make_user("operator", full_name="Otto Lindqvist")
    warehouse = make_user("warehouse", full_name="Walter Brandt")

    assert [
        v.code for v in training.step_qualification(session, user=operator, step=step, clock=CLOCK)
    ] == ["training.missing"]
    assert [
        v.code for v in training.step_qualification(session, user=warehouse, step=step, clock=CLOCK)
    ] == [
        "person.role",
        "training.missing",
    ]

    training.record_training(
        session,
        actor=SYSTEM,
        user_id=operator.id,
        curriculum_code="vc500",
        trained_on=(NOW - timedelta(days=400)).date(),
        clock=at(NOW),
    )
    expired = training.step_qualification(session, user=operator, step=step, clock=at(NOW))
    assert [v.code for v in expired] == ["training.expired"]
    assert "Otto Lindqvist's training for VC500 expired on" in expired[0].message

    training.record_training(
        session,
        actor=SYSTEM,
        user_id=operator.id,
        curriculum_code="VC500",
        trained_on=NOW.date(),
        clock=at(NOW),
    )
    assert training.step_qualification(session, user=operator, step=step, clock=at(NOW)) == []
    assert audit_actions(session, action="training.recorded") == ["training.recorded"] * 2
    # The matrix page reads all records at once and must agree with the one-by-one answer.
    rows = {person.id: states for person, states in training.matrix(session, today=NOW.date())}
    for person in (operator, warehouse):
        one_by_one = training.training_state(session, user=person, code="VC500", today=NOW.date())
        [state] = rows[person.id]
        assert state.latest == one_by_one.latest  # type: ignore[union-attr]
        assert state.words == one_by_one.words  # type: ignore[union-attr]
    assert rows[operator.id][0].current
    assert rows[warehouse.id][0].words == "Not trained"


def test_training_cannot_be_recorded_ahead_or_by_operators(
    session: Session, master: None, make_user: Callable[..., User]
) -> None:
    operator = make_user("operator")
    with pytest.raises(Rejected, match="cannot be recorded ahead"):
        training.record_training(
            session,
            actor=SYSTEM,
            user_id=operator.id,
            curriculum_code="VC500",
            trained_on=(NOW + timedelta(days=2)).date(),
            clock=at(NOW),
        )
    with pytest.raises(PermissionDenied):
        training.record_training(
            session,
            actor=operator,
            user_id=operator.id,
            curriculum_code="VC500",
            trained_on=NOW.date(),
            clock=at(NOW),
        )
