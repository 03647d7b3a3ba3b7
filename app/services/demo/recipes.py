"""Demo master batch records and training for the two stories of SCENARIOS.md (idempotent).

Ada authors each revision, sends it to review and signs it as author; Quinn approves it with her
signature, which makes it effective. VC500 revision A is approved first, then revision B, whose
approval supersedes A. FS-200's revisions A and B were on paper, so its record here starts at C.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app.models import Material, Meaning, Recipe, RecipeRevision, User
from app.services.accounts.auth import find_user
from app.services.core.actors import SystemActor
from app.services.demo.signing import DemoSigning
from app.services.masterdata import training
from app.services.mbr import approval, reading, revisions
from app.services.mbr import bom as mbr_bom
from app.services.mbr import steps as mbr_steps
from app.services.mbr.bom import BomLineIn
from app.services.mbr.revisions import HeaderIn
from app.services.mbr.steps import LimitIn, StepIn

CURRICULA = (
    ("VC500", "Vitamin C 500 mg tablets: master batch record", "mbr", 365),
    ("FS-200", "Flow sensor FS-200: master batch record", "mbr", 365),
    ("SOP-QA-001", "Good documentation practice", "sop", 730),
    ("SOP-PR-014", "Line clearance before a batch", "sop", 730),
)
# (username, curriculum, trained days ago, expires in days: negative = expired)
TRAINING = (
    ("olivia", "VC500", 60, 305),
    ("omar", "VC500", 90, 275),
    ("otto", "VC500", 400, -35),  # SCENARIOS: Otto's VC500 training has expired
    ("olivia", "FS-200", 30, 335),
    ("omar", "FS-200", 30, 335),
    # On the day SOP-PR-014 rev 5 came into force (the seed approves it first): a training
    # dated before it would be on an earlier revision and due again.
    ("olivia", "SOP-PR-014", 0, 730),
    ("omar", "SOP-PR-014", 0, 730),
)


def _vc500_steps(rev: str) -> list[StepIn]:
    blend_time = ("13", "17") if rev == "A" else ("14", "16")
    verify = rev != "A"
    return [
        StepIn("10", "equipment_check", "Line clearance of the blender",
               "Check the blender is clean, within calibration and cleared of the last product.",
               "blender", "SOP-PR-014"),
        StepIn("20", "weigh", "Weigh ascorbic acid", "Weigh on the floor scale.", "scale",
               "VC500", verification_required=verify),
        StepIn("30", "weigh", "Weigh microcrystalline cellulose", "", "scale", "VC500",
               verification_required=verify),
        StepIn("40", "weigh", "Weigh magnesium stearate", "", "scale", "VC500",
               verification_required=verify),
        StepIn("50", "verification", "Second-person verification of the weighings",
               "A second operator checks each lot and weight.", training_code="VC500"),
        StepIn("60", "record_values", "Blend 15 min at 12 rpm", "Record actual time and speed.",
               "blender", "VC500",
               limits=(LimitIn("Blend time", "min", *blend_time),
                       LimitIn("Speed", "rpm", "11", "13"))),
        StepIn("70", "equipment_check", "Compress", "Set up and run the tablet press.", "press",
               "VC500"),
        StepIn("80", "record_values", "In-process check of 10 tablets", "", "", "VC500",
               limits=(LimitIn("Hardness", "kP", "8", "12"),
                       LimitIn("Tablet weight", "mg", "533.5", "566.5"))),
        StepIn("90", "record_values", "Yield reconciliation", "", "", "VC500",
               limits=(LimitIn("Yield", "%", "97", "101"),)),
        StepIn("100", "qa_hold", "QA release", "QA reviews by exception and releases."),
    ]  # fmt: skip


def _vc500_header(rev: str) -> HeaderIn:
    note = (
        "Weighings verified by a second person; blend time 14-16 min; magnesium stearate ±2 %."
        if rev == "B"
        else "First issue."
    )
    return HeaderIn("100000", "tablets", "", "SOP-PR-014,SOP-QA-001", note)


def _vc500_bom(rev: str) -> list[BomLineIn]:
    return [
        BomLineIn("RM-ASC", "55.0", "kg", "0.5", "percent", "20"),
        BomLineIn("RM-MCC", "20.0", "kg", "1", "percent", "30"),
        BomLineIn("RM-MGS", "0.50", "kg", "5" if rev == "A" else "2", "percent", "40"),
    ]


FS200_STEPS = [
    StepIn("10", "material_scan", "Issue parts", "Scan each part's lot; record PCBA serials.",
           training_code="FS-200"),
    StepIn("20", "serial_capture", "Assemble and record the PCBA serial", "", "", "FS-200",
           per_unit=True),
    StepIn("30", "qa_hold", "First-article inspection (FAI)",
           "QA inspects and signs the first unit before units 2-10 continue."),
    StepIn("40", "record_values", "In-process check", "", "gauge", "FS-200", per_unit=True,
           limits=(LimitIn("Housing screw torque", "Nm", "0.8", "1.2"),)),
    StepIn("50", "unit_test", "Functional test on the rig",
           "Record rig calibration, firmware version and the measured flow error.", "test_rig",
           "FS-200", per_unit=True, limits=(LimitIn("Flow error", "%", "-2", "2"),)),
    StepIn("60", "label_print", "Label and serial check", "", "", "FS-200", per_unit=True),
    StepIn("70", "qa_hold", "QA release", "QA reviews every unit page and releases the job."),
]  # fmt: skip
FS200_HEADER = HeaderIn("10", "pcs", "C", "SOP-QA-001", "Drawing rev C.")
FS200_BOM = [
    BomLineIn("PCBA-200", "10", "pcs", "0", "absolute", "10"),
    BomLineIn("HSG-200", "10", "pcs", "0", "absolute", "10"),
    BomLineIn("SE-10", "10", "pcs", "0", "absolute", "10"),
    BomLineIn("FW-200", "10", "pcs", "0", "absolute", "10"),
]


def seed_recipes(session: Session, *, actor: SystemActor, signing: DemoSigning) -> list[str]:
    """Curricula, training records and the demo MBRs that are missing; returns what was made.

    Needs the demo people and materials (seed those first); without Ada and Quinn it makes no
    MBRs.

    Raises:
        PermissionDenied: Ada or Quinn cannot sign (no identity check or acknowledgement).
    """
    created = _training(session, actor=actor, signing=signing)
    ada, quinn = find_user(session, "ada"), find_user(session, "quinn")
    if ada is None or quinn is None or not _materials_present(session):
        return created
    if _recipe(session, "VC500") is None:
        _seed_vc500(session, ada, quinn, signing)
        created.append("recipe VC500 (rev A superseded, rev B effective)")
    if _recipe(session, "FS-200") is None:
        rev_c = revisions.create_recipe(
            session,
            actor=ada,
            code="FS-200",
            name="Flow sensor",
            header=FS200_HEADER,
            product_code="FS-200",
            first_revision="C",  # A and B were paper-only, before go-live
            clock=signing.clock,
        )
        _fill(session, ada, rev_c, FS200_STEPS, FS200_BOM, signing)
        _review(session, ada, quinn, rev_c, signing)
        created.append("recipe FS-200 (rev C effective)")
    return created


def _training(session: Session, *, actor: SystemActor, signing: DemoSigning) -> list[str]:
    """Curricula and the people's training records (from the paper training files)."""
    clock = signing.clock
    created: list[str] = []
    for code, title, kind, days in CURRICULA:
        if training.get_curriculum(session, code) is None:
            training.create_curriculum(
                session,
                actor=actor,
                code=code,
                title=title,
                kind=kind,
                validity_days=days,
                clock=clock,
            )
            created.append(f"curriculum {code}")
    for username, code, ago, left in TRAINING:
        person = find_user(session, username)
        if (
            person is None
            or training.training_state(session, user=person, code=code, today=clock.today()).latest  # type: ignore[union-attr]
        ):
            continue
        training.record_training(
            session,
            actor=actor,
            user_id=person.id,  # type: ignore[arg-type]
            curriculum_code=code,
            trained_on=clock.today() - timedelta(days=ago),
            expires_on=clock.today() + timedelta(days=left),
            clock=clock,
        )
        created.append(f"training {username} {code}")
    return created


def _recipe(session: Session, code: str) -> Recipe | None:
    return session.exec(select(Recipe).where(Recipe.code == code)).first()


def _materials_present(session: Session) -> bool:
    codes = {
        "RM-ASC",
        "RM-MCC",
        "RM-MGS",
        "VC500",
        "PCBA-200",
        "HSG-200",
        "SE-10",
        "FW-200",
        "FS-200",
    }
    found = set(session.exec(select(Material.code).where(Material.code.in_(codes))))  # type: ignore[attr-defined]
    return found == codes


def _seed_vc500(session: Session, ada: User, quinn: User, signing: DemoSigning) -> None:
    """Revision A made effective, then revision B drafted from it with only B's changes; B's
    approval supersedes A (the approval service does that, as for any revision)."""
    clock = signing.clock
    rev_a = revisions.create_recipe(
        session,
        actor=ada,
        code="VC500",
        name="Vitamin C 500 mg tablets",
        header=_vc500_header("A"),
        product_code="VC500",
        clock=clock,
    )
    _fill(session, ada, rev_a, _vc500_steps("A"), _vc500_bom("A"), signing)
    _review(session, ada, quinn, rev_a, signing)

    rev_b = revisions.start_revision(
        session,
        actor=ada,
        recipe_id=rev_a.recipe_id,
        clock=clock,
    )
    revisions.update_header(
        session,
        actor=ada,
        revision_id=rev_b.id,  # type: ignore[arg-type]
        header=_vc500_header("B"),
        clock=clock,
    )
    _revise(session, ada, rev_b, _vc500_steps("A"), _vc500_steps("B"), signing)
    _revise_bom(session, ada, rev_b, _vc500_bom("A"), _vc500_bom("B"), signing)
    _review(session, ada, quinn, rev_b, signing)


def _fill(
    session: Session,
    ada: User,
    revision: RecipeRevision,
    steps: list[StepIn],
    bom: list[BomLineIn],
    signing: DemoSigning,
) -> None:
    for step in steps:
        mbr_steps.add_step(
            session,
            actor=ada,
            revision_id=revision.id,  # type: ignore[arg-type]
            new=step,
            clock=signing.clock,
        )
    for line in bom:
        mbr_bom.add_bom_line(
            session,
            actor=ada,
            revision_id=revision.id,  # type: ignore[arg-type]
            new=line,
            clock=signing.clock,
        )


def _revise(
    session: Session,
    ada: User,
    revision: RecipeRevision,
    old: list[StepIn],
    new: list[StepIn],
    signing: DemoSigning,
) -> None:
    """Ada edits the steps that differ in the new revision (same step codes)."""
    ids = {s.step.code: s.step.id for s in reading.load_revision(session, revision.id).steps}  # type: ignore[arg-type]
    for before, after in zip(old, new, strict=True):
        if before != after:
            mbr_steps.update_step(
                session,
                actor=ada,
                step_id=ids[before.code],  # type: ignore[arg-type]
                new=after,
                clock=signing.clock,
            )


def _revise_bom(
    session: Session,
    ada: User,
    revision: RecipeRevision,
    old: list[BomLineIn],
    new: list[BomLineIn],
    signing: DemoSigning,
) -> None:
    """Ada edits the BOM lines that differ in the new revision (same materials)."""
    ids = {b.material.code: b.line.id for b in reading.load_revision(session, revision.id).bom}  # type: ignore[arg-type]
    for before, after in zip(old, new, strict=True):
        if before != after:
            mbr_bom.update_bom_line(
                session,
                actor=ada,
                line_id=ids[before.material_code],  # type: ignore[arg-type]
                new=after,
                clock=signing.clock,
            )


def _review(
    session: Session, ada: User, quinn: User, revision: RecipeRevision, signing: DemoSigning
) -> None:
    """Ada sends the draft to review and signs it as author; Quinn, a second QA person,
    approves it, which makes it effective."""
    approval.submit_for_review(
        session,
        actor=ada,
        revision_id=revision.id,  # type: ignore[arg-type]
        clock=signing.clock,
    )
    for signer, meaning in ((ada, Meaning.AUTHORED), (quinn, Meaning.APPROVED)):
        signing.sign(
            session,
            signer,
            record_type=reading.RECORD_TYPE,
            record_id=revision.id,
            meaning=meaning.value,
        )
