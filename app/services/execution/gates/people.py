"""The people: the performer has the step's role and current training; the verifier is a
second person; the releaser did not work on the batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.models import RecipeStep, Role, StepKind, User
from app.services.core.errors import Violation
from app.services.execution.gates.result import GateResult, one_of
from app.services.masterdata import training as training_service
from app.services.masterdata.training import TrainingState


def _training_facts(step: RecipeStep, state: TrainingState | None) -> dict[str, str]:
    if not step.training_code or state is None or state.latest is None:
        return {}
    facts = {
        "training_record": str(state.latest.id),
        "curriculum": state.curriculum.code,
        "trained_on": state.latest.trained_on.isoformat(),
        "training_expires": state.latest.expires_on.isoformat(),
    }
    if state.revision is not None:
        facts["curriculum_revision"] = state.revision.revision
    return facts


def _beside(violations: list[Violation], field: str) -> list[Violation]:
    return [Violation(v.code, v.message, field) for v in violations]


def check_performer(user: User, step: RecipeStep, training: TrainingState | None) -> GateResult:
    """`user` may perform `step`: active, with the step's role and current training on its
    curriculum (`training`: their standing on it, None when the step names no curriculum or
    one that does not exist) — the training service's own rule."""
    violations = training_service.qualification_problems(user, step, training)
    facts = {
        "performer": user.full_name,
        "username": user.username,
        "role": training_service.role_for_step(step).label,
        "step": step.code,
        **_training_facts(step, training),
    }
    return GateResult.judged(_beside(violations, "performer"), "performer", facts)


def check_verifier(
    verifier: User,
    step: RecipeStep,
    training: TrainingState | None,
    *,
    performed_by: Mapping[int, str],
) -> GateResult:
    """`verifier` may verify `step`: not one of those who performed it (`performed_by`: their
    ids and printed names), qualified for it as an operator is, or QA."""
    violations = []
    if verifier.id in performed_by:
        violations.append(
            Violation(
                "verifier.performer",
                f"{verifier.full_name} performed step {step.code}; a second person verifies "
                "it — hand the device to another trained operator.",
                "verifier",
            )
        )
    roles = (training_service.role_for_step(step), Role.QA)
    violations += _beside(
        training_service.qualification_problems(verifier, step, training, roles=roles),
        "verifier",
    )
    facts = {
        "verifier": verifier.full_name,
        "username": verifier.username,
        "step": step.code,
        "performed_by": one_of(sorted(performed_by.values()), "and") if performed_by else "",
        **_training_facts(step, training),
    }
    return GateResult.judged(violations, "verifier", facts)


def check_releaser(
    releaser: User, *, batch_no: str, worked: Sequence[tuple[int, RecipeStep]]
) -> GateResult:
    """`releaser` did not perform or verify any step of batch `batch_no` (`worked`: who did
    which step). Signing a QA hold point is QA's own decision, not work on the batch."""
    own = sorted(
        {s.code for who, s in worked if who == releaser.id and s.kind != StepKind.QA_HOLD},
        key=lambda code: (len(code), code),
    )
    violations = []
    if own:
        steps = f"step {own[0]}" if len(own) == 1 else f"steps {one_of(own, 'and')}"
        violations.append(
            Violation(
                "releaser.performed",
                f"{releaser.full_name} worked on {steps} of batch {batch_no}; a QA person who "
                "did not work on it releases the batch.",
                "releaser",
            )
        )
    return GateResult.judged(
        violations, "releaser", {"releaser": releaser.full_name, "batch": batch_no}
    )
