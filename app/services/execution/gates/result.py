"""What a gate answers: every violation, or the evidence the action was allowed on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.services.core.clock import Clock
from app.services.core.errors import GateViolation, Violation


@dataclass(frozen=True)
class Evidence:
    """What a passed gate relied on, in plain values (a lot's status and expiry at use, the
    calibration certificate and its due date, the cleaning, the training record), kept with
    the entry so that the executed record shows why the action was allowed."""

    gate: str
    facts: dict[str, str]


@dataclass(frozen=True)
class GateResult:
    """The answer of one gate or of several: all their violations (never just the first) and
    the evidence of those that passed."""

    violations: list[Violation] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.violations

    @classmethod
    def all(cls, *results: GateResult) -> GateResult:
        """Every result's violations, in the order given; the evidence of them all only when
        none refused (a refused action relied on nothing)."""
        violations = [v for r in results for v in r.violations]
        return cls(violations, [] if violations else [e for r in results for e in r.evidence])

    @classmethod
    def judged(cls, violations: list[Violation], gate: str, facts: dict[str, str]) -> GateResult:
        """Refused with `violations`, else passed on `facts`: a gate that refused relied on
        nothing."""
        if violations:
            return cls(list(violations))
        return cls([], [Evidence(gate, facts)])

    def require(self) -> list[Evidence]:
        """The evidence to keep with the entry.

        Raises:
            GateViolation: with every violation, when any gate refused.
        """
        if self.violations:
            raise GateViolation(self.violations)
        return self.evidence


@dataclass(frozen=True)
class SignedBy:
    """A signature a gate relies on, as plain values (a verified cleaning, a signed FAI)."""

    name: str  # the printed name, as signed
    at: datetime
    signature_id: int | None = None
    signer_id: int | None = None


def when(instant: datetime, clock: Clock) -> str:
    """A moment as evidence keeps it: the plant's local time with its UTC offset, to the
    minute ("2026-11-22T10:00+01:00"), unambiguous a year later."""
    return clock.local(instant).isoformat(timespec="minutes")


def one_of(words: Sequence[str], last: str = "or") -> str:
    """Words as a sentence lists them: "A", "A or B", "A, B or C" (`last`: "and")."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"
