"""The lot in hand: of the material this step takes, and usable at the plant's date of use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from app.models import BatchMaterial, Lot, Material, RecipeStep
from app.services.core.clock import Clock
from app.services.core.errors import Violation
from app.services.execution.gates.result import GateResult, SignedBy, one_of, when
from app.services.warehouse import issuing

Lines = Sequence[tuple[BatchMaterial, Material]]


def step_lines(step: RecipeStep, lines: Lines) -> list[tuple[BatchMaterial, Material]]:
    """The lines of the batch's scaled bill of materials that `step` consumes."""
    return [(line, material) for line, material in lines if line.step_code == step.code]


def wanted(step: RecipeStep, lines: Lines, lot_material: Material) -> str:
    """What to scan instead, in words: "a released lot of RM-ASC" (of the step's materials; of
    the lot's own when the step takes none)."""
    codes = list(dict.fromkeys(m.code for _, m in step_lines(step, lines))) or [lot_material.code]
    return f"scan a released lot of {one_of(codes)}"


def check_material(
    lot: Lot, lot_material: Material, *, step: RecipeStep, lines: Lines, batch_no: str
) -> GateResult:
    """The scanned lot is of a material of the batch's bill of materials that `step` consumes.
    `lines`: every line of the batch's scaled bill of materials, with its material."""
    mine = step_lines(step, lines)
    if not mine:
        return GateResult.judged(
            [
                Violation(
                    "material.no_line",
                    f"Step {step.code} consumes no material of batch {batch_no}'s bill of "
                    "materials; no lot is scanned here.",
                    "lot",
                )
            ],
            "material",
            {},
        )
    match = next((line for line, _ in mine if line.material_id == lot.material_id), None)
    if match is None:
        elsewhere = [line.step_code for line, _ in lines if line.material_id == lot.material_id]
        where = (
            f"which step {elsewhere[0]} takes, not step {step.code}"
            if elsewhere and elsewhere[0]
            else f"which batch {batch_no} does not use"
        )
        return GateResult.judged(
            [
                Violation(
                    "material.wrong",
                    f"Lot {lot.lot_code} is {lot_material.code}, {where} — "
                    f"{wanted(step, lines, lot_material)}.",
                    "lot",
                )
            ],
            "material",
            {},
        )
    return GateResult.judged(
        [],
        "material",
        {
            "lot": lot.lot_code,
            "material": lot_material.code,
            "step": step.code,
            "bom_line": str(match.position),
        },
    )


def check_lot(
    lot: Lot,
    lot_material: Material,
    *,
    step: RecipeStep,
    lines: Lines,
    today: date,
    unfounded: str | None,
    release: SignedBy | None,
    clock: Clock,
) -> GateResult:
    """The lot is released, its release stands on a QC decision (`unfounded`: why not, as
    `issuing.release_unfounded` reads it), and it has not expired at `today`, the plant's
    date of use (the warehouse's own rule, `issuing.lot_problems`). `release`: the QC release
    signature, kept as evidence."""
    violations = issuing.lot_problems(
        lot, today, "lot", unfounded=unfounded, instead=wanted(step, lines, lot_material)
    )
    facts = {
        "lot": lot.lot_code,
        "material": lot_material.code,
        "status": lot.status,
        "expiry": lot.expiry.isoformat() if lot.expiry else "none",
        "used_on": today.isoformat(),
    }
    if lot.supplier_lot:
        facts["supplier_lot"] = lot.supplier_lot
    if release is not None:
        facts["released_by"] = release.name
        facts["released_at"] = when(release.at, clock)
        if release.signature_id is not None:
            facts["release_signature"] = str(release.signature_id)
    return GateResult.judged(violations, "lot", facts)


def check_scanned_lot(
    lot: Lot,
    lot_material: Material,
    *,
    step: RecipeStep,
    lines: Lines,
    batch_no: str,
    today: date,
    unfounded: str | None,
    release: SignedBy | None,
    clock: Clock,
) -> GateResult:
    """`check_material` and `check_lot` together: every reason at once for a lot scanned at a
    step."""
    return GateResult.all(
        check_material(lot, lot_material, step=step, lines=lines, batch_no=batch_no),
        check_lot(
            lot, lot_material, step=step, lines=lines, today=today, unfounded=unfounded,
            release=release, clock=clock,
        ),
    )  # fmt: skip
