"""Text typed by people and codes they scan: one rule for every field where text enters.

A text is trimmed, fits its column (the model's length, or one given), and holds no control
characters: no NUL, no escape, and no bidirectional controls (U+202A-U+202E, U+2066-U+2069,
U+200E/U+200F), which can make a supplier lot or a reason read differently on screen than it
is stored ("right-to-left override" spoofing). A line break is allowed only in multi-line texts
(notes, instructions). A code (a supplier's lot, a certificate, a document number) also holds
only printable characters from the basic Latin range, as labels and barcodes carry them.
Each refusal is a sentence naming the field, added to the caller's `problems`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from app.services.core.errors import Violation

# Format (Cf) characters that change how text is shown: bidi embeddings, overrides, isolates,
# marks, and the zero-width characters and BOM that hide inside a word.
_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)
# Free texts stored without a column length (notes, reasons, instructions) still have a bound.
NOTE_LENGTH = 2000
_LINE_BREAKS = frozenset("\n\r\t")
_CODE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


def max_length(model: type[Any], column: str) -> int:
    """The length of `model`'s string column (what the database accepts)."""
    length = model.__table__.c[column].type.length
    assert length, f"{model.__name__}.{column} has no length"
    return int(length)


def _bad_character(text: str, *, multiline: bool) -> str | None:
    for char in text:
        if multiline and char in _LINE_BREAKS:
            continue
        if char in _INVISIBLE or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            return char
    return None


def read_text(
    raw: str | None,
    *,
    field: str,
    label: str,
    problems: list[Violation],
    limit: int | None = None,
    required: bool = False,
    multiline: bool = False,
    code: bool = False,
    empty: str | None = None,
) -> str:
    """`raw` trimmed; "" with the reason added to `problems` when it breaks the rule.

    `limit` is the most characters allowed (see `max_length`); `required` refuses an empty
    text (with `empty` as the sentence, if given); `code` allows only printable basic Latin
    characters and single spaces."""
    text = (raw or "").strip()
    if not text:
        if required:
            problems.append(Violation(f"{field}.empty", empty or f"Enter the {label}.", field))
        return ""
    bad = _bad_character(text, multiline=multiline)
    if bad is not None:
        problems.append(
            Violation(
                f"{field}.control",
                f"The {label} holds an invisible control character (U+{ord(bad):04X}); "
                "type it again without it.",
                field,
            )
        )
        return ""
    if limit is not None and len(text) > limit:
        problems.append(
            Violation(
                f"{field}.length",
                f"The {label} is too long: at most {limit} characters (this is {len(text)}).",
                field,
            )
        )
        return ""
    if code and not _CODE.fullmatch(text):
        problems.append(
            Violation(
                f"{field}.characters",
                f"The {label} may hold only the letters A-Z, digits and printable symbols "
                "(no accents, other scripts or double spaces).",
                field,
            )
        )
        return ""
    return text


def read_reason(
    raw: str | None,
    problems: list[Violation],
    *,
    limit: int = NOTE_LENGTH,
    required: bool = True,
    empty: str = "Give a reason; it is kept in the audit trail.",
) -> str:
    """A reason for the audit trail (multi-line text, required unless told)."""
    return read_text(
        raw, field="reason", label="reason", problems=problems, limit=limit, required=required,
        multiline=True, empty=empty,
    )  # fmt: skip
