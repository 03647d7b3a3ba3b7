"""The plant clock: the one place time enters the app.

Times are stored in UTC; every "is it expired / overdue / due" decision uses the plant's own date
(a lot that expired yesterday in Chicago is expired from midnight in Chicago, not from midnight
UTC). Services take the clock as an argument, like the actor, so the web request, the CLI and the
tests share one path and a test sets the time instead of reading the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class Clock:
    """Now (UTC), the plant's zone and the plant's date."""

    def __init__(self, zone: ZoneInfo, source: Callable[[], datetime] = _wall_clock) -> None:
        self.zone = zone
        self._source = source

    def now(self) -> datetime:
        """The server's time, timezone-aware UTC."""
        return self._source().astimezone(UTC)

    def today(self) -> date:
        """The plant's date now: what expiry, due and overdue rules compare against."""
        return self.now().astimezone(self.zone).date()

    def date_of(self, instant: datetime) -> date:
        """The plant's date at `instant`."""
        return instant.astimezone(self.zone).date()

    def local(self, instant: datetime) -> datetime:
        """`instant` in the plant's zone, for display."""
        return instant.astimezone(self.zone)

    def shown(self, instant: datetime) -> str:
        """`instant` as people read it at the plant: 2026-12-04 09:15 CET."""
        return plant_time(instant, self.zone)

    def at(self, instant: datetime) -> StoppedClock:
        """A clock of the same plant stopped at `instant` (tests, back-dated demo history)."""
        return StoppedClock(instant, self.zone)


class StoppedClock(Clock):
    """A clock that shows a set time until it is moved: for tests and for replaying history."""

    def __init__(self, instant: datetime, zone: ZoneInfo) -> None:
        if instant.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self._instant = instant.astimezone(UTC)
        super().__init__(zone, lambda: self._instant)

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self._instant = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._instant += delta


def plant_time(instant: datetime, zone: ZoneInfo) -> str:
    """A server time in the plant's zone with the zone's own abbreviation, as the floor reads a
    wall clock: "2026-12-04 09:15 CET", "2026-07-01 14:05 CEST" (never "+00:00"). A zone without
    an abbreviation (tzdata writes "+04" for Dubai) is named by its offset: "UTC+04"."""
    local = instant.astimezone(zone)
    name = local.tzname() or ""
    if name[:1] in ("+", "-"):
        name = f"UTC{name}"
    return f"{local:%Y-%m-%d %H:%M} {name}".rstrip()


def system_clock(zone: ZoneInfo) -> Clock:
    """The real clock of a plant in `zone` (the app and the CLI use this one)."""
    return Clock(zone)
