"""Every field of every POST route, walked with nonsense: never a 500, and a refusal stores nothing.

FORMS lists a valid base form for every POST rule of the app (a test fails when a rule is
missing, so a new route cannot skip the walk). For each route, each field of its base form is
replaced in turn by each value of NONSENSE; the answer must be below 500, a 4xx must leave the
governed tables as they were, and a right-to-left override must never reach the audit trail.
Each submission runs in a savepoint rolled back after it, so every one starts from the same
demo plant.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text
from sqlmodel import Session, col, select

from app.db import make_engine
from app.models import (
    BomLine,
    Document,
    DocumentRevision,
    Equipment,
    Lot,
    Material,
    Party,
    Recipe,
    RecipeRevision,
    RecipeStep,
    RevisionStatus,
    Shipment,
    ShipmentLine,
    SpecTest,
    User,
)
from app.services.accounts import auth
from app.services.accounts.users import NewUser, create_user
from app.services.demo import seed_demo
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.masterdata import documents, materials
from app.services.masterdata.materials import MaterialIn
from app.services.mbr import revisions
from app.services.quality import qc
from app.services.warehouse import receipt, shipping
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK
from tests.conftest import PASSWORD, SYSTEM
from tests.routes.conftest import Browser, csrf_token

NONSENSE = [
    "9" * 400,
    "1e309",
    "-1",
    "١٢",
    "\u202eevil",
    "x" * 5000,
    "2147483648",
    "9999-12-31",
    "",
]
ALL_ROLES = ("admin", "qa", "supervisor", "warehouse", "operator")
# What a refusal must leave untouched: the trail, and the records people act on.
GOVERNED = [
    "audit_event",
    "lot",
    "inventory_movement",
    "batch",
    "excess_issue_approval",
    "material",
    "material_supplier",
    "party",
    "equipment",
    "calibration_event",
    "cleaning_event",
    "recipe",
    "recipe_revision",
    "recipe_step",
    "step_limit",
    "bom_line",
    "shipment",
    "shipment_line",
    "user_account",
    "training_record",
    "curriculum",
    "document",
    "document_revision",
    "device",
    "submission",
    "spec_test",
    "lot_sample",
    "qc_result",
    "certificate_of_analysis",
    "lot_correction",
    "stock_adjustment",
]
# A refusal itself is audited (entity "request": who tried what, and the answer); every other
# audit event counts as something written.
_COUNTED = {"audit_event": "audit_event WHERE entity_type <> 'request'"}
COUNT_ALL = text(
    "SELECT " + ", ".join(f"(SELECT count(*) FROM {_COUNTED.get(t, t)})" for t in GOVERNED)
)
NEWEST_AUDIT = text("SELECT * FROM audit_event WHERE id > :last")
LAST_AUDIT = text("SELECT coalesce(max(id), 0) FROM audit_event")


@dataclass
class Case:
    """A valid submission of one POST rule: its URL and base form."""

    path: str
    form: dict[str, Any] = field(default_factory=dict)
    as_json: bool = False  # the browser sends a JSON body (passkey ceremonies)
    # A refusal that keeps evidence (failed sign-ins and signings, their counters and trail).
    keeps_refusals: bool = False
    file_fields: tuple[str, ...] = ()


@dataclass
class Plant:
    """The demo plant the forms refer to, with a draft revision, a draft and an in-review
    document revision, and an open shipment."""

    session: Session
    user: User
    other: User

    def id_of(self, model: type[Any], **where: Any) -> int:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return self.session.exec(query).first().id  # type: ignore[union-attr,no-any-return]

    @property
    def draft(self) -> RecipeRevision:
        return self.session.exec(
            select(RecipeRevision).where(RecipeRevision.status == RevisionStatus.DRAFT.value)
        ).one()

    @property
    def step(self) -> RecipeStep:
        return self.session.exec(
            select(RecipeStep)
            .where(RecipeStep.revision_id == self.draft.id)
            .order_by(col(RecipeStep.position))
        ).first()  # type: ignore[return-value]

    @property
    def bom_line(self) -> BomLine:
        return self.session.exec(
            select(BomLine).where(BomLine.revision_id == self.draft.id)
        ).first()  # type: ignore[return-value]

    def document_revision(self, status: str) -> int:
        """The one document revision in `status` (a draft of SOP-QA-001, SOP-WALK in review)."""
        return (
            self.session.exec(select(DocumentRevision).where(DocumentRevision.status == status))
            .one()
            .id
        )  # type: ignore[return-value]

    @property
    def qc_lot(self) -> Lot:
        """A lot in quarantine, received by Walter and sampled (by the walker)."""
        return self.session.exec(select(Lot).where(Lot.supplier_lot == "S-QC")).one()

    def spec_test(self, name: str) -> int:
        return self.id_of(SpecTest, material_id=self.qc_lot.material_id, name=name)

    @property
    def shipment(self) -> Shipment:
        return self.session.exec(select(Shipment)).one()

    @property
    def shipment_line(self) -> ShipmentLine:
        return self.session.exec(select(ShipmentLine)).first()  # type: ignore[return-value]


MATERIAL = {
    "code": "RM-NEW", "name": "New material", "kind": "raw", "unit": "kg", "gtin": "",
    "allergens": "", "tracking": "lot", "shelf_life_days": "365",
    "on_traceability_list": "1", "ftl_category": "herbs", "pack_size": "1 kg",
    "pack_style": "clamshell",
}  # fmt: skip
PARTY = {
    "code": "SUP-NEW", "kind": "supplier", "business_name": "New Supplier Ltd",
    "phone": "+49 30 1234567", "street": "1 Main Street", "city": "Berlin", "region": "",
    "postal_code": "10115", "country": "DE", "fda_registration": "", "gln": "",
    "fei": "3012345678", "url": "https://example.com/site", "lot_is_tlc": "1",
}  # fmt: skip
EQUIPMENT = {
    "code": "BL-09", "name": "Blender 9", "kind": "blender", "needs_cleaning": "on",
    "clean_hold_hours": "72",
}  # fmt: skip
HEADER = {
    "batch_size": "100000", "batch_unit": "tablets", "drawing_revision": "",
    "sop_codes": "SOP-QA-001", "change_note": "A change.",
}  # fmt: skip
STEP = {
    "code": "90", "kind": "record_values", "title": "Check weight", "instruction": "Weigh ten.",
    "equipment_kind": "", "training_code": "", "limit1_name": "Weight",
    "limit1_unit": "mg", "limit1_low": "490", "limit1_high": "510",
}  # fmt: skip
BOM = {
    "material": "RM-ASC", "quantity": "5", "unit": "kg", "tolerance": "2",
    "tolerance_kind": "percent", "step": "",
}  # fmt: skip
MATERIALS_CSV = b"code,name,kind,unit\nRM-CSV,Csv material,raw,kg\n"
EQUIPMENT_CSV = b"code,name,kind\nBL-CSV,Csv blender,blender\n"
FORMS: dict[str, Callable[[Plant], Case]] = {
    # accounts
    "/login": lambda p: Case(
        "/login", {"username": p.user.username, "password": PASSWORD, "next": "/"},
        keeps_refusals=True,
    ),
    "/logout": lambda p: Case("/logout"),
    "/login/passkey/options": lambda p: Case("/login/passkey/options"),
    "/login/passkey/finish": lambda p: Case(
        "/login/passkey/finish", {"challenge_id": 1, "credential": {"id": "x"}}, as_json=True,
        keeps_refusals=True,
    ),
    "/account/passkeys/<int:passkey_id>/revoke": lambda p: Case(
        "/account/passkeys/1/revoke", {"reason": "Lost phone", "back": "/account"}
    ),
    "/enrol/<token>/options": lambda p: Case("/enrol/not-a-token/options"),
    "/enrol/<token>/finish": lambda p: Case(
        "/enrol/not-a-token/finish",
        {"challenge_id": 1, "credential": {"id": "x"}, "name": "My phone"},
        as_json=True,
    ),
    "/users/": lambda p: Case(
        "/users/", {"username": "newbie", "full_name": "New Person", "roles": "operator",
                    "password": "a-long-enough-password"},
    ),
    "/users/<int:user_id>/<what>": lambda p: Case(
        f"/users/{p.other.id}/roles", {"roles": "warehouse", "reason": "Moved to stores"}
    ),
    "/users/<int:user_id>/identity-check": lambda p: Case(
        f"/users/{p.other.id}/identity-check",
        {"document_type": "Passport", "document_reference": "P-123"},
    ),
    "/users/<int:user_id>/enrolment-link": lambda p: Case(f"/users/{p.other.id}/enrolment-link"),
    "/users/<int:user_id>/sessions/end": lambda p: Case(f"/users/{p.other.id}/sessions/end"),
    "/users/<int:user_id>/password-signing": lambda p: Case(
        f"/users/{p.other.id}/password-signing", {"hours": "8", "reason": "Phone lost"}
    ),
    "/users/<int:user_id>/unlock-signing": lambda p: Case(
        f"/users/{p.other.id}/unlock-signing", {"reason": "Forgot the password"}
    ),
    "/alerts/<int:alert_id>/acknowledge": lambda p: Case("/alerts/1/acknowledge"),
    # e-signatures
    "/devices/": lambda p: Case("/devices/", {"name": "Line 1 tablet", "shared": "1"}),
    "/sign/start": lambda p: Case(
        "/sign/start",
        {"record_type": "lot", "record_id": str(p.id_of(Lot, lot_code="ASC-2409-02")),
         "meaning": "held"},
    ),
    "/sign/<int:challenge_id>": lambda p: Case(
        "/sign/1",
        {"record_type": "lot", "record_id": str(p.id_of(Lot, lot_code="ASC-2409-02")),
         "meaning": "held", "method": "password", "username": p.user.username,
         "password": PASSWORD, "reason_code": "", "reason_text": "Suspect"},
        keeps_refusals=True,
    ),
    # master data
    "/materials/": lambda p: Case("/materials/", dict(MATERIAL)),
    "/materials/<int:material_id>/edit": lambda p: Case(
        f"/materials/{p.id_of(Material, code='RM-MCC')}/edit",
        {**MATERIAL, "code": "RM-MCC", "reason": "Shelf life per supplier"},
    ),
    "/materials/<int:material_id>/active": lambda p: Case(
        f"/materials/{p.id_of(Material, code='RM-MCC')}/active",
        {"active": "0", "reason": "Discontinued"},
    ),
    "/materials/<int:material_id>/suppliers": lambda p: Case(
        f"/materials/{p.id_of(Material, code='RM-MCC')}/suppliers", {"party": "SUP-LUBRICHEM"}
    ),
    "/materials/<int:material_id>/spec": lambda p: Case(
        f"/materials/{p.id_of(Material, code='RM-MCC')}/spec",
        {"name": "Assay", "method": "HPLC", "kind": "range", "low": "97", "high": "102",
         "unit": "%", "expected": "", "identity": "", "coa_allowed": "1"},
    ),
    "/materials/<int:material_id>/spec/<spec_test_id>/retire": lambda p: Case(
        f"/materials/{p.id_of(Material, code='RM-ASC')}/spec/{p.spec_test('Assay')}/retire",
        {"reason": "Monograph changed"},
    ),
    "/materials/<int:material_id>/suppliers/qualify": lambda p: Case(
        f"/materials/{p.id_of(Material, code='RM-PLAIN')}/suppliers/qualify",
        {"party": "SUP-CELLUTEC", "reason": "Audit 2026-11"},
    ),
    "/lots/<lot_code>/correct": lambda p: Case(
        f"/lots/{p.qc_lot.lot_code}/correct",
        {"field": "expiry", "value": "2028-06-30", "reason": "Label misread"},
    ),
    "/lots/<lot_code>/count": lambda p: Case(
        "/lots/MCC-2610-01/count", {"counted": "59.5", "reason": "Annual count"}
    ),
    "/lots/<lot_code>/qc/sample": lambda p: Case(
        f"/lots/{p.qc_lot.lot_code}/qc/sample", {"containers": "2", "note": "Top and bottom"}
    ),
    "/lots/<lot_code>/qc/result": lambda p: Case(
        f"/lots/{p.qc_lot.lot_code}/qc/result",
        {"spec_test_id": str(p.spec_test("Identity")), "value": "conforms", "source": "lab",
         "certificate_id": "", "reason": ""},
    ),
    "/lots/<lot_code>/qc/certificate": lambda p: Case(
        f"/lots/{p.qc_lot.lot_code}/qc/certificate", {"certificate": b"%PDF-1.4 certificate"},
        file_fields=("certificate",),
    ),
    "/materials/import": lambda p: Case(
        "/materials/import", {"mode": "import", "file": MATERIALS_CSV}, file_fields=("file",)
    ),
    "/parties/": lambda p: Case("/parties/", dict(PARTY)),
    "/parties/<int:party_id>/edit": lambda p: Case(
        f"/parties/{p.id_of(Party, code='SUP-CELLUTEC')}/edit",
        {**PARTY, "code": "SUP-CELLUTEC", "reason": "Moved"},
    ),
    "/parties/<int:party_id>/active": lambda p: Case(
        f"/parties/{p.id_of(Party, code='SUP-SENSIQ')}/active",
        {"active": "0", "reason": "No longer used"},
    ),
    "/equipment/": lambda p: Case("/equipment/", dict(EQUIPMENT)),
    "/equipment/<int:equipment_id>/edit": lambda p: Case(
        f"/equipment/{p.id_of(Equipment, code='BL-02')}/edit",
        {**EQUIPMENT, "code": "BL-02", "reason": "Hold time validated"},
    ),
    "/equipment/<int:equipment_id>/calibrations": lambda p: Case(
        f"/equipment/{p.id_of(Equipment, code='SC-01')}/calibrations",
        {"certificate": "CAL-2026-77", "performed_on": "2026-11-20", "due_on": "2027-11-20",
         "note": "Within tolerance"},
    ),
    "/equipment/<int:equipment_id>/cleanings": lambda p: Case(
        f"/equipment/{p.id_of(Equipment, code='BL-01')}/cleanings",
        {"cleaned_at": "2026-11-22T08:30", "last_product": "VC500", "note": "Wet clean"},
    ),
    "/equipment/<int:equipment_id>/service": lambda p: Case(
        f"/equipment/{p.id_of(Equipment, code='PR-01')}/service",
        {"in_service": "0", "reason": "Punch damaged"},
    ),
    "/equipment/import": lambda p: Case(
        "/equipment/import", {"mode": "import", "file": EQUIPMENT_CSV}, file_fields=("file",)
    ),
    "/documents/": lambda p: Case(
        "/documents/",
        {"code": "SOP-QA-009", "title": "Archiving records", "revision": "1",
         "body": "Archive every record for the retention period."},
    ),
    "/documents/<int:document_id>/revisions": lambda p: Case(
        f"/documents/{p.id_of(Document, code='SOP-PR-014')}/revisions", {"revision": ""}
    ),
    "/documents/revisions/<int:revision_id>/text": lambda p: Case(
        f"/documents/revisions/{p.document_revision('draft')}/text",
        {"body": "Record every entry at the time.", "change_note": "Clarified"},
    ),
    "/documents/revisions/<int:revision_id>/submit": lambda p: Case(
        f"/documents/revisions/{p.document_revision('draft')}/submit"
    ),
    "/documents/revisions/<int:revision_id>/return": lambda p: Case(
        f"/documents/revisions/{p.document_revision('in_review')}/return",
        {"reason": "Missing the retention period"},
    ),
    "/training/curricula": lambda p: Case(
        "/training/curricula",
        {"code": "SOP-PR-020", "title": "Tablet press set-up", "kind": "sop",
         "validity_days": "365"},
    ),
    "/training/records": lambda p: Case(
        "/training/records",
        {"user_id": str(p.other.id), "curriculum": "SOP-QA-001", "trained_on": "2026-11-20",
         "expires_on": "", "note": "Read and understood", "reason": ""},
    ),
    # master batch records
    "/recipes/": lambda p: Case(
        "/recipes/", {"code": "VC250", "name": "Vitamin C 250", "product": "", **HEADER}
    ),
    "/recipes/<int:recipe_id>/revisions": lambda p: Case(
        f"/recipes/{p.id_of(Recipe, code='FS-200')}/revisions"
    ),
    "/recipes/revisions/<int:revision_id>/header": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/header", dict(HEADER)
    ),
    "/recipes/revisions/<int:revision_id>/steps": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/steps", dict(STEP)
    ),
    "/recipes/revisions/<int:revision_id>/steps/<int:step_id>": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/steps/{p.step.id}",
        {**STEP, "code": p.step.code, "kind": p.step.kind},
    ),
    "/recipes/revisions/<int:revision_id>/steps/<int:step_id>/move": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/steps/{p.step.id}/move", {"direction": "down"}
    ),
    "/recipes/revisions/<int:revision_id>/steps/<int:step_id>/remove": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/steps/{p.step.id}/remove"
    ),
    "/recipes/revisions/<int:revision_id>/bom": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/bom", {**BOM, "material": "RM-MGS"}
    ),
    "/recipes/revisions/<int:revision_id>/bom/<int:line_id>": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/bom/{p.bom_line.id}", dict(BOM)
    ),
    "/recipes/revisions/<int:revision_id>/bom/<int:line_id>/remove": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/bom/{p.bom_line.id}/remove"
    ),
    "/recipes/revisions/<int:revision_id>/submit": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/submit"
    ),
    "/recipes/revisions/<int:revision_id>/return": lambda p: Case(
        f"/recipes/revisions/{p.draft.id}/return", {"reason": "Blend time unclear"}
    ),
    # batches
    "/batches/": lambda p: Case(
        "/batches/",
        {"recipe": "VC500", "batch_no": "VC500-26-0099", "planned": "100000",
         "customer_po": "PO-4711", "due_date": "2026-12-15"},
    ),
    "/batches/check": lambda p: Case(
        "/batches/check",
        {"recipe": "VC500", "batch_no": "VC500-26-0099", "planned": "100000",
         "customer_po": "PO-4711", "due_date": "2026-12-15"},
    ),
    "/batches/<batch_no>/cancel": lambda p: Case(
        "/batches/VC500-26-0001/cancel", {"reason": "Planned twice"}
    ),
    "/batches/<batch_no>/<move>": lambda p: Case(
        "/batches/VC500-26-0001/started", {"reason": "Line ready"}
    ),
    "/batches/<batch_no>/steps/<code>/<what>": lambda p: Case(
        "/batches/VC500-26-0001/steps/10/equipment", {"equipment": "BL-02", "key": "k-eq"}
    ),
    "/batches/<batch_no>/steps/<code>/weight": lambda p: Case(
        "/batches/VC500-26-0001/steps/20/weight",
        {"quantity": "54.60", "unit": "kg", "reason": "Scale offline", "key": "k-weight"},
    ),
    "/batches/<batch_no>/excess-approvals": lambda p: Case(
        "/batches/VC500-26-0001/excess-approvals",
        {"material": "RM-MGS", "quantity": "0.1", "reason": "Spilled at the scale",
         "key": "k-excess"},
    ),
    # warehouse
    "/lots/receive": lambda p: Case(
        "/lots/receive",
        {"material": "RM-ASC", "supplier": "SUP-NORTHBRIDGE", "supplier_lot": "NB-2611-7",
         "quantity": "25", "containers": "1", "expiry": "2028-05-31", "gtin": "",
         "key": "k-receive", "tlc": "NB-2611-7", "tlc_source": "SUP-NORTHBRIDGE",
         "tlc_source_reference": "GLN 4012345000009", "assign_tlc": "",
         "assign_tlc_reason": ""},
    ),
    "/lots/receive/scan": lambda p: Case(
        "/lots/receive/scan", {"scan": "(01)09501101530003(10)NB-7(17)280531"}
    ),
    "/lots/issue": lambda p: Case(
        "/lots/issue",
        {"lot": "MCC-2610-01", "batch_no": "VC500-26-0001", "quantity": "1", "reason": "",
         "key": "k-issue"},
    ),
    "/lots/<lot_code>/return": lambda p: Case(
        "/lots/MCC-2610-01/return",
        {"quantity": "1", "batch_no": "VC500-26-0001", "key": "k-return"},
    ),
    "/lots/output": lambda p: Case(
        "/lots/output",
        {"material": "VC500", "batch_no": "VC500-26-0001", "quantity": "1000",
         "expiry": "2028-11-30", "key": "k-output"},
    ),
    "/lots/<lot_code>/label": lambda p: Case("/lots/ASC-2409-02/label", {"reason": "Torn"}),
    "/shipments/": lambda p: Case(
        "/shipments/", {"customer": "CUST-GREENLEAF", "reference": "PO-99"}
    ),
    "/shipments/<shipment_no>/lines": lambda p: Case(
        f"/shipments/{p.shipment.shipment_no}/lines",
        {"scan": "ASC-2409-02", "quantity": "1", "key": "k-pick"},
    ),
    "/shipments/<shipment_no>/lines/<int:line_id>/remove": lambda p: Case(
        f"/shipments/{p.shipment.shipment_no}/lines/{p.shipment_line.id}/remove",
        {"reason": "Wrong lot"},
    ),
    "/shipments/<shipment_no>/despatch": lambda p: Case(
        f"/shipments/{p.shipment.shipment_no}/despatch", {"key": "k-despatch"}
    ),
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def quick_passwords() -> Iterator[None]:
    """Cheap argon2 parameters in this module: the walk signs in and creates people hundreds
    of times; what is tested here is the input, not the hash's cost."""
    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", quick)
        patch.setattr(auth, "_DUMMY_HASH", quick.hash("batchbook-timing-equaliser"))
        yield


@pytest.fixture(scope="module")
def migrated_engine(
    quick_passwords: None, backend: str, app_database: Callable[[str], str]
) -> Iterator[Engine]:
    """This module's own database: the demo plant, a person with every role and one without,
    batch VC500-26-0001, a draft revision of VC500 and an open shipment with a line, committed
    once (tests roll back)."""
    engine = make_engine(app_database(backend))
    with Session(engine) as session:
        seed_demo(session, actor=SYSTEM, clock=CLOCK)
        walker = create_user(
            session, actor=SYSTEM, new=NewUser("walker", "Walker Tester", ALL_ROLES, PASSWORD),
            clock=CLOCK,
        )  # fmt: skip
        create_user(
            session, actor=SYSTEM, new=NewUser("other", "Other Tester", ("operator",), PASSWORD),
            clock=CLOCK,
        )  # fmt: skip
        batches.create_batch(
            session, actor=walker, new=BatchIn("VC500", "VC500-26-0001", "100000"), clock=CLOCK
        )
        vc500 = session.exec(select(Recipe).where(Recipe.code == "VC500")).one()
        revisions.start_revision(session, actor=walker, recipe_id=vc500.id, clock=CLOCK)  # type: ignore[arg-type]
        sop = session.exec(select(Document).where(Document.code == "SOP-QA-001")).one()
        documents.start_revision(session, actor=walker, document_id=sop.id, clock=CLOCK)  # type: ignore[arg-type]
        in_review = documents.add_document(
            session, actor=walker, code="SOP-WALK", title="Walked", revision="1", body="Text",
            clock=CLOCK,
        )  # fmt: skip
        documents.submit_for_review(session, actor=walker, revision_id=in_review.id, clock=CLOCK)  # type: ignore[arg-type]
        shipment = shipping.start_shipment(
            session, actor=walker, customer_code="CUST-GREENLEAF", reference="PO-1", clock=CLOCK
        )
        quarantined, _ = receipt.receive(
            session, actor=auth.find_user(session, "walt"),  # type: ignore[arg-type]
            new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-QC", "10", date(2028, 5, 31), "2",
                          key="k-qc"),
            clock=CLOCK,
        )  # fmt: skip
        qc.take_sample(session, actor=walker, lot_code=quarantined.lot_code, containers="1",
                       clock=CLOCK)  # fmt: skip
        plain = materials.create_material(
            session, actor=walker, new=MaterialIn("RM-PLAIN", "Plain", "raw", "kg"), clock=CLOCK
        )
        materials.approve_supplier(session, actor=walker, material_id=plain.id,  # type: ignore[arg-type]
                                   party_code="SUP-CELLUTEC", clock=CLOCK)  # fmt: skip
        lot = session.exec(select(Lot).where(Lot.lot_code == "ASC-2409-02")).one()
        session.add(
            ShipmentLine(
                shipment_id=shipment.id,  # type: ignore[arg-type]
                lot_id=lot.id,  # type: ignore[arg-type]
                quantity=Decimal(1),
                unit=lot.unit,
                scanned=lot.lot_code,
                added_at=CLOCK.now(),
            )
        )
        session.commit()
    yield engine
    engine.dispose()


def post_rules(app: Flask) -> set[str]:
    return {r.rule for r in app.url_map.iter_rules() if "POST" in (r.methods or ())}


def test_every_post_rule_has_a_base_form(app: Flask) -> None:
    assert post_rules(app) - set(FORMS) == set(), "add the new POST rules to FORMS"
    assert set(FORMS) - post_rules(app) == set(), "FORMS lists rules the app no longer has"


@pytest.fixture
def plant(browser: Browser, session: Session) -> Plant:
    user = session.exec(select(User).where(User.username == "walker")).one()
    other = session.exec(select(User).where(User.username == "other")).one()
    assert browser.login(user).status_code == 302
    return Plant(session, user, other)


def _token(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    if "csrf_token" not in page:  # signed in: the home page has the form
        return csrf_token(client, "/")
    return csrf_token(client, "/login")


@dataclass
class Walk:
    client: FlaskClient
    connection: Connection
    token: str
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Every submission is rolled back: each starts from these counts.
        self.before = (
            self.connection.execute(COUNT_ALL).one(),
            self.connection.execute(LAST_AUDIT).scalar_one(),
        )

    def submit(self, case: Case, form: dict[str, Any], what: str, value: str = "") -> None:
        savepoint = self.connection.begin_nested()
        try:
            before, last = self.before
            status, error = self._post(case, form)
            if status >= 500:
                self.problems.append(f"{what}: {status} {error}")
                return
            if 400 <= status < 500 and not case.keeps_refusals:
                after = self.connection.execute(COUNT_ALL).one()
                if after != before:
                    changed = [t for t, a, b in zip(GOVERNED, after, before, strict=True) if a != b]
                    self.problems.append(f"{what}: {status} but wrote to {changed}")
            if status < 400 and "\u202e" in value:
                rows = self.connection.execute(NEWEST_AUDIT, {"last": last})
                trail = " ".join(str(cell) for row in rows for cell in row)
                if "\u202e" in trail or "\\u202e" in trail.lower():
                    self.problems.append(f"{what}: {status} and the override reached the trail")
        finally:
            if savepoint.is_active:
                savepoint.rollback()

    def _post(self, case: Case, form: dict[str, Any]) -> tuple[int, str]:
        headers = {"HX-Request": "true", "X-CSRFToken": self.token}
        try:
            if case.as_json:
                response = self.client.post(case.path, json=form, headers=headers)
            else:
                data = {
                    k: (io.BytesIO(v), "upload.csv")
                    if k in case.file_fields and isinstance(v, bytes)
                    else v
                    for k, v in form.items()
                }
                response = self.client.post(case.path, data=data, headers=headers)
            if case.path in ("/login", "/logout"):  # a new session, a new token
                self.token = _token(self.client)
        except Exception as exc:  # noqa: BLE001 - TESTING propagates what a user sees as a 500
            return 500, repr(exc)[:300]
        return response.status_code, response.get_data(as_text=True)[:200]


@pytest.mark.parametrize("rule", sorted(FORMS))
def test_every_field_refuses_nonsense_without_a_server_error(
    rule: str, plant: Plant, client: FlaskClient, connection: Connection
) -> None:
    case = FORMS[rule](plant)
    walk = Walk(client, connection, csrf_token(client, "/"))
    walk.submit(case, case.form, f"{rule} (base form)")
    for name in case.form:
        for value in NONSENSE:
            walk.submit(case, {**case.form, name: value}, f"{rule} {name}={value[:12]!r}", value)
    assert walk.problems == []
