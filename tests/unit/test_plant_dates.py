"""Dates in the plant's time (issue 11 point 10): a rule that uses a date takes the plant's date
from the one plant clock, never the UTC date. Chicago is six hours behind UTC in December: at
03:00 UTC on the 4th it is still the evening of the 3rd at the plant."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.models import CalibrationEvent, Equipment, Lot
from app.services.core.clock import StoppedClock
from app.services.masterdata.equipment import equipment_status
from app.services.warehouse.issuing import usability_problems

CHICAGO = ZoneInfo("America/Chicago")
EVENING_OF_THE_3RD = StoppedClock(datetime(2026, 12, 4, 3, 0, tzinfo=UTC), CHICAGO)
NIGHT_OF_THE_4TH = StoppedClock(datetime(2026, 12, 4, 7, 0, tzinfo=UTC), CHICAGO)


def test_a_calibration_due_on_the_3rd_is_overdue_from_midnight_at_the_plant() -> None:
    scale = Equipment(code="SC-01", name="Scale", kind="scale", needs_cleaning=False,
                      created_at=EVENING_OF_THE_3RD.now())  # fmt: skip
    calibration = CalibrationEvent(
        equipment_id=1, certificate="CAL-1", performed_on=date(2026, 6, 3),
        due_on=date(2026, 12, 3), recorded_at=EVENING_OF_THE_3RD.now(), recorded_by_id=1,
    )  # fmt: skip
    assert EVENING_OF_THE_3RD.today() == date(2026, 12, 3)
    assert equipment_status(scale, calibration, None, EVENING_OF_THE_3RD).usable
    late = equipment_status(scale, calibration, None, NIGHT_OF_THE_4TH)
    assert late.problems == ["Calibration overdue since 2026-12-03"]


def test_a_lot_expiring_on_the_3rd_is_usable_until_midnight_at_the_plant() -> None:
    lot = Lot(lot_code="ASC-1", material_id=1, unit="kg", status="released",
              expiry=date(2026, 12, 3), received_at=EVENING_OF_THE_3RD.now(),
              received_by_id=1)  # fmt: skip
    assert usability_problems(lot, EVENING_OF_THE_3RD.today()) == []
    (expired,) = usability_problems(lot, NIGHT_OF_THE_4TH.today())
    assert "expired on 2026-12-03" in expired.message
