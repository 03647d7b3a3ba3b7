"""Compare two revisions of a recipe, field by field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.services.core.errors import Rejected, Violation
from app.services.mbr.reading import RevisionView, content, load_revision


@dataclass(frozen=True)
class Change:
    key: str
    change: str  # "added" | "removed" | "changed"
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def fields(self) -> list[str]:
        if self.before is None or self.after is None:
            return []
        return sorted(k for k in self.after if self.before.get(k) != self.after.get(k))


@dataclass(frozen=True)
class Comparison:
    old: RevisionView
    new: RevisionView
    header: list[str]
    bom: list[Change]
    steps: list[Change]

    @property
    def identical(self) -> bool:
        return not (self.header or self.bom or self.steps)


def _diff(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[Change]:
    changes = []
    for key in list(old) + [k for k in new if k not in old]:
        if key not in new:
            changes.append(Change(key, "removed", old[key], None))
        elif key not in old:
            changes.append(Change(key, "added", None, new[key]))
        elif old[key] != new[key]:
            changes.append(Change(key, "changed", old[key], new[key]))
    return changes


def compare(session: Session, *, old_id: int, new_id: int) -> Comparison:
    """BOM lines (by material) and steps (by step number) added, removed and changed.

    Raises:
        NotFound: either revision. Rejected: revisions of different recipes.
    """
    old, new = load_revision(session, old_id), load_revision(session, new_id)
    if old.recipe.id != new.recipe.id:
        raise Rejected([Violation("compare.recipes", "Compare two revisions of the same recipe.")])
    a, b = content(old), content(new)
    header = [
        k
        for k in ("batch_size", "batch_unit", "drawing_revision", "sop_codes", "change_note")
        if a[k] != b[k]
    ]
    return Comparison(
        old,
        new,
        header,
        _diff({x["material"]: x for x in a["bom"]}, {x["material"]: x for x in b["bom"]}),
        _diff({x["code"]: x for x in a["steps"]}, {x["code"]: x for x in b["steps"]}),
    )
