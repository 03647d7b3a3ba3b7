"""Times as people read them (issue 12 point 12): the plant's zone with its abbreviation, which
follows daylight saving time, never a bare offset such as "+00:00"."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.services.core.clock import StoppedClock, plant_time

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("instant", "zone", "shown"),
    [
        (datetime(2026, 12, 4, 8, 15, tzinfo=UTC), BERLIN, "2026-12-04 09:15 CET"),  # winter
        (datetime(2026, 7, 1, 12, 5, 59, tzinfo=UTC), BERLIN, "2026-07-01 14:05 CEST"),  # summer
        # The night the clocks go back: the same wall time twice, told apart by the name.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), BERLIN, "2026-10-25 02:30 CEST"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), BERLIN, "2026-10-25 02:30 CET"),
        (datetime(2026, 12, 4, 3, 0, tzinfo=UTC), ZoneInfo("America/Chicago"),
         "2026-12-03 21:00 CST"),  # the plant's date, not the UTC date
        (datetime(2026, 12, 4, 8, 15, tzinfo=UTC), ZoneInfo("UTC"), "2026-12-04 08:15 UTC"),
        # tzdata has no letters for Dubai: the offset is named as one.
        (datetime(2026, 12, 4, 8, 15, tzinfo=UTC), ZoneInfo("Asia/Dubai"),
         "2026-12-04 12:15 UTC+04"),
    ],
)  # fmt: skip
def test_a_time_is_shown_in_the_plants_zone_with_its_abbreviation(
    instant: datetime, zone: ZoneInfo, shown: str
) -> None:
    assert plant_time(instant, zone) == shown
    assert StoppedClock(instant, zone).shown(instant) == shown
    assert "+00:00" not in shown
