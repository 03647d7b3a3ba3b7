"""The order of work: no step before the steps before it are done; no unit past the first
article before the first article is signed."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from app.models import RecipeStep
from app.services.core.clock import Clock
from app.services.core.errors import Violation
from app.services.execution.gates.result import GateResult, SignedBy, when


def check_sequence(
    steps: Sequence[RecipeStep], step: RecipeStep, done: Collection[str]
) -> GateResult:
    """`step` may start once every step before it in the batch's frozen revision (by position)
    is done. `steps`: the revision's steps; `done`: the codes of the steps done, for a per-unit
    step those done for this unit together with the batch's own. One violation per step still
    open, first to last."""
    if not any(s.code == step.code and s.revision_id == step.revision_id for s in steps):
        return GateResult.judged(
            [
                Violation(
                    "sequence.unknown_step",
                    f"Step {step.code} is not a step of this batch's master record revision.",
                    "step",
                )
            ],
            "sequence",
            {},
        )
    before = sorted((s for s in steps if s.position < step.position), key=lambda s: s.position)
    violations = [
        Violation(
            "sequence.open",
            f"Step {s.code} “{s.title}” is not done yet — finish it before starting step "
            f"{step.code}.",
            "step",
        )
        for s in before
        if s.code not in done
    ]
    return GateResult.judged(
        violations,
        "sequence",
        {
            "step": step.code,
            "done_before": ", ".join(s.code for s in before) or "none: the first step",
        },
    )


def check_fai_hold(
    *,
    unit: int,
    fai_step: RecipeStep,
    fai: SignedBy | None,
    clock: Clock,
    units: int | None = None,
) -> GateResult:
    """Unit 1 is the first article; units 2..n wait until its first-article inspection
    (`fai_step`) is signed (`fai`: that signature, None while unsigned).

    Raises:
        ValueError: `unit` below 1 (units are counted from 1).
    """
    if unit < 1:
        raise ValueError("units are counted from 1")
    if unit == 1:
        return GateResult.judged([], "first_article", {"unit": "1", "first_article": "this unit"})
    if fai is None:
        rest = f"units 2-{units}" if units and units > 2 else "the other units"
        return GateResult.judged(
            [
                Violation(
                    "fai.unsigned",
                    f"Unit {unit} waits for the first-article inspection: QA signs step "
                    f"{fai_step.code} “{fai_step.title}” on unit 1 before {rest} continue.",
                    "unit",
                )
            ],
            "first_article",
            {},
        )
    facts = {
        "unit": str(unit),
        "fai_step": fai_step.code,
        "fai_signed_by": fai.name,
        "fai_signed_at": when(fai.at, clock),
    }
    if fai.signature_id is not None:
        facts["fai_signature"] = str(fai.signature_id)
    return GateResult.judged([], "first_article", facts)
