"""A new batch before it exists: who may plan one, the form's defaults (the planned quantity is
the recipe's nominal batch), and the check that scales the bill of materials and applies every
rule, writing nothing. `batches.create_batch` creates exactly what `check_batch` returns, so
what a supervisor confirmed is what the floor gets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from app.models import Batch, Material, Recipe, RecipeRevision, Role, User
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.dates import too_far_ahead
from app.services.core.errors import GateViolation, PermissionDenied, Rejected, Violation, require
from app.services.core.quantities import COUNT_UNITS, ScaledLine, parse_quantity, scale_line, shown
from app.services.core.text import max_length, read_text
from app.services.mbr import reading

BATCH_NO_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{1,39}$")
# Who plans production: supervisors, and admins setting a plant up.
CREATORS = (Role.SUPERVISOR, Role.ADMIN)


@dataclass(frozen=True)
class BatchIn:
    recipe_code: str
    batch_no: str
    planned: str
    customer_po: str = ""
    due_date: date | None = None


def may_create_batch(user: Actor) -> bool:
    """Whether `user` may create batches: the rule `check_batch` (so `create_batch`) enforces,
    and the one the pages use to offer the form (a person, active, supervisor or admin)."""
    return isinstance(user, User) and user.active and user.has_role(*CREATORS)


@dataclass(frozen=True)
class Nominal:
    """What a recipe's effective revision is made for: the planned quantity's default."""

    title: str  # "VC500 rev B"
    size: Decimal
    unit: str

    @property
    def planned(self) -> str:
        """The size as the quantity field reads it back (no grouping, no exponent)."""
        return f"{self.size.normalize():f}"

    @property
    def counted(self) -> bool:
        """A count unit (tablets, pcs): the quantity is a whole number."""
        return self.unit.strip().lower() in COUNT_UNITS


@dataclass(frozen=True)
class NewBatchForm:
    """The "New batch" form as it opens: the values to show (the planned quantity defaults to
    the chosen recipe's nominal size), the recipes to choose from, and the revision gate's
    answer for the chosen one before anything is submitted."""

    values: dict[str, str]
    recipes: list[Recipe]
    nominal: Nominal | None
    errors: Rejected | None


FIELDS = ("recipe", "batch_no", "planned", "customer_po", "due_date")


def nominal_size(session: Session, recipe_code: str) -> Nominal | None:
    """The nominal batch of the recipe's effective revision; None without one."""
    code = recipe_code.strip().upper()
    revision = reading.effective_revision(session, code) if code else None
    if revision is None:
        return None
    return Nominal(f"{code} rev {revision.revision}", revision.batch_size, revision.batch_unit)


def new_batch_form(session: Session, values: Mapping[str, str]) -> NewBatchForm:
    """The "New batch" form for `values` (what was typed or passed in the address): a planned
    quantity not given defaults to the recipe's nominal size; a recipe with no effective
    revision is said beside its field at once."""
    shown_values = {name: values.get(name, "") for name in FIELDS}
    code = shown_values["recipe"].strip().upper()
    nominal = nominal_size(session, code)
    if nominal is not None and "planned" not in values:
        shown_values["planned"] = nominal.planned
    errors = None
    if code and nominal is None:
        errors = Rejected([_not_effective(code)])
    recipes = [r for r, _ in reading.list_recipes(session)]
    return NewBatchForm(shown_values, recipes, nominal, errors)


def _not_effective(code: str) -> Violation:
    return Violation(
        "revision.not_effective",
        f"{code or 'This product'} has no effective master batch record; a batch is only ever "
        "made from an approved, effective revision.",
        "recipe",
    )


@dataclass(frozen=True)
class PlannedLine:
    """One line of the bill of materials as the batch would freeze it."""

    material: Material
    quantity: Decimal
    unit: str
    tolerance_kind: str
    tolerance: Decimal
    step_code: str | None

    @property
    def tolerance_words(self) -> str:
        if self.tolerance_kind == "percent":
            return f"±{self.tolerance.normalize():f} %"
        return f"±{shown(self.tolerance, self.unit)}"


@dataclass(frozen=True)
class BatchPlan:
    """A batch as it would be created: checked, scaled, nothing written."""

    revision: RecipeRevision
    recipe_code: str
    title: str  # "VC500 rev B"
    batch_no: str
    planned: Decimal
    unit: str
    customer_po: str
    due_date: date | None
    lines: list[PlannedLine]

    def form(self) -> dict[str, str]:
        """The plan as the form's fields, to create it (or change it) with one tap."""
        return {
            "recipe": self.recipe_code,
            "batch_no": self.batch_no,
            "planned": f"{self.planned:f}",
            "customer_po": self.customer_po,
            "due_date": self.due_date.isoformat() if self.due_date else "",
        }


def _scaled_bom(
    view: reading.RevisionView,
    planned: Decimal | None,
    batch_size: Decimal,
    problems: list[Violation],
) -> list[ScaledLine]:
    """Each BOM line scaled to `planned`, kept to its unit's resolution; a line that cannot be
    kept within its tolerance is a sentence beside the planned quantity."""
    if planned is None:
        return []
    factor = planned / batch_size
    lines = []
    for b in view.bom:
        line = scale_line(
            b.line.quantity,
            unit=b.line.unit,
            tolerance_kind=b.line.tolerance_kind,
            tolerance=b.line.tolerance,
            factor=factor,
            label=b.material.code,
            problems=problems,
        )
        if line is not None:
            lines.append(line)
    return lines


def _require_creator(actor: Actor) -> None:
    if not may_create_batch(actor):
        require_role(actor, *CREATORS, action="create batches")  # the sentence naming the roles
        raise PermissionDenied("A batch is created by a person, not by the system.")


def check_batch(session: Session, *, actor: Actor, new: BatchIn, clock: Clock) -> BatchPlan:
    """The batch `new` would create, with its bill of materials scaled, checked by every rule
    `create_batch` applies; nothing is written.

    Raises:
        PermissionDenied: not an active supervisor or admin. GateViolation: no effective
        revision (the revision gate). Rejected: a bad or taken batch number, a bad planned
        quantity (a fraction of a count unit among them), or one for which a scaled BOM line
        cannot be kept to its unit's resolution within its tolerance.
    """
    _require_creator(actor)
    code = new.recipe_code.strip().upper()
    revision = reading.effective_revision(session, code)
    if revision is None:
        raise GateViolation([_not_effective(code)])
    problems: list[Violation] = []
    batch_no = new.batch_no.strip().upper()
    if not BATCH_NO_RE.match(batch_no):
        problems.append(
            Violation(
                "batch_no.format",
                "A batch number is 2-40 letters, digits, '.', '_', '/' or '-'.",
                "batch_no",
            )
        )
    elif session.exec(select(Batch).where(Batch.batch_no == batch_no)).first() is not None:
        problems.append(
            Violation("batch_no.taken", f"Batch {batch_no} already exists.", "batch_no")
        )
    planned = parse_quantity(new.planned, problems, "planned", unit=revision.batch_unit)
    customer_po = read_text(
        new.customer_po,
        field="customer_po",
        label="customer's PO",
        problems=problems,
        limit=max_length(Batch, "customer_po"),
        code=True,
    )
    too_far_ahead(new.due_date, today=clock.today(), field="due_date", label="due date",
                  problems=problems)  # fmt: skip
    view = reading.load_revision(session, revision.id)  # type: ignore[arg-type]
    scaled = _scaled_bom(view, planned, revision.batch_size, problems)
    require(problems)
    assert planned is not None
    lines = [
        PlannedLine(
            material=b.material,
            quantity=line.quantity,
            unit=b.line.unit,
            tolerance_kind=b.line.tolerance_kind,
            tolerance=line.tolerance,
            step_code=b.line.step_code,
        )
        for b, line in zip(view.bom, scaled, strict=True)
    ]
    return BatchPlan(
        revision=revision,
        recipe_code=code,
        title=f"{code} rev {revision.revision}",
        batch_no=batch_no,
        planned=planned,
        unit=revision.batch_unit,
        customer_po=customer_po,
        due_date=new.due_date,
        lines=lines,
    )
