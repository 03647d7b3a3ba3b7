"""Each home's "Needs you now": every count comes from the rule the service enforces, and the
menu offers only what the person's roles may do, each link once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import Session

from app.models import Lot, Meaning, Role, User
from app.services.accounts import home
from app.services.accounts.auth import find_user
from app.services.demo import DEMO_PASSWORD, seed_demo
from app.services.demo.signing import DEMO_POLICY, DEMO_RP
from app.services.esign import signatures, signers
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.masterdata import document_approval, documents, equipment, training
from app.services.mbr import approval, reading, revisions
from app.services.warehouse import corrections, disposition, issuing, receipt, shipping
from app.services.warehouse.issuing import IssueIn
from app.services.warehouse.output import OutputIn, receive_output
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK, NOW
from tests.conftest import SYSTEM
from tests.quality import pass_qc
from tests.signing import POLICY, acknowledge

PASSKEYS_ONLY = signers.SigningPolicy(password_signing=False)


@dataclass
class Plant:
    """The demo plant (SCENARIOS.md) and its people."""

    session: Session

    def __getattr__(self, username: str) -> User:
        if username.startswith("_"):
            raise AttributeError(username)
        person = find_user(self.session, username)
        assert person is not None, username
        return person

    def needs(self, person: User, policy: signers.SigningPolicy = POLICY) -> dict[str, home.Need]:
        found = home.needs_for(self.session, person, clock=CLOCK, policy=policy)
        return {need.kind: need for need in found}

    def receive(self, by: User, material: str = "RM-ASC", supplier: str = "SUP-NORTHBRIDGE") -> Lot:
        lot, _ = receipt.receive(
            self.session,
            actor=by,
            new=ReceiptIn(material, supplier, f"S-{uuid.uuid4().hex[:6]}", "50",
                          (NOW + timedelta(days=600)).date(), key=uuid.uuid4().hex),
            clock=CLOCK,
        )  # fmt: skip
        return lot

    def batch(self, batch_no: str, planned: str = "1000") -> str:
        batches.create_batch(
            self.session, actor=self.sam, new=BatchIn("VC500", batch_no, planned), clock=CLOCK
        )
        return batch_no

    def sign(
        self, person: User, record_type: str, record_id: object, meaning: str, reason: str = ""
    ) -> None:
        """Sign the way the demo people do: with user ID and their demo password."""
        if record_type == "lot" and meaning == "released":
            pass_qc(self.session, self.session.get(Lot, record_id), person)  # type: ignore[arg-type]
        request = signatures.begin_signing(
            self.session, signer=person, record_type=record_type, record_id=str(record_id),
            meaning=meaning, rp=DEMO_RP, policy=DEMO_POLICY, clock=CLOCK,
            reason_code="investigation" if reason else None, reason_text=reason or None,
        )  # fmt: skip
        signatures.sign_with_password(
            self.session, signer=person, challenge_id=request.challenge_id,
            username=person.username, password=DEMO_PASSWORD, policy=DEMO_POLICY, clock=CLOCK,
        )  # fmt: skip

    def issue(self, batch_no: str, lot_code: str, quantity: str) -> None:
        issuing.issue(
            self.session,
            actor=self.walt,
            new=IssueIn(lot_code, quantity, batch_no, "", uuid.uuid4().hex),
            clock=CLOCK,
        )


@pytest.fixture
def plant(session: Session) -> Plant:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    return Plant(session)


def test_a_batch_waits_to_be_picked_until_its_whole_bill_of_materials_is_issued(
    plant: Plant,
) -> None:
    assert issuing.batches_to_pick(plant.session) == []
    assert "pick" not in plant.needs(plant.walt)

    first = plant.batch("VC500-26-0001")
    second = plant.batch("VC500-26-0002")
    assert issuing.batches_to_pick(plant.session) == [first, second]

    _, lines = issuing.pick_list(plant.session, batch_no=first, today=CLOCK.today())
    for line in lines:
        lot, _ = line.lots[0]
        plant.issue(first, lot.lot_code, str(line.open))
    assert issuing.batches_to_pick(plant.session) == [second]
    need = plant.needs(plant.walt)["pick"]
    assert (need.count, need.words) == (1, "batch waits to be picked")
    assert need.link.target == ("lots.pick", (("batch_no", second),))  # straight to its list

    # Material given back to the store is open again.
    issuing.return_to_stock(
        plant.session, actor=plant.walt, lot_code=lines[2].lots[0][0].lot_code, quantity="0.001",
        batch_no=first, key=uuid.uuid4().hex, clock=CLOCK,
    )  # fmt: skip
    need = plant.needs(plant.walt)["pick"]
    assert (need.count, need.words, need.detail) == (
        2,
        "batches wait to be picked",
        "VC500-26-0001, VC500-26-0002",
    )
    assert need.link.target == ("lots.pick", ())  # two: the page lets walt choose
    assert "pick" not in plant.needs(plant.quinn)  # QA does not pick


def test_a_shipment_waits_until_it_is_despatched(plant: Plant) -> None:
    walt = plant.walt
    plant.batch("VC500-26-0042", "100000")
    lot, _ = receive_output(
        plant.session,
        actor=walt,
        new=OutputIn("VC500", "VC500-26-0042", "100000", key=uuid.uuid4().hex),
        clock=CLOCK,
    )
    plant.sign(plant.ada, "lot", lot.id, "released")
    shipment = shipping.start_shipment(
        plant.session, actor=walt, customer_code="CUST-GREENLEAF", reference="PO-1", clock=CLOCK
    )
    assert shipping.open_shipments(plant.session) == [shipment.shipment_no]
    need = plant.needs(walt)["ship"]
    assert (need.count, need.words, need.link.target) == (
        1,
        "shipment started, not despatched",
        ("shipments.index", ()),
    )

    shipping.add_line(
        plant.session, actor=walt, shipment_no=shipment.shipment_no, scanned=lot.lot_code,
        quantity="100", key=uuid.uuid4().hex, clock=CLOCK,
    )  # fmt: skip
    shipping.despatch(
        plant.session, actor=walt, shipment_no=shipment.shipment_no, key=uuid.uuid4().hex,
        clock=CLOCK,
    )  # fmt: skip
    assert shipping.open_shipments(plant.session) == []
    assert "ship" not in plant.needs(walt)


def test_a_quarantined_lot_waits_for_qa_who_did_not_receive_it(
    plant: Plant, make_user: Callable[..., User]
) -> None:
    both = make_user("warehouse", "qa", username="wanda")
    by_walt = plant.receive(plant.walt)
    by_wanda = plant.receive(both, "RM-MCC", "SUP-CELLUTEC")

    assert disposition.lots_to_decide(plant.session, plant.quinn)["quarantine"] == [
        by_walt.lot_code,
        by_wanda.lot_code,
    ]
    # Whoever received a lot does not release it: it does not wait for them.
    assert disposition.lots_to_decide(plant.session, both)["quarantine"] == [by_walt.lot_code]
    need = plant.needs(plant.quinn)["release"]
    assert (need.count, need.words) == (2, "lots wait in quarantine for your QC decision")
    assert need.link.target == ("lots.index", (("status", "quarantine"),))
    assert "release" not in plant.needs(plant.walt)  # the warehouse does not decide

    plant.sign(plant.quinn, "lot", by_walt.id, "released")
    plant.sign(plant.quinn, "lot", by_wanda.id, "held", reason="Seal broken on arrival")
    needs = plant.needs(plant.quinn)
    assert "release" not in needs
    assert (needs["hold"].count, needs["hold"].detail) == (1, by_wanda.lot_code)
    assert needs["hold"].link.target == ("lots.index", (("status", "on_hold"),))


def test_a_stock_count_waits_for_a_qa_person_other_than_its_counter(
    plant: Plant, make_user: Callable[..., User]
) -> None:
    both = make_user("warehouse", "qa", username="wanda")
    adjustment = corrections.propose_adjustment(
        plant.session, actor=both, lot_code="MCC-2610-01", counted="59", reason="Recount",
        clock=CLOCK,
    )  # fmt: skip

    assert corrections.counts_to_approve(plant.session, plant.quinn) == ["MCC-2610-01"]
    assert corrections.counts_to_approve(plant.session, both) == []  # nobody approves their own
    need = plant.needs(plant.quinn)["count"]
    assert (need.count, need.words, need.link.target) == (
        1,
        "stock count waits for your approval",
        ("lots.index", (("count", "waiting"),)),
    )
    assert "count" not in plant.needs(plant.walt)

    plant.sign(plant.quinn, corrections.ADJUSTMENT_TYPE, adjustment.id, "approved")
    assert "count" not in plant.needs(plant.quinn)


def test_a_revision_in_review_waits_for_its_author_then_for_another_qa_person(
    plant: Plant,
) -> None:
    ada, quinn = plant.ada, plant.quinn
    effective = reading.effective_revision(plant.session, "VC500")
    assert effective is not None
    draft = revisions.start_revision(
        plant.session, actor=ada, recipe_id=effective.recipe_id, clock=CLOCK
    )
    assert approval.revisions_to_sign(plant.session, ada)[Meaning.AUTHORED] == []  # a draft

    approval.submit_for_review(plant.session, actor=ada, revision_id=draft.id, clock=CLOCK)  # type: ignore[arg-type]
    assert approval.revisions_to_sign(plant.session, ada) == {
        Meaning.AUTHORED: ["VC500 rev C"],
        Meaning.APPROVED: [],
    }
    assert "mbr" not in plant.needs(quinn)  # the author signs first

    plant.sign(ada, reading.RECORD_TYPE, draft.id, "authored")
    assert "mbr" not in plant.needs(ada)  # she wrote it: a different QA person approves
    need = plant.needs(quinn)["mbr"]
    assert (need.count, need.detail, need.link.target) == (
        1,
        "VC500 rev C (approve)",
        ("recipes.index", ()),
    )

    plant.sign(quinn, reading.RECORD_TYPE, draft.id, "approved")
    assert "mbr" not in plant.needs(quinn)


def test_a_document_revision_in_review_waits_for_qa_who_did_not_write_it(plant: Plant) -> None:
    ada, quinn = plant.ada, plant.quinn
    sop = next(
        d for d in documents.list_documents(plant.session) if d.document.code == "SOP-QA-001"
    )
    draft = documents.start_revision(
        plant.session,
        actor=ada,
        document_id=sop.document.id,
        clock=CLOCK,  # type: ignore[arg-type]
    )
    assert document_approval.revisions_to_approve(plant.session, quinn) == []  # a draft
    documents.submit_for_review(plant.session, actor=ada, revision_id=draft.id, clock=CLOCK)  # type: ignore[arg-type]

    assert document_approval.revisions_to_approve(plant.session, quinn) == ["SOP-QA-001 rev 4"]
    assert document_approval.revisions_to_approve(plant.session, ada) == []  # her own
    assert "document" not in plant.needs(plant.olivia)
    need = plant.needs(quinn)["document"]
    assert (need.count, need.words, need.link.target) == (
        1,
        "document revision waits for your approval",
        ("documents.index", ()),
    )


def test_equipment_not_ready_is_told_to_those_who_work_with_it(plant: Plant) -> None:
    # The demo's blender BL-01 is a month overdue for calibration.
    need = plant.needs(plant.olivia)["equipment"]
    assert (need.count, need.words, need.link.target) == (
        1,
        "piece of equipment not ready to use",
        ("equipment.index", ()),
    )
    assert need.detail.startswith("BL-01: Calibration overdue since ")
    assert "equipment" in plant.needs(plant.quinn)  # QA records calibrations
    assert "equipment" not in plant.needs(plant.walt)  # the warehouse does not use it

    bl01 = equipment.get_by_code(plant.session, "BL-01")
    equipment.set_in_service(
        plant.session, actor=plant.ada, equipment_id=bl01.id, in_service=False,  # type: ignore[union-attr, arg-type]
        reason="Waiting for the calibration service", clock=CLOCK,
    )  # fmt: skip
    assert equipment.not_ready(plant.session, CLOCK) == []  # out of service: nobody meets it
    assert "equipment" not in plant.needs(plant.olivia)


def test_training_due_is_told_to_the_person_and_to_who_sees_everyones(plant: Plant) -> None:
    # SCENARIOS: Otto's VC500 training has expired; Olivia's and Omar's are current.
    need = plant.needs(plant.otto)["training"]
    assert (need.count, need.words) == (1, "training due for you")
    assert need.detail.startswith("VC500: Expired ")
    assert need.link.target == ("training.person", (("user_id", str(plant.otto.id)),))
    assert "team-training" not in plant.needs(plant.otto)  # operators see their own only
    assert "training" not in plant.needs(plant.olivia)
    for viewer in (plant.quinn, plant.sam, plant.ada):
        team = plant.needs(viewer)["team-training"]
        assert (team.count, team.words, team.detail) == (
            1,
            "person has training due",
            "Otto Lindqvist",
        ), viewer.username

    # Training that expires within 30 days is due now: the retraining has to be planned.
    training.record_training(
        plant.session, actor=plant.quinn, user_id=plant.sam.id, curriculum_code="FS-200",  # type: ignore[arg-type]
        trained_on=CLOCK.today() - timedelta(days=355),
        expires_on=CLOCK.today() + timedelta(days=10), clock=CLOCK,
    )  # fmt: skip
    assert plant.needs(plant.sam)["training"].detail.startswith("FS-200: Current until ")
    assert plant.needs(plant.quinn)["team-training"].count == 2


def test_signing_not_active_names_the_next_step(
    plant: Plant, make_user: Callable[..., User]
) -> None:
    newcomer = make_user("operator", username="nina")
    need = plant.needs(newcomer)["signing"]
    assert (need.count, need.words, need.link.target) == (
        2,
        "steps before you can sign electronically",
        ("account.index", ()),
    )
    assert need.detail == "Next: an admin checks your identity (bring an identity document)."
    assert "nina" in plant.needs(plant.ada)["identity"].detail  # the admin is told
    assert plant.needs(plant.ada)["identity"].link.target == ("users.index", ())
    assert "identity" not in plant.needs(plant.quinn)  # only admins check identities

    signers.record_identity_check(
        plant.session, actor=plant.ada, user_id=newcomer.id, document_type="passport",  # type: ignore[arg-type]
        document_reference="P-1", clock=CLOCK,
    )  # fmt: skip
    need = plant.needs(newcomer)["signing"]
    assert (need.count, need.words) == (1, "step before you can sign electronically")
    assert need.detail == "Next: you sign the one-time acknowledgement on your signing page."
    assert "identity" not in plant.needs(plant.ada)

    acknowledge(plant.session, newcomer)
    assert "signing" not in plant.needs(newcomer)
    # A plant that signs with passkeys only: without one, nobody signs.
    need = plant.needs(newcomer, PASSKEYS_ONLY)["signing"]
    assert need.detail.startswith("Next: you enrol a passkey")
    # Locked after failed signings: told until when, in the plant's time.
    newcomer.signing_locked_until = NOW + timedelta(minutes=30)
    need = plant.needs(newcomer)["signing"]
    assert (need.count, need.words, need.detail) == (
        1,
        "signing locked after repeated failed attempts",
        "Until 10:30 CET; an admin has been alerted.",
    )


def test_nothing_waits_for_a_person_with_nothing_to_do(plant: Plant) -> None:
    walt = plant.walt
    plant.sign(walt, signers.ACKNOWLEDGEMENT, walt.id, "acknowledged")
    assert plant.needs(walt) == {}


def test_the_menu_shows_only_what_the_roles_may_do_and_each_link_once(plant: Plant) -> None:
    def targets(person: User, taken: set[tuple[str, home.Args]] | None = None) -> list[str]:
        return [
            link.endpoint
            for panel in home.panels_for(person, taken or set())
            for link in panel.links
        ]

    stock_moves = {"lots.receive_page", "lots.pick", "lots.issue_page", "lots.output_page",
                   "shipments.index"}  # fmt: skip
    assert stock_moves <= set(targets(plant.walt))
    for person in (plant.quinn, plant.olivia, plant.sam):
        assert not stock_moves & set(targets(person)), person.username
    assert "audit.index" not in targets(plant.olivia)
    assert "training.index" not in targets(plant.olivia)
    assert {"users.index", "devices.index"} <= set(targets(plant.ada))
    assert "users.index" not in targets(plant.quinn)
    for person in (plant.walt, plant.quinn, plant.sam, plant.ada, plant.olivia):
        shown = targets(person)
        assert len(shown) == len(set(shown)), person.username
    # Ada is admin and QA: the links the two roles share show once, in the QA panel.
    qa_panel, admin_panel, _ = home.panels_for(plant.ada)
    assert (qa_panel.role, admin_panel.role) == (Role.QA, Role.ADMIN)
    assert [link.label for link in admin_panel.links] == ["Users", "Devices"]
    # A link the needs give already is not repeated in the menu; a panel left without links
    # is left out.
    assert "equipment.index" not in targets(plant.olivia, {("equipment.index", ())})
    taken = {("account.index", ()), ("documents.index", ())}
    assert [p.title for p in home.panels_for(plant.walt, taken)] == ["Warehouse"]

    plant.walt.active = False  # a deactivated account is offered nothing to do
    assert not stock_moves & set(targets(plant.walt))
