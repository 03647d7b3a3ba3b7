"""Every hard gate of the floor (DESIGN §5, issue 13 point 3) on the demo plant, on both
databases: each refusal with its exact sentence beside its field, each pass with the evidence
it relied on, and the loaders in a fixed number of queries however much history there is."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.models import Lot, Signature, User
from app.services.accounts.auth import find_user
from app.services.core.clock import Clock
from app.services.core.errors import PermissionDenied, Rejected
from app.services.demo import DEMO_PASSWORD, seed_demo
from app.services.demo.signing import DEMO_POLICY, DEMO_RP
from app.services.esign import signatures, signers
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.execution.gates import (
    Amount,
    BatchContext,
    EquipmentFacts,
    EquipmentUse,
    Evidence,
    GateResult,
    SignedBy,
    check_allergen_changeover,
    check_amount,
    check_equipment,
    check_fai_hold,
    check_lot,
    check_material,
    check_performer,
    check_releaser,
    check_scanned_lot,
    check_sequence,
    check_verifier,
    load_batch_context,
    load_equipment,
    load_lot,
    load_training,
    training_for,
)
from app.services.masterdata import equipment, materials, training
from app.services.masterdata.equipment import CLEANING_RECORD_TYPE
from app.services.masterdata.materials import MaterialIn
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK, NOW, at
from tests.conftest import SYSTEM, Counted

VC500 = "VC500-26-0042"
FS200 = "FS200-26-0007"
TODAY = date(2026, 11, 22)  # the plant's date at NOW (Europe/Berlin)


@dataclass
class Plant:
    """The demo plant with story 1's and story 2's batches created by Samira."""

    session: Session
    vc500: BatchContext
    fs200: BatchContext

    def person(self, username: str) -> User:
        user = find_user(self.session, username)
        assert user is not None
        return user

    def lot(self, scanned: str, step: str = "20", *, clock: Clock = CLOCK) -> GateResult:
        """Scan a lot at a step of story 1's batch: both lot gates."""
        found = load_lot(self.session, scanned)
        return check_scanned_lot(
            found.lot, found.material, step=self.vc500.step(step), lines=self.vc500.lines,
            batch_no=VC500, today=clock.today(), unfounded=found.unfounded,
            release=found.release, clock=clock,
        )  # fmt: skip

    def equipment(
        self,
        code: str,
        step: str = "10",
        *,
        clock: Clock = CLOCK,
        last_use: EquipmentUse | None = None,
    ) -> tuple[EquipmentFacts, GateResult]:
        """Scan equipment at a step of story 1's batch: the equipment gate."""
        found = load_equipment(self.session, code, last_use=last_use)
        return found, check_equipment(
            found.equipment, found.calibration, found.cleaning, step=self.vc500.step(step),
            product=self.vc500.product, clock=clock, cleaned_by=found.cleaned_by,
            last_use=last_use,
        )  # fmt: skip

    def changeover(
        self,
        code: str,
        *,
        context: BatchContext | None = None,
        last_use: EquipmentUse | None = None,
    ) -> GateResult:
        found = load_equipment(self.session, code, last_use=last_use)
        context = context or self.vc500
        return check_allergen_changeover(
            found.equipment, found.cleaning, product=context.product,
            product_allergens=context.product_allergens,
            allergens_by_product=found.allergens_by_product, verification=found.verification,
            clock=CLOCK, last_use=last_use,
        )  # fmt: skip

    def performer(
        self, username: str, step: str, context: BatchContext | None = None
    ) -> GateResult:
        context = context or self.vc500
        person = self.person(username)
        states = load_training(self.session, user=person, steps=context.steps, clock=CLOCK)
        return check_performer(person, context.step(step), training_for(context.step(step), states))

    def sign(
        self, person: User, record_type: str, record_id: object, meaning: str, reason: str = ""
    ) -> Signature:
        """Sign the way the demo people do: with user ID and their demo password."""
        request = signatures.begin_signing(
            self.session, signer=person, record_type=record_type, record_id=str(record_id),
            meaning=meaning, rp=DEMO_RP, policy=DEMO_POLICY, clock=CLOCK,
            reason_code="investigation" if reason else None, reason_text=reason or None,
        )  # fmt: skip
        return signatures.sign_with_password(
            self.session, signer=person, challenge_id=request.challenge_id,
            username=person.username, password=DEMO_PASSWORD, policy=DEMO_POLICY, clock=CLOCK,
        )  # fmt: skip

    def acknowledged(self, username: str) -> User:
        person = self.person(username)
        if signers.status(self.session, person, clock=CLOCK).acknowledgement is None:
            self.sign(person, signers.ACKNOWLEDGEMENT, person.id, "acknowledged")
        return person

    def receive(self, material: str, supplier: str, expiry: date = date(2028, 5, 31)) -> Lot:
        lot, _ = receipt.receive(
            self.session, actor=self.person("walt"),
            new=ReceiptIn(material, supplier, f"S-{uuid.uuid4().hex[:6]}", "10", expiry,
                          key=uuid.uuid4().hex),
            clock=CLOCK,
        )  # fmt: skip
        return lot


@pytest.fixture
def plant(session: Session) -> Plant:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    sam = find_user(session, "sam")
    assert sam is not None
    made = [
        batches.create_batch(session, actor=sam, new=BatchIn(code, number, planned), clock=CLOCK)
        for code, number, planned in (("VC500", VC500, "100000"), ("FS-200", FS200, "10"))
    ]
    return Plant(session, *(load_batch_context(session, batch) for batch in made))


def fields(result: GateResult) -> list[tuple[str, str | None]]:
    return [(v.message, v.field) for v in result.violations]


def messages(result: GateResult) -> list[str]:
    return [v.message for v in result.violations]


# --- 1. Sequence ------------------------------------------------------------------------------


def test_cannot_start_a_step_before_the_steps_before_it_are_done(plant: Plant) -> None:
    steps = plant.vc500.steps
    assert fields(check_sequence(steps, plant.vc500.step("40"), done={"10"})) == [
        ("Step 20 “Weigh ascorbic acid” is not done yet — finish it before starting step 40.",
         "step"),
        ("Step 30 “Weigh microcrystalline cellulose” is not done yet — finish it before "
         "starting step 40.", "step"),
    ]  # fmt: skip
    passed = check_sequence(steps, plant.vc500.step("30"), done={"10", "20"})
    assert passed.evidence == [Evidence("sequence", {"step": "30", "done_before": "10, 20"})]
    first = check_sequence(steps, plant.vc500.step("10"), done=set())
    assert first.evidence[0].facts["done_before"] == "none: the first step"


def test_a_step_of_another_revision_is_not_started_here(plant: Plant) -> None:
    result = check_sequence(plant.vc500.steps, plant.fs200.step("20"), done=set())
    assert [v.code for v in result.violations] == ["sequence.unknown_step"]


# --- 2. and 3. The lot: right material, status and expiry --------------------------------------


def test_an_expired_lot_is_blocked_with_what_to_scan_instead(plant: Plant) -> None:
    result = plant.lot("ASC-2409-02")
    assert fields(result) == [
        ("Lot ASC-2409-02 expired on 2026-09-30 — scan a released lot of RM-ASC.", "lot")
    ]
    assert result.evidence == []


def test_a_released_lot_in_date_passes_on_its_release_and_expiry(plant: Plant) -> None:
    result = plant.lot("ASC-2611-07")
    assert result.allowed
    release = plant.session.exec(
        text("SELECT id FROM signature WHERE record_type = 'lot' AND meaning = 'released' "
             "AND record_id = (SELECT CAST(id AS VARCHAR) FROM lot WHERE lot_code = 'ASC-2611-07')")
    ).scalar_one()  # fmt: skip
    assert result.evidence == [
        Evidence(
            "material",
            {"lot": "ASC-2611-07", "material": "RM-ASC", "step": "20", "bom_line": "1"},
        ),
        Evidence(
            "lot",
            {
                "lot": "ASC-2611-07",
                "material": "RM-ASC",
                "status": "released",
                "expiry": "2028-05-31",
                "used_on": "2026-11-22",
                "supplier_lot": "S-88231",
                "released_by": "Quinn Adeyemi",
                "released_at": "2026-11-22T10:00+01:00",
                "release_signature": str(release),
            },
        ),
    ]


def test_expiry_is_judged_at_the_plants_date_of_use(plant: Plant) -> None:
    found = load_lot(plant.session, "ASC-2409-02")  # expires 2026-09-30

    def at_time(utc: datetime) -> GateResult:
        clock = at(utc)
        return check_lot(
            found.lot, found.material, step=plant.vc500.step("20"), lines=plant.vc500.lines,
            today=clock.today(), unfounded=found.unfounded, release=found.release, clock=clock,
        )  # fmt: skip

    # 23:30 in Berlin on the day of expiry: still usable; 00:30 the next day: expired, though
    # UTC still says the 30th.
    assert at_time(datetime(2026, 9, 30, 21, 30, tzinfo=UTC)).allowed
    late = at_time(datetime(2026, 9, 30, 22, 30, tzinfo=UTC))
    assert [v.code for v in late.violations] == ["lot.expired"]


def test_a_lot_of_another_step_is_refused_naming_both(plant: Plant) -> None:
    assert fields(plant.lot("MCC-2610-01", "20")) == [
        ("Lot MCC-2610-01 is RM-MCC, which step 30 takes, not step 20 — scan a released lot "
         "of RM-ASC.", "lot"),
    ]  # fmt: skip
    assert plant.lot("MCC-2610-01", "30").allowed


def test_a_quarantined_lot_off_the_bill_of_materials_is_refused_for_both(plant: Plant) -> None:
    housing = plant.receive("HSG-200", "SUP-POLYFORM")
    assert fields(plant.lot(housing.lot_code)) == [
        (f"Lot {housing.lot_code} is HSG-200, which batch {VC500} does not use — scan a "
         "released lot of RM-ASC.", "lot"),
        (f"Lot {housing.lot_code} is quarantine, not released — scan a released lot of RM-ASC.",
         "lot"),
    ]  # fmt: skip


def test_a_lot_on_hold_is_refused(plant: Plant) -> None:
    lot = load_lot(plant.session, "ASC-2611-07").lot
    plant.sign(plant.person("quinn"), "lot", lot.id, "held", reason="Supplier complaint")
    assert messages(plant.lot("ASC-2611-07")) == [
        "Lot ASC-2611-07 is on hold, not released — scan a released lot of RM-ASC."
    ]


def test_a_release_not_backed_by_a_qc_decision_is_never_relied_on(plant: Plant) -> None:
    lot = plant.receive("RM-ASC", "SUP-NORTHBRIDGE")
    plant.session.execute(text("UPDATE lot SET status = 'released' WHERE id = :id"), {"id": lot.id})
    plant.session.expire_all()
    [violation] = plant.lot(lot.lot_code).violations
    assert violation.code == "lot.status"
    assert violation.message.startswith(f"Lot {lot.lot_code} cannot be used: its status is ")
    assert violation.message.endswith(
        "changed behind the app's back. Ask QA to look into it — scan a released lot of RM-ASC."
    )


def test_a_step_that_consumes_nothing_takes_no_lot(plant: Plant) -> None:
    found = load_lot(plant.session, "ASC-2611-07")
    result = check_material(
        found.lot, found.material, step=plant.vc500.step("60"), lines=plant.vc500.lines,
        batch_no=VC500,
    )  # fmt: skip
    assert messages(result) == [
        f"Step 60 consumes no material of batch {VC500}'s bill of materials; no lot is scanned "
        "here."
    ]


def test_an_unknown_scan_is_refused_beside_the_lot_field(plant: Plant) -> None:
    with pytest.raises(Rejected) as refused:
        load_lot(plant.session, "ASC-0000-00")
    assert [v.field for v in refused.value.violations] == ["lot"]


# --- 4. The right amount ---------------------------------------------------------------------


def test_story_1_a_short_weighing_is_blocked_and_the_topped_up_one_passes(plant: Plant) -> None:
    line, material = plant.vc500.lines[0]
    assert (material.code, line.quantity, line.unit) == ("RM-ASC", Decimal("55.000"), "kg")
    short = check_amount(line, material, [], Amount(Decimal("54.60"), "kg"), last=True)
    assert fields(short) == [
        ("RM-ASC needs 55.000 kg ±0.5 % (0.275 kg), from 54.725 kg to 55.275 kg; 54.600 kg is "
         "weighed, 0.125 kg short — add 0.125 kg to 0.675 kg more.", "quantity"),
    ]  # fmt: skip
    topped = check_amount(line, material, [], Amount(Decimal("55.12"), "kg"), last=True)
    assert topped.evidence == [
        Evidence(
            "amount",
            {
                "material": "RM-ASC",
                "target": "55.000 kg",
                "window": "54.725 kg to 55.275 kg",
                "total": "55.120 kg",
                "additions": "1",
                "added": "55.12 kg",
            },
        )
    ]


def test_the_amount_counts_every_container_against_the_scaled_tolerance(plant: Plant) -> None:
    line, material = plant.vc500.lines[2]  # RM-MGS 0.500 kg ±2 % (0.010 kg)
    grams = [Amount(Decimal("300"), "g"), Amount(Decimal("0.2"), "kg")]
    assert check_amount(line, material, grams, Amount(Decimal("10"), "g"), last=True).allowed
    over = check_amount(line, material, grams, Amount(Decimal("10.1"), "g"))
    assert messages(over) == [
        "RM-MGS needs 0.500 kg ±2 % (0.010 kg), from 0.490 kg to 0.510 kg; 3 additions make "
        "0.5101 kg, 0.0001 kg over — add at most 0.010 kg, not 10.1 g."
    ]
    litres = check_amount(line, material, grams, Amount(Decimal("0.01"), "L"))
    assert fields(litres) == [
        ("RM-MGS is taken in kg on this line; L is not one of its units — enter the amount in "
         "kg, g or mg.", "unit"),
    ]  # fmt: skip


# --- 5. Equipment ----------------------------------------------------------------------------


def test_story_1_blender_bl01_is_blocked_for_its_overdue_calibration(plant: Plant) -> None:
    _, result = plant.equipment("BL-01")
    assert fields(result) == [
        ("BL-01: calibration overdue since 2026-10-23 — use another blender whose calibration "
         "is current.", "equipment"),
    ]  # fmt: skip


def test_story_1_blender_bl02_passes_on_its_calibration_and_cleaning(plant: Plant) -> None:
    _, result = plant.equipment("BL-02")
    assert result.evidence == [
        Evidence(
            "equipment",
            {
                "equipment": "BL-02",
                "kind": "blender",
                "calibration_certificate": "CAL-BL02-2026-06",
                "calibration_due": (TODAY + timedelta(days=215)).isoformat(),
                "cleaned_at": "2026-11-22T10:00+01:00",
                "cleaned_by": "Olivia Okafor",
                "last_product_before_cleaning": "VC500",
                "clean_until": "2026-12-22T10:00+01:00",
            },
        )
    ]


def test_equipment_of_another_kind_is_refused(plant: Plant) -> None:
    _, result = plant.equipment("SC-01", "10")
    assert messages(result) == ["SC-01 is a scale; step 10 needs a blender — scan a blender."]
    _, scale = plant.equipment("SC-01", "20")
    assert scale.allowed


def test_equipment_out_of_service_is_refused(plant: Plant) -> None:
    bl02 = load_equipment(plant.session, "BL-02").equipment
    equipment.set_in_service(
        plant.session, actor=plant.person("ada"), equipment_id=bl02.id, in_service=False,
        reason="Motor fault", clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    _, result = plant.equipment("BL-02")
    assert messages(result) == ["BL-02: out of service — use another blender."]


def test_equipment_whose_clean_hold_time_has_passed_is_refused(plant: Plant) -> None:
    later = at(NOW + timedelta(hours=721))
    _, result = plant.equipment("BL-02", clock=later)
    assert fields(result) == [
        ("BL-02: not clean: cleaning expired at 2026-12-22 10:00 CET — clean it and record the "
         "cleaning, or use another blender that is clean.", "equipment"),
    ]  # fmt: skip


def test_equipment_that_ran_another_product_since_its_cleaning_is_not_cleared(
    plant: Plant,
) -> None:
    since = EquipmentUse("FS-200", FS200, NOW + timedelta(hours=1))
    _, result = plant.equipment("BL-02", last_use=since)
    assert fields(result) == [
        (f"BL-02 last ran FS-200 (batch {FS200}) and has not been cleaned since — clean it and "
         "record the line clearance before VC500.", "equipment"),
    ]  # fmt: skip
    same = EquipmentUse("VC500", "VC500-26-0041", NOW + timedelta(hours=1))
    _, campaign = plant.equipment("BL-02", last_use=same)
    assert campaign.allowed
    assert campaign.evidence[0].facts["last_run"] == (
        "VC500 in batch VC500-26-0041 at 2026-11-22T11:00+01:00"
    )


def test_unknown_equipment_is_refused_beside_its_field(plant: Plant) -> None:
    with pytest.raises(Rejected) as refused:
        load_equipment(plant.session, "bl-99")
    assert fields(GateResult(refused.value.violations)) == [
        ("There is no equipment 'BL-99'.", "equipment")
    ]


# --- 6. Allergen changeover ------------------------------------------------------------------


@pytest.fixture
def peanut_run(plant: Plant) -> Plant:
    """A peanut bar made the plant over: BL-02 ran it, then Olivia cleaned it."""
    materials.create_material(
        plant.session, actor=plant.person("ada"),
        new=MaterialIn("PB-10", "Peanut bar", "finished", "pcs", allergens="Peanut"),
        clock=CLOCK,
    )  # fmt: skip
    bl02 = load_equipment(plant.session, "BL-02").equipment
    equipment.record_cleaning(
        plant.session, actor=plant.person("olivia"), equipment_id=bl02.id, last_product="PB-10",
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    return plant


def test_an_allergen_changeover_needs_a_verified_cleaning(peanut_run: Plant) -> None:
    plant = peanut_run
    assert fields(plant.changeover("BL-02")) == [
        ("BL-02 ran PB-10, which carries peanut (VC500 does not), before its cleaning at "
         "2026-11-22 10:00 CET — a second person verifies that cleaning before BL-02 is used "
         "for VC500.", "equipment"),
    ]  # fmt: skip


def test_the_cleaner_cannot_verify_their_own_cleaning(peanut_run: Plant) -> None:
    plant = peanut_run
    cleaning = load_equipment(plant.session, "BL-02").cleaning
    assert cleaning is not None
    olivia = plant.acknowledged("olivia")
    with pytest.raises((PermissionDenied, Rejected), match="a second person verifies it"):
        plant.sign(olivia, CLEANING_RECORD_TYPE, cleaning.id, "verified")
    assert not plant.changeover("BL-02").allowed


def test_a_cleaning_verified_by_a_second_person_clears_the_changeover(peanut_run: Plant) -> None:
    plant = peanut_run
    cleaning = load_equipment(plant.session, "BL-02").cleaning
    assert cleaning is not None
    signature = plant.sign(
        plant.acknowledged("omar"), CLEANING_RECORD_TYPE, cleaning.id, "verified"
    )
    with pytest.raises((PermissionDenied, Rejected), match="verified already"):
        plant.sign(plant.person("ada"), CLEANING_RECORD_TYPE, cleaning.id, "verified")
    result = plant.changeover("BL-02")
    assert result.evidence == [
        Evidence(
            "allergen_changeover",
            {
                "equipment": "BL-02",
                "product": "VC500",
                "product_allergens": "none",
                "last_product": "PB-10",
                "last_product_allergens": "peanut",
                "cleaned_at": "2026-11-22T10:00+01:00",
                "cleaning_verified_by": "Omar Haddad",
                "cleaning_verified_at": "2026-11-22T10:00+01:00",
                "verification_signature": str(signature.id),
            },
        )
    ]


def test_a_run_with_an_allergen_not_cleaned_since_is_refused(peanut_run: Plant) -> None:
    since = EquipmentUse("PB-10", "PB-26-0001", NOW + timedelta(hours=2))
    assert fields(peanut_run.changeover("BL-02", last_use=since)) == [
        ("BL-02 last ran PB-10, which carries peanut (VC500 does not), and has not been cleaned "
         "since — clean it and have the cleaning verified by a second person before VC500.",
         "equipment"),
    ]  # fmt: skip


def test_no_changeover_cleaning_is_needed_between_products_without_allergens(plant: Plant) -> None:
    result = plant.changeover("BL-02")  # cleaned after VC500, which carries none
    assert result.allowed
    assert result.evidence[0].facts["last_product_allergens"] == "none"


def test_a_product_not_known_here_counts_as_carrying_an_allergen(plant: Plant) -> None:
    bl02 = load_equipment(plant.session, "BL-02").equipment
    equipment.record_cleaning(
        plant.session, actor=plant.person("omar"), equipment_id=bl02.id, last_product="XYZ-1",
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    assert messages(plant.changeover("BL-02")) == [
        "BL-02 ran XYZ-1, a product not known here (its allergens cannot be told), before its "
        "cleaning at 2026-11-22 10:00 CET — a second person verifies that cleaning before BL-02 "
        "is used for VC500."
    ]


def test_equipment_without_product_contact_needs_no_changeover(plant: Plant) -> None:
    since = EquipmentUse("PB-10", "PB-26-0001", NOW)
    result = plant.changeover("TR-01", context=plant.fs200, last_use=since)
    assert result.evidence[0].facts["changeover"].startswith("not cleaned between products")


# --- 7. People -------------------------------------------------------------------------------


def test_an_operator_whose_training_expired_cannot_perform_the_step(plant: Plant) -> None:
    assert fields(plant.performer("otto", "20")) == [
        ("Otto Lindqvist's training for VC500 expired on 2026-10-18.", "performer")
    ]


def test_a_person_without_the_role_or_training_is_refused_for_both(plant: Plant) -> None:
    assert fields(plant.performer("walt", "20")) == [
        ("Step 20 needs the Operator role; Walter Brandt does not have it.", "performer"),
        ("Walter Brandt has no training record for VC500 (Vitamin C 500 mg tablets: master "
         "batch record).", "performer"),
    ]  # fmt: skip


def test_a_trained_operator_passes_on_their_training_record(plant: Plant) -> None:
    olivia = plant.person("olivia")
    states = load_training(plant.session, user=olivia, steps=plant.vc500.steps, clock=CLOCK)
    record = training_for(plant.vc500.step("20"), states).latest  # type: ignore[union-attr]
    assert plant.performer("olivia", "20").evidence == [
        Evidence(
            "performer",
            {
                "performer": "Olivia Okafor",
                "username": "olivia",
                "role": "Operator",
                "step": "20",
                "training_record": str(record.id),  # type: ignore[union-attr]
                "curriculum": "VC500",
                "trained_on": (TODAY - timedelta(days=60)).isoformat(),
                "training_expires": (TODAY + timedelta(days=305)).isoformat(),
            },
        )
    ]
    sop = plant.performer("olivia", "10").evidence[0].facts  # line clearance: SOP-PR-014 rev 5
    assert (sop["curriculum"], sop["curriculum_revision"]) == ("SOP-PR-014", "5")


def test_the_verifier_is_not_the_performer(plant: Plant) -> None:
    step = plant.vc500.step("20")
    olivia, omar = plant.person("olivia"), plant.person("omar")
    performed = {olivia.id: olivia.full_name}

    def verify(person: User) -> GateResult:
        states = load_training(plant.session, user=person, steps=[step], clock=CLOCK)
        return check_verifier(person, step, training_for(step, states), performed_by=performed)  # type: ignore[arg-type]

    assert fields(verify(olivia)) == [
        ("Olivia Okafor performed step 20; a second person verifies it — hand the device to "
         "another trained operator.", "verifier"),
    ]  # fmt: skip
    passed = verify(omar)
    assert passed.allowed
    assert passed.evidence[0].facts["performed_by"] == "Olivia Okafor"
    assert passed.evidence[0].facts["verifier"] == "Omar Haddad"
    assert [v.code for v in verify(plant.person("otto")).violations] == ["training.expired"]


def test_the_releaser_did_not_work_on_the_batch(plant: Plant) -> None:
    quinn = plant.person("quinn")
    fai, assembly = plant.fs200.step("30"), plant.fs200.step("20")
    assert fields(check_releaser(quinn, batch_no=FS200, worked=[(quinn.id, assembly)])) == [  # type: ignore[list-item]
        (f"Quinn Adeyemi worked on step 20 of batch {FS200}; a QA person who did not work on "
         "it releases the batch.", "releaser"),
    ]  # fmt: skip
    # Signing the first-article inspection is QA's own hold point, not work on the batch.
    signed_fai = check_releaser(quinn, batch_no=FS200, worked=[(quinn.id, fai)])  # type: ignore[list-item]
    assert signed_fai.evidence == [
        Evidence("releaser", {"releaser": "Quinn Adeyemi", "batch": FS200})
    ]


# --- 8. First-article hold -------------------------------------------------------------------


def test_units_after_the_first_wait_for_the_signed_first_article(plant: Plant) -> None:
    fai = plant.fs200.step("30")
    assert fields(check_fai_hold(unit=2, fai_step=fai, fai=None, clock=CLOCK, units=10)) == [
        ("Unit 2 waits for the first-article inspection: QA signs step 30 “First-article "
         "inspection (FAI)” on unit 1 before units 2-10 continue.", "unit"),
    ]  # fmt: skip
    assert check_fai_hold(unit=1, fai_step=fai, fai=None, clock=CLOCK).allowed
    signed = SignedBy("Quinn Adeyemi", NOW, 77, plant.person("quinn").id)
    assert check_fai_hold(unit=2, fai_step=fai, fai=signed, clock=CLOCK).evidence == [
        Evidence(
            "first_article",
            {
                "unit": "2",
                "fai_step": "30",
                "fai_signed_by": "Quinn Adeyemi",
                "fai_signed_at": "2026-11-22T10:00+01:00",
                "fai_signature": "77",
            },
        )
    ]


# --- All at once, and the loaders' queries ---------------------------------------------------


def test_every_gate_at_once_returns_every_violation(plant: Plant) -> None:
    _, machine = plant.equipment("BL-01", "20")
    result = GateResult.all(
        check_sequence(plant.vc500.steps, plant.vc500.step("20"), done=set()),
        plant.lot("ASC-2409-02"),
        machine,
        plant.performer("otto", "20"),
    )
    assert [v.code for v in result.violations] == [
        "sequence.open", "lot.expired", "equipment.kind", "calibration.overdue", "training.expired",
    ]  # fmt: skip
    assert result.evidence == []


CountStatements = Callable[[], AbstractContextManager[Counted]]


def test_the_loaders_read_a_fixed_number_of_queries_however_long_the_history(
    plant: Plant, count_statements: CountStatements
) -> None:
    session = plant.session
    olivia, ada = plant.person("olivia"), plant.person("ada")
    batch = plant.vc500.batch

    def measure() -> list[int]:
        found = []
        for load in (
            lambda: load_batch_context(session, batch),
            lambda: load_lot(session, "ASC-2611-07"),
            lambda: load_equipment(session, "BL-02", last_use=EquipmentUse("FS-200", FS200, NOW)),
            lambda: load_training(session, user=olivia, steps=plant.vc500.steps, clock=CLOCK),
        ):
            with count_statements() as counted:
                load()
            found.append(counted.n)
        return found

    before = measure()
    bl02 = load_equipment(session, "BL-02").equipment
    for day in range(1, 13):
        equipment.record_calibration(
            session, actor=ada, equipment_id=bl02.id, certificate=f"CAL-{day}",
            performed_on=TODAY - timedelta(days=day), due_on=TODAY + timedelta(days=day),
            clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
        equipment.record_cleaning(
            session, actor=olivia, equipment_id=bl02.id, last_product="VC500",
            cleaned_at=NOW - timedelta(hours=day), clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
    for days in range(1, 6):
        training.record_training(
            session, actor=ada, user_id=olivia.id, curriculum_code="VC500",
            trained_on=TODAY - timedelta(days=days), reason="Refresher", clock=CLOCK,
        )  # type: ignore[arg-type]  # fmt: skip
    batches.create_batch(
        session, actor=plant.person("sam"), new=BatchIn("VC500", "VC500-26-0043", "50000"),
        clock=CLOCK,
    )  # fmt: skip
    after = measure()
    assert after == before
    assert before == [3, 5, 6, 3]
