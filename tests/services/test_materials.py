"""Materials and parties: validation with every message at once, audit with before/after and a
reason, deactivation instead of deletion, approved suppliers, who may change master data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from app.models import Material, Party, User
from app.services.core.errors import PermissionDenied, Rejected
from app.services.masterdata import materials, parties
from app.services.masterdata.materials import MaterialIn
from app.services.masterdata.parties import PartyIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, audit_actions, behind_the_apps_back, count

ASC = MaterialIn(
    "rm-asc", "Ascorbic  acid", "raw", "kg", "", "Sulphites, sulphites ", "lot", "1095"
)
SUPPLIER = PartyIn("SUP-NB", "supplier", "Northbridge Ingredients GmbH", "+49 40 1",
                   "Hafenstraße 41", "Hamburg", "", "20457", "de")  # fmt: skip


def test_create_normalises_and_audits(session: Session) -> None:
    material = materials.create_material(session, actor=SYSTEM, new=ASC, clock=CLOCK)

    assert (material.code, material.name, material.allergens) == (
        "RM-ASC",
        "Ascorbic acid",
        "sulphites",
    )
    assert material.shelf_life_days == 1095
    assert audit_actions(session, entity_type="material") == ["material.created"]


@pytest.mark.parametrize(
    ("gtin", "stored"),
    [("96385074", "00000096385074"), ("9501101020917", "09501101020917"), (" ", None)],
)
def test_gtins_are_checked_and_kept_as_14_digits(
    session: Session, gtin: str, stored: str | None
) -> None:
    new = MaterialIn("VC500", "Vitamin C", "finished", "tablets", gtin=gtin)
    assert materials.create_material(session, actor=SYSTEM, new=new, clock=CLOCK).gtin == stored


def test_every_bad_field_is_named_at_once_and_nothing_is_written(session: Session) -> None:
    materials.create_material(session, actor=SYSTEM, new=ASC, clock=CLOCK)
    before = count(session, Material)

    with pytest.raises(Rejected) as refused:
        materials.create_material(
            session,
            actor=SYSTEM,
            new=MaterialIn("RM-ASC", " ", "gas", "", "09501101020918", "", "batch", "-3"),
            clock=CLOCK,
        )

    fields = {v.field: v.message for v in refused.value.violations}
    assert fields["code"] == "There is already a material RM-ASC."
    assert fields["name"] == "Enter the material's name."
    assert fields["kind"].startswith("Kind must be one of raw,")
    assert fields["unit"].startswith("Enter the unit")
    assert "check digit" in fields["gtin"]
    assert fields["tracking"] == "Choose lot-controlled or serial-controlled."
    assert "whole number from 1 to" in fields["shelf_life_days"]
    assert count(session, Material) == before
    assert audit_actions(session, entity_type="material") == ["material.created"]


def test_edit_needs_a_reason_and_keeps_the_old_values_in_the_trail(session: Session) -> None:
    material = materials.create_material(session, actor=SYSTEM, new=ASC, clock=CLOCK)
    changed = MaterialIn("RM-ASC", "Ascorbic acid (fine)", "raw", "kg", shelf_life_days="730")

    with pytest.raises(Rejected, match="Give a reason"):
        materials.update_material(
            session, actor=SYSTEM, material_id=material.id, new=changed, reason="", clock=CLOCK
        )
    materials.update_material(
        session,
        actor=SYSTEM,
        material_id=material.id,
        new=changed,
        reason="Supplier spec 4.2",
        clock=CLOCK,
    )

    event = session.exec(
        text("SELECT before, after, reason FROM audit_event WHERE action = 'material.changed'")
    ).one()
    assert '"shelf_life_days":1095' in event[0]
    assert '"shelf_life_days":730' in event[1]
    assert event[2] == "Supplier spec 4.2"


def test_a_material_code_never_changes(session: Session) -> None:
    material = materials.create_material(session, actor=SYSTEM, new=ASC, clock=CLOCK)
    renamed = MaterialIn("RM-ASC2", "Ascorbic acid", "raw", "kg")
    with pytest.raises(Rejected) as refused:
        materials.update_material(
            session,
            actor=SYSTEM,
            material_id=material.id,
            new=renamed,
            reason="ERP renumbering",
            clock=CLOCK,
        )
    assert refused.value.for_field("code") == [
        "The code RM-ASC cannot be changed; records and labels name it. "
        "Create a material with the new code and deactivate RM-ASC instead."
    ]
    assert material.code == "RM-ASC"
    assert audit_actions(session, entity_type="material") == ["material.created"]


def test_deactivate_instead_of_delete(session: Session) -> None:
    material = materials.create_material(session, actor=SYSTEM, new=ASC, clock=CLOCK)
    materials.set_active(
        session,
        actor=SYSTEM,
        material_id=material.id,
        active=False,
        reason="Discontinued",
        clock=CLOCK,
    )
    with pytest.raises(Rejected, match="RM-ASC is already deactivated"):
        materials.set_active(
            session,
            actor=SYSTEM,
            material_id=material.id,
            active=False,
            reason="again",
            clock=CLOCK,
        )
    assert not material.active
    assert audit_actions(session, action="material.deactivated") == ["material.deactivated"]
    with (
        behind_the_apps_back(session),
        pytest.raises(DatabaseError, match="append-only"),
        session.begin_nested(),
    ):
        session.execute(text("DELETE FROM material"))


def test_search_by_code_name_or_gtin(session: Session) -> None:
    materials.create_material(session, actor=SYSTEM, new=ASC, clock=CLOCK)
    materials.create_material(
        session,
        actor=SYSTEM,
        new=MaterialIn("VC500", "Vitamin C tablets", "finished", "tablets", gtin="09501101020917"),
        clock=CLOCK,
    )
    assert [m.code for m in materials.list_materials(session, search="asc")] == ["RM-ASC"]
    assert [m.code for m in materials.list_materials(session, search="VITAMIN")] == ["VC500"]
    assert [m.code for m in materials.list_materials(session, search="0110102")] == ["VC500"]


def test_operators_cannot_change_master_data(
    session: Session, make_user: Callable[..., User]
) -> None:
    operator = make_user("operator")
    with pytest.raises(PermissionDenied, match="Only Admin or QA can change master data"):
        materials.create_material(session, actor=operator, new=ASC, clock=CLOCK)
    with pytest.raises(PermissionDenied):
        parties.create_party(session, actor=operator, new=SUPPLIER, clock=CLOCK)
    assert count(session, Material) == 0


def test_party_location_is_validated_for_fsma(session: Session) -> None:
    with pytest.raises(Rejected) as refused:
        parties.create_party(
            session,
            actor=SYSTEM,
            new=PartyIn(
                "SITE", "site", "Us", "", "", "", "", "", "Germany", "123", "0614141000006"
            ),
            clock=CLOCK,
        )
    fields = {v.field: v.message for v in refused.value.violations}
    assert set(fields) >= {"phone", "street", "city", "postal_code", "country", "gln"}
    assert "two-letter ISO code" in fields["country"]
    assert "11 digits" in fields["fda_registration"]
    assert "check digit" in fields["gln"]
    assert count(session, Party) == 0

    party = parties.create_party(session, actor=SYSTEM, new=SUPPLIER, clock=CLOCK)
    assert party.country == "DE"
    assert audit_actions(session, entity_type="party") == ["party.created"]


def test_approved_suppliers_are_suppliers_and_listed_once(session: Session) -> None:
    material = materials.create_material(session, actor=SYSTEM, new=ASC, clock=CLOCK)
    parties.create_party(session, actor=SYSTEM, new=SUPPLIER, clock=CLOCK)
    parties.create_party(
        session,
        actor=SYSTEM,
        new=PartyIn("CUST-GL", "customer", "Greenleaf Pharmacy", "+1 503", "1420 NW Lovejoy St",
                    "Portland", "OR", "97209", "US"), clock=CLOCK,
    )  # fmt: skip

    materials.approve_supplier(
        session, actor=SYSTEM, material_id=material.id, party_code="sup-nb", clock=CLOCK
    )
    with pytest.raises(Rejected, match="already approved"):
        materials.approve_supplier(
            session, actor=SYSTEM, material_id=material.id, party_code="SUP-NB", clock=CLOCK
        )
    with pytest.raises(Rejected, match="Greenleaf Pharmacy is not a supplier"):
        materials.approve_supplier(
            session, actor=SYSTEM, material_id=material.id, party_code="CUST-GL", clock=CLOCK
        )

    assert [p.code for p in materials.suppliers_of(session, material.id)] == ["SUP-NB"]
    assert "material.supplier_approved" in audit_actions(session, entity_type="material")
