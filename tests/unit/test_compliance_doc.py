"""docs/compliance.md stays true: every test it cites as evidence exists in the file it names."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MATRIX = ROOT / "docs" / "compliance.md"
# In each cell, a `tests/....py` reference names the file of the `test_...` names after it, up to
# the next file reference, whatever prose, parentheses or semicolons stand between them.
TOKEN = re.compile(r"`(tests/[\w/]+\.py)`|`(test_\w+)`")


def citations() -> list[tuple[str | None, str, int]]:
    """(file, test, line in the matrix) for every test cited; file None: cited before any file."""
    found: list[tuple[str | None, str, int]] = []
    for number, line in enumerate(MATRIX.read_text().splitlines(), 1):
        for cell in line.split("|"):
            current: str | None = None
            for file, name in TOKEN.findall(cell):
                if file:
                    current = file
                else:
                    found.append((current, name, number))
    return found


def test_every_cited_test_exists_in_the_file_named_before_it() -> None:
    cited = citations()
    assert len(cited) > 40
    missing = []
    for path, name, number in cited:
        file = ROOT / path if path else None
        if (
            file is None
            or not file.exists()
            or not re.search(rf"^def {name}\(", file.read_text(), re.MULTILINE)
        ):
            missing.append(f"line {number}: {path} :: {name}")
    assert missing == []


def test_the_parser_reads_past_prose_and_semicolons() -> None:
    row = "| x | y | `tests/a.py` :: `test_one` (Chromium); `test_two`; `tests/b.py` :: `test_3` |"
    files = {}
    for cell in row.split("|"):
        current = None
        for file, name in TOKEN.findall(cell):
            current = file or current
            if name:
                files[name] = current
    assert files == {"test_one": "tests/a.py", "test_two": "tests/a.py", "test_3": "tests/b.py"}


def test_every_cited_file_exists() -> None:
    files = set(re.findall(r"`(tests/[\w/]+\.py)`", MATRIX.read_text()))
    assert sorted(f for f in files if not (ROOT / f).exists()) == []
