"""Equipment status from its latest calibration and cleaning, at a moment (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.models import CalibrationEvent, CleaningEvent, Equipment
from app.services.masterdata.equipment import equipment_status
from tests.clock import at

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def blender(**changes: object) -> Equipment:
    values = {"code": "BL-02", "name": "Blender 2", "kind": "blender", "created_at": NOW}
    return Equipment(**{**values, **changes})  # type: ignore[arg-type]


def calibrated(due: date) -> CalibrationEvent:
    return CalibrationEvent(
        equipment_id=1, certificate="CAL-1", performed_on=due - timedelta(days=365), due_on=due,
        recorded_at=NOW,
    )  # fmt: skip


def cleaned(hours_ago: float) -> CleaningEvent:
    return CleaningEvent(
        equipment_id=1, cleaned_at=NOW - timedelta(hours=hours_ago), cleaned_by_id=1,
        last_product="VC500", recorded_at=NOW,
    )  # fmt: skip


def test_calibrated_and_clean_equipment_is_ready() -> None:
    status = equipment_status(blender(), calibrated(date(2027, 1, 1)), cleaned(1), clock=at(NOW))
    assert status.usable
    assert status.words == "Ready to use"
    assert status.calibration_certificate == "CAL-1"
    assert status.clean_until == NOW + timedelta(hours=71)
    assert status.last_product == "VC500"


def test_due_today_is_still_current_and_yesterday_is_overdue() -> None:
    assert equipment_status(blender(), calibrated(NOW.date()), cleaned(1), clock=at(NOW)).usable
    overdue = equipment_status(blender(), calibrated(date(2026, 11, 21)), cleaned(1), clock=at(NOW))
    assert overdue.problems == ["Calibration overdue since 2026-11-21"]


@pytest.mark.parametrize(
    ("equipment", "calibration", "cleaning", "problems"),
    [
        (blender(), None, None, ["No calibration recorded", "Not cleaned yet"]),
        (blender(in_service=False), calibrated(date(2027, 1, 1)), cleaned(1), ["Out of service"]),
        (
            blender(clean_hold_hours=24),
            calibrated(date(2027, 1, 1)),
            cleaned(25),
            ["Not clean: cleaning expired at 2026-11-22 12:00 CET"],
        ),
        (blender(needs_cleaning=False), calibrated(date(2027, 1, 1)), None, []),
        (
            blender(active=False, in_service=False),
            calibrated(date(2026, 1, 1)),
            cleaned(100),
            [
                "Deactivated",
                "Out of service",
                "Calibration overdue since 2026-01-01",
                "Not clean: cleaning expired at 2026-11-21 09:00 CET",
            ],
        ),
    ],
)
def test_every_reason_is_listed(
    equipment: Equipment,
    calibration: CalibrationEvent | None,
    cleaning: CleaningEvent | None,
    problems: list[str],
) -> None:
    status = equipment_status(equipment, calibration, cleaning, clock=at(NOW))
    assert status.problems == problems
    assert status.usable is (problems == [])


def test_cleaning_problems_warn_and_the_rest_block() -> None:
    status = equipment_status(blender(in_service=False), None, cleaned(100), clock=at(NOW))
    assert [level for _, level in status.badges] == ["bad", "bad", "warn"]
