"""A small plant for the floor's tests: the demo plus a recipe of steps signed on their own,
and people able to sign."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Batch, User
from app.services.accounts.auth import find_user
from app.services.demo import DEMO_POLICY, DEMO_RP, seed_demo
from app.services.demo.recipes import _review
from app.services.demo.signing import DemoSigning
from app.services.esign import signers
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.masterdata import materials
from app.services.masterdata.materials import MaterialIn
from app.services.mbr import bom as mbr_bom
from app.services.mbr import revisions
from app.services.mbr import steps as mbr_steps
from app.services.mbr.bom import BomLineIn
from app.services.mbr.revisions import HeaderIn
from app.services.mbr.steps import StepIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM

SIGNING = DemoSigning(DEMO_RP, DEMO_POLICY, CLOCK)
BATCH = "TEA-26-0001"


def _person(session: Session, username: str) -> User:
    user = find_user(session, username)
    assert user is not None
    return user


def _able_to_sign(session: Session, username: str) -> User:
    """The demo person with their identity checked by Ada and their acknowledgement signed."""
    person = _person(session, username)
    if signers.status(session, person, clock=CLOCK).identity_check is None:
        signers.record_identity_check(
            session, actor=_person(session, "ada"), user_id=person.id,  # type: ignore[arg-type]
            document_type="passport", document_reference=f"P-{username}", clock=CLOCK,
        )  # fmt: skip
    SIGNING.acknowledge(session, person)
    return person


def plant_with_a_tea_batch(session: Session) -> Batch:
    """The demo plant plus a small recipe (10 instruction, verified by a second person; 20
    instruction; 25 weigh; 30 QA hold), and batch TEA-26-0001 planned from it."""
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    ada, quinn = _person(session, "ada"), _person(session, "quinn")
    materials.create_material(
        session, actor=ada, new=MaterialIn("TEA-1", "Herbal tea blend", "finished", "kg"),
        clock=CLOCK,
    )  # fmt: skip
    revision = revisions.create_recipe(
        session, actor=ada, code="TEA-1", name="Herbal tea blend",
        header=HeaderIn("10", "kg", sop_codes="SOP-QA-001"), product_code="TEA-1", clock=CLOCK,
    )  # fmt: skip
    for step in (
        StepIn("10", "instruction", "Line clearance", "Clear the line.", training_code="VC500",
               verification_required=True),
        StepIn("20", "instruction", "Blend", "Blend for 10 minutes.", training_code="VC500"),
        StepIn("25", "weigh", "Weigh cellulose", "", "scale", "VC500"),
        StepIn("30", "qa_hold", "QA release", "QA releases."),
    ):  # fmt: skip
        mbr_steps.add_step(session, actor=ada, revision_id=revision.id, new=step, clock=CLOCK)  # type: ignore[arg-type]
    mbr_bom.add_bom_line(
        session, actor=ada, revision_id=revision.id,  # type: ignore[arg-type]
        new=BomLineIn("RM-MCC", "10", "kg", "1", "percent", "25"), clock=CLOCK,
    )  # fmt: skip
    _review(session, ada, quinn, revision, SIGNING)
    return batches.create_batch(
        session, actor=_person(session, "sam"), new=BatchIn("TEA-1", BATCH, "10"), clock=CLOCK
    )
