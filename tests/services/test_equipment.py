"""Equipment: calibration and cleaning history that never changes, status derived at the moment
it is asked, out of service with a reason, and what a gate asks by code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from app.models import CalibrationEvent, Equipment, User
from app.services.core.errors import NotFound, PermissionDenied, Rejected
from app.services.masterdata import equipment
from app.services.masterdata.equipment import EquipmentIn
from tests.clock import CLOCK, at
from tests.conftest import SYSTEM, audit_actions, behind_the_apps_back, count
from tests.signing import NOW


@pytest.fixture
def blender(session: Session) -> Equipment:
    return equipment.create_equipment(
        session,
        actor=SYSTEM,
        new=EquipmentIn("bl-02", "Blender 2", "blender", True, "24"),
        clock=at(NOW),
    )


def calibrate(session: Session, item: Equipment, due_days: int) -> CalibrationEvent:
    return equipment.record_calibration(
        session,
        actor=SYSTEM,
        equipment_id=item.id,
        certificate="CAL-BL02",
        performed_on=(NOW - timedelta(days=30)).date(),
        due_on=(NOW + timedelta(days=due_days)).date(),
        clock=at(NOW),
    )


def test_new_equipment_is_not_usable_until_calibrated_and_cleaned(
    session: Session, blender: Equipment, make_user: Callable[..., User]
) -> None:
    assert equipment.get_status(session, blender.id, clock=at(NOW)).problems == [
        "No calibration recorded",
        "Not cleaned yet",
    ]
    calibrate(session, blender, 100)
    cleaner = make_user("operator", full_name="Olivia Okafor")
    equipment.record_cleaning(
        session, actor=cleaner, equipment_id=blender.id, last_product="vc500", clock=at(NOW)
    )

    item, status = equipment.status_by_code(session, "BL-02", clock=at(NOW))
    assert item == blender
    assert status.usable
    assert status.last_product == "VC500"
    # Clean expires after the hold time by itself: nothing is written for it.
    assert not equipment.get_status(session, blender.id, clock=at(NOW + timedelta(hours=25))).usable
    assert not equipment.get_status(session, blender.id, clock=at(NOW + timedelta(days=101))).usable
    assert audit_actions(session, entity_type="equipment") == [
        "equipment.created",
        "equipment.calibrated",
        "equipment.cleaned",
    ]


def test_calibration_must_make_sense(session: Session, blender: Equipment) -> None:
    with pytest.raises(Rejected) as refused:
        equipment.record_calibration(
            session,
            actor=SYSTEM,
            equipment_id=blender.id,
            certificate=" ",
            performed_on=(NOW + timedelta(days=1)).date(),
            due_on=NOW.date(),
            clock=at(NOW),
        )
    assert {v.field for v in refused.value.violations} == {"certificate", "performed_on", "due_on"}
    assert count(session, CalibrationEvent) == 0


def test_history_can_never_be_changed(session: Session, blender: Equipment) -> None:
    calibrate(session, blender, 100)
    statements = (
        "UPDATE calibration_event SET due_on = '2099-01-01'",
        "DELETE FROM calibration_event",
        "DELETE FROM equipment",
    )
    for sql in statements:
        with (
            behind_the_apps_back(session),
            pytest.raises(DatabaseError, match="append-only"),
            session.begin_nested(),
        ):
            session.execute(text(sql))


def test_out_of_service_needs_a_reason_and_blocks_use(session: Session, blender: Equipment) -> None:
    calibrate(session, blender, 100)
    with pytest.raises(Rejected, match="Give a reason"):
        equipment.set_in_service(
            session, actor=SYSTEM, equipment_id=blender.id, in_service=False, reason="", clock=CLOCK
        )
    equipment.set_in_service(
        session,
        actor=SYSTEM,
        equipment_id=blender.id,
        in_service=False,
        reason="Seal leaking",
        clock=CLOCK,
    )

    assert "Out of service" in equipment.get_status(session, blender.id, clock=at(NOW)).problems
    assert audit_actions(session, action="equipment.taken_out_of_service") == [
        "equipment.taken_out_of_service"
    ]
    with pytest.raises(Rejected, match="BL-02 is already out of service"):
        equipment.set_in_service(
            session,
            actor=SYSTEM,
            equipment_id=blender.id,
            in_service=False,
            reason="again",
            clock=CLOCK,
        )


def test_bad_equipment_fields_and_unknown_codes(
    session: Session, blender: Equipment, make_user: Callable[..., User]
) -> None:
    with pytest.raises(Rejected) as refused:
        equipment.create_equipment(
            session, actor=SYSTEM, new=EquipmentIn("BL-02", "", "spaceship", True, "0"), clock=CLOCK
        )
    assert {v.field for v in refused.value.violations} == {
        "code",
        "name",
        "kind",
        "clean_hold_hours",
    }
    with pytest.raises(NotFound, match="There is no equipment 'BL-99'"):
        equipment.status_by_code(session, "bl-99", clock=CLOCK)
    with pytest.raises(PermissionDenied):
        equipment.record_calibration(
            session,
            actor=make_user("operator"),
            equipment_id=blender.id,
            certificate="X",
            performed_on=NOW.date(),
            due_on=(NOW + timedelta(days=1)).date(),
            clock=at(NOW),
        )


def test_edit_needs_a_reason_and_the_code_never_changes(
    session: Session, blender: Equipment
) -> None:
    longer = EquipmentIn("BL-02", "Blender 2", "blender", True, "48")
    with pytest.raises(Rejected, match="Give a reason"):
        equipment.update_equipment(
            session, actor=SYSTEM, equipment_id=blender.id, new=longer, reason="", clock=at(NOW)
        )
    with pytest.raises(Rejected) as refused:
        equipment.update_equipment(
            session,
            actor=SYSTEM,
            equipment_id=blender.id,
            new=EquipmentIn("BL-03", "Blender 2", "blender", True, "48"),
            reason="Renumbered",
            clock=at(NOW),
        )
    assert refused.value.for_field("code") == [
        "The code BL-02 cannot be changed; records and labels name it. "
        "Create equipment with the new code and deactivate BL-02 instead."
    ]
    assert (blender.code, blender.clean_hold_hours) == ("BL-02", 24)
    assert audit_actions(session, entity_type="equipment") == ["equipment.created"]

    equipment.update_equipment(
        session,
        actor=SYSTEM,
        equipment_id=blender.id,
        new=longer,
        reason="SOP-CL-4 rev 3",
        clock=at(NOW),
    )
    assert blender.clean_hold_hours == 48
    assert audit_actions(session, entity_type="equipment") == [
        "equipment.created",
        "equipment.changed",
    ]
