"""Demo master batch records and training for the two stories of SCENARIOS.md (idempotent).

VC500 revision A is superseded by revision B; FS-200 revision C is effective. They were
approved on paper before go-live, which the revision pages and audit trail say in those words:
the demo never fabricates anybody's electronic signature.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app.models import Material, Recipe, User
from app.services.accounts.auth import find_user
from app.services.core.actors import SystemActor
from app.services.core.clock import Clock
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
    ("olivia", "SOP-PR-014", 100, 630),
    ("omar", "SOP-PR-014", 100, 630),
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
FS200_BOM = [
    BomLineIn("PCBA-200", "10", "pcs", "0", "absolute", "10"),
    BomLineIn("HSG-200", "10", "pcs", "0", "absolute", "10"),
    BomLineIn("SE-10", "10", "pcs", "0", "absolute", "10"),
    BomLineIn("FW-200", "10", "pcs", "0", "absolute", "10"),
]


def seed_recipes(session: Session, *, actor: SystemActor, clock: Clock) -> list[str]:
    """Curricula, training records and the demo MBRs that are missing; returns what was made.

    Needs the demo people and materials (seed those first); without Ada it does nothing.
    """
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
        trained = clock.today() - timedelta(days=ago)
        training.record_training(
            session,
            actor=actor,
            user_id=person.id,  # type: ignore[arg-type]
            curriculum_code=code,
            trained_on=trained,
            expires_on=clock.today() + timedelta(days=left),
            clock=clock,
        )
        created.append(f"training {username} {code}")
    ada = find_user(session, "ada")
    if ada is None or not _materials_present(session):
        return created
    if _recipe(session, "VC500") is None:
        _effective(session, ada, actor, "VC500", "Vitamin C 500 mg tablets", "A", clock=clock)
        _effective(session, ada, actor, "VC500", "Vitamin C 500 mg tablets", "B", clock=clock)
        created.append("recipe VC500 (rev A superseded, rev B effective)")
    if _recipe(session, "FS-200") is None:
        _effective(session, ada, actor, "FS-200", "Flow sensor", "C", clock=clock)
        created.append("recipe FS-200 (rev C effective)")
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


def _effective(
    session: Session,
    ada: User,
    system: SystemActor,
    code: str,
    name: str,
    letter: str,
    clock: Clock,
) -> None:
    now = clock.now()
    recipe = _recipe(session, code)
    if code == "VC500":
        header = HeaderIn(
            "100000",
            "tablets",
            "",
            "SOP-PR-014,SOP-QA-001",
            "Weighings verified by a second person; blend time 14-16 min; magnesium stearate ±2 %."
            if letter == "B"
            else "First issue.",
        )
        steps, bom = _vc500_steps(letter), _vc500_bom(letter)
    else:
        header = HeaderIn("10", "pcs", "C", "SOP-QA-001", "Drawing rev C.")
        steps, bom = FS200_STEPS, FS200_BOM  # fmt: skip
    when = now - timedelta(days=200 if letter == "A" else 30)
    if recipe is None:
        product = code if code == "VC500" else "FS-200"
        revision = revisions.create_recipe(
            session,
            actor=ada,
            code=code,
            name=name,
            header=header,
            product_code=product,
            clock=clock.at(when),
        )
        if letter != "A":  # FS-200: revisions A and B were paper-only; C is the first here
            revision.revision = letter
            session.add(revision)
            session.flush()
    else:
        revision = revisions.start_revision(
            session,
            actor=ada,
            recipe_id=recipe.id,  # type: ignore[arg-type]
            clock=clock.at(when),
        )
        revisions.update_header(
            session,
            actor=ada,
            revision_id=revision.id,  # type: ignore[arg-type]
            header=header,
            clock=clock.at(when),
        )
        for s in reading.load_revision(session, revision.id).steps:  # type: ignore[arg-type]
            mbr_steps.remove_step(session, actor=ada, step_id=s.step.id, clock=clock.at(when))  # type: ignore[arg-type]
        for b in reading.load_revision(session, revision.id).bom:  # type: ignore[arg-type]
            mbr_bom.remove_bom_line(session, actor=ada, line_id=b.line.id, clock=clock.at(when))  # type: ignore[arg-type]
    for step in steps:
        mbr_steps.add_step(
            session,
            actor=ada,
            revision_id=revision.id,  # type: ignore[arg-type]
            new=step,
            clock=clock.at(when),
        )
    for line in bom:
        mbr_bom.add_bom_line(
            session,
            actor=ada,
            revision_id=revision.id,  # type: ignore[arg-type]
            new=line,
            clock=clock.at(when),
        )
    approval.submit_for_review(session, actor=ada, revision_id=revision.id, clock=clock.at(when))  # type: ignore[arg-type]
    approval.approve_outside_the_system(
        session,
        actor=system,
        revision_id=revision.id,  # type: ignore[arg-type]
        reference=f"paper MBR approval QA-MBR-{code}-{letter} (demo data)",
        clock=clock.at(when),
    )
