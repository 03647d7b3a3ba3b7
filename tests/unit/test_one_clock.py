"""Time enters through one clock: nothing else in the app or the tests reads the wall clock."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WALL_CLOCK = re.compile(r"datetime\.now\(|date\.today\(|\btime\.time\(|utcnow\(|datetime\.utcnow")
# The clock itself; the benchmarks measure real time on purpose (make bench, never asserted).
ALLOWED = {"app/services/core/clock.py", "tests/unit/test_one_clock.py"}
ALLOWED_DIRS = ("tests/bench/",)


def test_only_the_clock_reads_the_wall_clock() -> None:
    offenders = []
    for path in sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("tests/**/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED or rel.startswith(ALLOWED_DIRS):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if WALL_CLOCK.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == [], "read time through app.services.core.clock:\n" + "\n".join(offenders)
