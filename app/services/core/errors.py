"""Domain errors: each carries the HTTP status and a sentence a person on the floor can act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Violation:
    """One broken rule: a stable code, the form field it belongs to (if any), a human sentence."""

    code: str
    message: str
    field: str | None = None


class DomainError(Exception):
    status_code = 400
    # A refusal whose evidence must be kept (failed signing counters, their audit rows, the
    # consumed challenge): the boundary commits what the service wrote instead of rolling back.
    keeps_changes = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Rejected(DomainError):
    """Input or a rule refused the action; `violations` lists every reason, not just the first."""

    status_code = 422

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(" ".join(v.message for v in violations))
        self.violations = violations

    def for_field(self, name: str) -> list[str]:
        return [v.message for v in self.violations if v.field == name]


class GateViolation(Rejected):
    """A hard gate blocked the action at the point of work."""


class PermissionDenied(DomainError):
    status_code = 403


class DecisionRefused(PermissionDenied):
    """A signing refused once its challenge was spent (the record's state moved on): the spent
    challenge is kept, so the same answer can never be replayed later."""

    keeps_changes = True


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class SignatureRefused(DomainError):
    """A signing or passkey ceremony failed; the attempt itself is recorded and kept."""

    status_code = 422
    keeps_changes = True


def require(violations: list[Violation], *, gate: bool = False) -> None:
    """Raise with all `violations` if there are any."""
    if violations:
        raise (GateViolation if gate else Rejected)(violations)


def collect(problems: list[Violation], read: Callable[[], T]) -> T | None:
    """`read()`, or None with its refusals added to `problems`: a form reads every field and
    refuses once with all of them, each beside its field."""
    try:
        return read()
    except Rejected as exc:
        problems += exc.violations
        return None
