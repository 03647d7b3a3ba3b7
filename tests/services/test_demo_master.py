"""The demo master data on its own: what SCENARIOS.md needs, who is named as the cleaner, and
seeding twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from app.models import AuditEvent, CleaningEvent, Material, User
from app.services.core.errors import PermissionDenied
from app.services.demo.master import seed_master_data
from app.services.masterdata import equipment, materials, parties
from tests.clock import at
from tests.conftest import SYSTEM, count

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_seed_has_the_scenario_materials_parties_and_suppliers(session: Session) -> None:
    created = seed_master_data(session, actor=SYSTEM, clock=at(NOW))

    assert [m.code for m in materials.list_materials(session)] == sorted(
        ["RM-ASC", "RM-MCC", "RM-MGS", "VC500", "PCBA-200", "HSG-200", "SE-10", "FW-200", "FS-200"]
    )
    asc = materials.get_by_code(session, "RM-ASC")
    assert asc is not None
    assert (asc.kind, asc.unit, asc.tracking, asc.shelf_life_days) == ("raw", "kg", "lot", 1095)
    assert [p.business_name for p in materials.suppliers_of(session, asc.id)] == [  # type: ignore[arg-type]
        "Northbridge Ingredients GmbH"
    ]
    vc500 = materials.get_by_code(session, "VC500")
    assert vc500 is not None and vc500.unit == "tablets" and vc500.gtin
    assert materials.get_by_gtin(session, vc500.gtin) is vc500  # a valid GTIN, found by scan
    for code in ("PCBA-200", "FS-200"):
        assert materials.get_by_code(session, code).tracking == "serial"  # type: ignore[union-attr]
    for code in ("RM-MCC", "RM-MGS", "PCBA-200", "HSG-200", "SE-10", "FW-200"):
        material = materials.get_by_code(session, code)
        assert material is not None
        assert [p.kind for p in materials.suppliers_of(session, material.id)] == ["supplier"]  # type: ignore[arg-type]

    greenleaf = parties.get_by_code(session, "CUST-GREENLEAF")
    assert greenleaf is not None
    assert (greenleaf.kind, greenleaf.business_name, greenleaf.country) == (
        "customer",
        "Greenleaf Pharmacy",
        "US",
    )
    assert greenleaf.street and greenleaf.city and greenleaf.region and greenleaf.postal_code
    site = parties.get_by_code(session, "SITE-MAIN")
    assert site is not None and site.kind == "site" and site.fda_registration and site.gln
    assert "material RM-ASC" in created and "equipment TR-01" in created


def test_the_system_actor_seeds_calibrations_but_names_no_cleaner(session: Session) -> None:
    seed_master_data(session, actor=SYSTEM, clock=at(NOW))

    assert count(session, CleaningEvent) == 0
    _, bl01 = equipment.status_by_code(session, "BL-01", clock=at(NOW))
    assert bl01.problems == [
        f"Calibration overdue since {(NOW - timedelta(days=30)).date().isoformat()}",
        "Not cleaned yet",
    ]
    _, tr01 = equipment.status_by_code(session, "TR-01", clock=at(NOW))
    assert tr01.usable  # a test rig is not cleaned between products
    assert tr01.calibration_certificate == "CAL-TR01-2026-03"
    assert tr01.calibration_due is not None
    assert 110 <= (tr01.calibration_due - NOW.date()).days <= 130  # about four months


def test_olivia_is_named_as_the_cleaner_when_she_exists(
    session: Session, make_user: Callable[..., User]
) -> None:
    olivia = make_user("operator", username="olivia")
    seed_master_data(session, actor=SYSTEM, clock=at(NOW))

    cleaners = set(session.exec(select(CleaningEvent.cleaned_by_id)))
    assert cleaners == {olivia.id}
    for code in ("BL-02", "SC-01", "PR-01", "TR-01"):
        assert equipment.status_by_code(session, code, clock=at(NOW))[1].usable, code
    _, bl02 = equipment.status_by_code(session, "BL-02", clock=at(NOW))
    assert bl02.last_product == "VC500"
    assert bl02.clean_until is not None and bl02.clean_until > NOW
    _, bl01 = equipment.status_by_code(session, "BL-01", clock=at(NOW))
    assert [p.split(" since")[0] for p in bl01.problems] == ["Calibration overdue"]


def test_without_olivia_the_seeding_admin_is_the_cleaner(
    session: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin")
    seed_master_data(session, actor=admin, clock=at(NOW))
    assert set(session.exec(select(CleaningEvent.cleaned_by_id))) == {admin.id}


def test_seeding_twice_creates_nothing_more(session: Session) -> None:
    assert seed_master_data(session, actor=SYSTEM, clock=at(NOW))
    events = session.exec(select(func.count()).select_from(AuditEvent)).one()

    assert seed_master_data(session, actor=SYSTEM, clock=at(NOW + timedelta(days=1))) == []
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events


def test_an_operator_cannot_seed_master_data(
    session: Session, make_user: Callable[..., User]
) -> None:
    with pytest.raises(PermissionDenied):
        seed_master_data(session, actor=make_user("operator"), clock=at(NOW))
    assert count(session, Material) == 0
