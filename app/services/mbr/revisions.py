"""Recipes and their revisions: create, start a new revision, edit the header."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from app.models import (
    BomLine,
    Material,
    Recipe,
    RecipeRevision,
    RecipeStep,
    RevisionStatus,
    StepLimit,
    User,
)
from app.services.core.actors import Actor
from app.services.core.clock import Clock
from app.services.core.errors import PermissionDenied, Rejected, Violation, require
from app.services.core.text import NOTE_LENGTH, max_length, read_text
from app.services.mbr.drafts import (
    audit_revision,
    editable_draft,
    normalise_codes,
    read_decimal,
    require_author,
)
from app.services.mbr.reading import get_recipe, load_revision, revisions_of


@dataclass(frozen=True)
class HeaderIn:
    batch_size: str
    batch_unit: str
    drawing_revision: str = ""
    sop_codes: str = ""
    change_note: str = ""


def create_recipe(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    header: HeaderIn,
    product_code: str = "",
    first_revision: str = "A",
    clock: Clock,
) -> RecipeRevision:
    """A new product recipe with its first draft revision, A; or, for a product whose earlier
    revisions were on paper, the letter that carries on that series (the audit names it).

    Raises:
        PermissionDenied: not admin or QA. Rejected: bad or duplicate fields.
    """
    require_author(actor, "author master batch records")
    now = clock.now()
    problems: list[Violation] = []
    code = read_text(
        code,
        field="code",
        label="product code",
        problems=problems,
        limit=max_length(Recipe, "code"),
        required=True,
        code=True,
        empty="Enter the product code.",
    ).upper()
    if code and session.exec(select(Recipe).where(Recipe.code == code)).first():
        problems.append(Violation("code.taken", f"There is already a recipe {code}.", "code"))
    name = read_text(
        name,
        field="name",
        label="product name",
        problems=problems,
        limit=max_length(Recipe, "name"),
        required=True,
        empty="Enter the product name.",
    )
    product = None
    if product_code.strip():
        product = session.exec(
            select(Material).where(Material.code == product_code.strip().upper())
        ).first()
        if product is None:
            problems.append(
                Violation("product.unknown", f"There is no material {product_code}.", "product")
            )
    size = read_decimal(
        header.batch_size, field="batch_size", label="batch size", problems=problems
    )
    header = _checked_header(header, problems)
    letter = first_revision.strip().upper()
    if len(letter) != 1 or letter not in string.ascii_uppercase:
        problems.append(
            Violation("revision.letter", "A revision is one letter, A to Z.", "first_revision")
        )
    require(problems)
    recipe = Recipe(
        code=code,
        name=name,
        product_material_id=product.id if product else None,
        created_at=now,
    )
    session.add(recipe)
    session.flush()
    revision = _new_revision_row(recipe, letter, header, size, actor, clock=clock)  # type: ignore[arg-type]
    session.add(revision)
    session.flush()
    audit_revision(
        session,
        actor,
        revision,
        "created",
        after={"recipe": code, "name": recipe.name, "revision": letter},
        clock=clock,
    )
    return revision


def _checked_header(header: HeaderIn, problems: list[Violation]) -> HeaderIn:
    """The header's texts trimmed and checked (each problem added to `problems`)."""
    sop_codes = normalise_codes(
        read_text(header.sop_codes, field="sop_codes", label="SOP references", problems=problems,
                  code=True)
    )  # fmt: skip
    if len(sop_codes) > max_length(RecipeRevision, "sop_codes"):
        limit = max_length(RecipeRevision, "sop_codes")
        problems.append(
            Violation("sop_codes.length", f"List at most {limit} characters of SOP references.",
                      "sop_codes")
        )  # fmt: skip
    return replace(
        header,
        batch_unit=read_text(
            header.batch_unit, field="batch_unit", label="batch unit", problems=problems,
            limit=max_length(RecipeRevision, "batch_unit"), required=True, code=True,
            empty="Enter the batch unit.",
        ),
        drawing_revision=read_text(
            header.drawing_revision, field="drawing_revision", label="drawing revision",
            problems=problems, limit=max_length(RecipeRevision, "drawing_revision"), code=True,
        ),
        sop_codes=sop_codes,
        change_note=read_text(
            header.change_note, field="change_note", label="change note", problems=problems,
            limit=NOTE_LENGTH, multiline=True,
        ),
    )  # fmt: skip


def _new_revision_row(
    recipe: Recipe,
    letter: str,
    header: HeaderIn,
    size: Decimal,
    actor: Actor,
    clock: Clock,
    based_on: RecipeRevision | None = None,
) -> RecipeRevision:
    now = clock.now()
    return RecipeRevision(
        recipe_id=recipe.id,  # type: ignore[arg-type]
        revision=letter,
        status=RevisionStatus.DRAFT.value,
        batch_size=size,
        batch_unit=header.batch_unit.strip(),
        drawing_revision=header.drawing_revision.strip(),
        sop_codes=normalise_codes(header.sop_codes),
        change_note=header.change_note.strip(),
        based_on_id=based_on.id if based_on else None,
        created_by_id=_user_id(actor),
        created_at=now,
    )


def _user_id(actor: Actor) -> int:
    if isinstance(actor, User):
        return actor.id  # type: ignore[return-value]
    raise PermissionDenied("A revision is authored by a person, not by the system.")


def _next_letter(existing: Iterable[str]) -> str:
    """The letter after the latest one (a series that began on paper at C goes on with D)."""
    last = max(existing, default="")
    if last == string.ascii_uppercase[-1]:
        raise Rejected([Violation("revision.letters", "This recipe has used every letter A-Z.")])
    return string.ascii_uppercase[string.ascii_uppercase.index(last) + 1] if last else "A"


def start_revision(
    session: Session, *, actor: Actor, recipe_id: int, clock: Clock
) -> RecipeRevision:
    """A new draft copied from the newest revision (a change is always a new revision).

    Raises:
        PermissionDenied: not admin or QA. Rejected: a draft or review is already open.
    """
    require_author(actor, "author master batch records")
    recipe = get_recipe(session, recipe_id)
    revisions = revisions_of(session, recipe_id)
    open_ = [r for r in revisions if r.status in (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW)]
    if open_:
        raise Rejected(
            [
                Violation(
                    "revision.open",
                    f"Revision {open_[0].revision} is still "
                    f"{RevisionStatus(open_[0].status).label.lower()}; "
                    "finish it before starting another.",
                )
            ]
        )
    source = load_revision(session, revisions[-1].id)  # type: ignore[arg-type]
    header = HeaderIn(
        batch_size=str(source.revision.batch_size),
        batch_unit=source.revision.batch_unit,
        drawing_revision=source.revision.drawing_revision,
        sop_codes=source.revision.sop_codes,
    )
    letter = _next_letter(r.revision for r in revisions)
    revision = _new_revision_row(
        recipe,
        letter,
        header,
        source.revision.batch_size,
        actor,
        based_on=source.revision,
        clock=clock,
    )
    session.add(revision)
    session.flush()
    for sv in source.steps:
        step = RecipeStep(
            **sv.step.model_dump(exclude={"id", "revision_id"}),
            revision_id=revision.id,  # type: ignore[arg-type]
        )
        session.add(step)
        session.flush()
        for li in sv.limits:
            session.add(StepLimit(**li.model_dump(exclude={"id", "step_id"}), step_id=step.id))  # type: ignore[arg-type]
    for b in source.bom:
        session.add(
            BomLine(**b.line.model_dump(exclude={"id", "revision_id"}), revision_id=revision.id)  # type: ignore[arg-type]
        )
    session.flush()
    audit_revision(
        session,
        actor,
        revision,
        "revision_started",
        after={"recipe": recipe.code, "revision": letter, "based_on": source.revision.revision},
        clock=clock,
    )
    return revision


def update_header(
    session: Session,
    *,
    actor: Actor,
    revision_id: int,
    header: HeaderIn,
    clock: Clock,
) -> RecipeRevision:
    """Change batch size, unit, drawing revision, SOP references and change note of a draft.

    Raises:
        PermissionDenied, Rejected (frozen revision or bad fields).
    """
    revision = editable_draft(session, actor, revision_id, "author master batch records")
    problems: list[Violation] = []
    size = read_decimal(
        header.batch_size, field="batch_size", label="batch size", problems=problems
    )
    header = _checked_header(header, problems)
    require(problems)
    before = _header_values(revision)
    revision.batch_size = size  # type: ignore[assignment]
    revision.batch_unit = header.batch_unit.strip()
    revision.drawing_revision = header.drawing_revision.strip()
    revision.sop_codes = normalise_codes(header.sop_codes)
    revision.change_note = header.change_note.strip()
    session.add(revision)
    session.flush()
    audit_revision(
        session,
        actor,
        revision,
        "header_changed",
        before=before,
        after=_header_values(revision),
        clock=clock,
    )
    return revision


def _header_values(revision: RecipeRevision) -> dict[str, Any]:
    return {
        "batch_size": revision.batch_size,
        "batch_unit": revision.batch_unit,
        "drawing_revision": revision.drawing_revision,
        "sop_codes": revision.sop_codes,
        "change_note": revision.change_note,
    }
