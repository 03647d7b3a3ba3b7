"""The tests' plant clock: stopped at a fixed time in the plant's zone. No test reads the wall
clock (CI runs the service and route tests a second time with the wall clock 400 days ahead)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.services.core.clock import Clock, StoppedClock

PLANT_TZ = ZoneInfo("Europe/Berlin")  # the tests' plant (make_settings uses the same zone)
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def at(instant: datetime) -> StoppedClock:
    """The plant's clock stopped at `instant`."""
    return StoppedClock(instant, PLANT_TZ)


CLOCK = at(NOW)  # shared and never moved: a test that moves time takes its own `at(...)`


def running_from(instant: datetime) -> Clock:
    """A clock that starts at `instant` and runs with the elapsed time, never the wall date:
    for the live server of the browser tests, where pages wait real seconds (idle sign-out)."""
    started = time.monotonic()
    return Clock(PLANT_TZ, lambda: instant + timedelta(seconds=time.monotonic() - started))
