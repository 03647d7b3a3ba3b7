"""The equipment at a step: the kind the step names, in service, calibration current, clean
within its hold time and cleared of the product it last ran; and an allergen changeover only
after a cleaning a second person has verified."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.models import CalibrationEvent, CleaningEvent, Equipment, EquipmentKind, RecipeStep
from app.services.core.clock import Clock
from app.services.core.errors import Violation
from app.services.execution.gates.result import GateResult, SignedBy, one_of, when
from app.services.masterdata import equipment as equipment_service


@dataclass(frozen=True)
class EquipmentUse:
    """The last run of a piece of equipment as the batch records show it: which product, in
    which batch, when."""

    product: str
    batch_no: str
    at: datetime


def _noun(kind: str) -> str:
    """A kind of equipment in words: "blender", "test rig"."""
    try:
        return EquipmentKind(kind).label.lower()
    except ValueError:
        return kind


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _uncleaned(cleaning: CleaningEvent | None, last_use: EquipmentUse | None) -> bool:
    """Whether `last_use` came after the latest cleaning (or there is none)."""
    return last_use is not None and (cleaning is None or last_use.at > cleaning.cleaned_at)


def check_equipment(
    equipment: Equipment,
    calibration: CalibrationEvent | None,
    cleaning: CleaningEvent | None,
    *,
    step: RecipeStep,
    product: str,
    clock: Clock,
    cleaned_by: str = "",
    last_use: EquipmentUse | None = None,
) -> GateResult:
    """`equipment` may be used at `step` for `product` now: of the kind the step names, usable
    by its status (`equipment_status`: active, in service, calibration current at the plant's
    date, clean within its hold time) and, when it is cleaned between products, not run for
    another product since its latest cleaning (line clearance). `calibration` and `cleaning`
    are its latest; `cleaned_by` the cleaner's printed name; `last_use` its last run."""
    code = equipment.code
    noun = _noun(step.equipment_kind or equipment.kind)
    violations = []
    if step.equipment_kind and equipment.kind != step.equipment_kind:
        violations.append(
            Violation(
                "equipment.kind",
                f"{code} is {_a(_noun(equipment.kind))}; step {step.code} needs {_a(noun)} — "
                f"scan {_a(noun)}.",
                "equipment",
            )
        )
    current = f"use another {noun} whose calibration is current"
    clean = f"clean it and record the cleaning, or use another {noun} that is clean"
    advice = {
        "equipment.inactive": f"use another {noun}",
        "equipment.out_of_service": f"use another {noun}",
        "calibration.missing": current,
        "calibration.overdue": current,
        "cleaning.missing": clean,
        "cleaning.expired": clean,
    }
    status = equipment_service.equipment_status(equipment, calibration, cleaning, clock)
    for reason in status.reasons:
        words = reason.words[:1].lower() + reason.words[1:]
        violations.append(
            Violation(
                reason.code,
                f"{code}: {words} — {advice.get(reason.code, f'use another {noun}')}.",
                "equipment",
            )
        )
    if (
        equipment.needs_cleaning
        and cleaning is not None  # none at all: `cleaning.missing` says so already
        and _uncleaned(cleaning, last_use)
        and last_use is not None
        and last_use.product != product
    ):
        violations.append(
            Violation(
                "equipment.not_cleared",
                f"{code} last ran {last_use.product} (batch {last_use.batch_no}) and has not "
                f"been cleaned since — clean it and record the line clearance before {product}.",
                "equipment",
            )
        )
    facts = {"equipment": code, "kind": equipment.kind}
    if calibration is not None:
        facts["calibration_certificate"] = calibration.certificate
        facts["calibration_due"] = calibration.due_on.isoformat()
    if not equipment.needs_cleaning:
        facts["cleaning"] = "not cleaned between products"
    elif cleaning is not None:
        facts["cleaned_at"] = when(cleaning.cleaned_at, clock)
        facts["cleaned_by"] = cleaned_by
        facts["last_product_before_cleaning"] = cleaning.last_product or "none recorded"
        if status.clean_until is not None:
            facts["clean_until"] = when(status.clean_until, clock)
    if last_use is not None:
        facts["last_run"] = (
            f"{last_use.product} in batch {last_use.batch_no} at {when(last_use.at, clock)}"
        )
    return GateResult.judged(violations, "equipment", facts)


def check_allergen_changeover(
    equipment: Equipment,
    cleaning: CleaningEvent | None,
    *,
    product: str,
    product_allergens: frozenset[str],
    allergens_by_product: Mapping[str, frozenset[str]],
    verification: SignedBy | None,
    clock: Clock,
    last_use: EquipmentUse | None = None,
) -> GateResult:
    """Equipment that last ran a product carrying an allergen `product` lacks is used for it
    only after a cleaning made after that run and verified by a second person
    (`verification`: that signature on the latest cleaning). `allergens_by_product`: the
    allergens of the products the equipment ran (a product missing from it is not known here,
    so its allergens cannot be told: it is treated as carrying one)."""
    code = equipment.code
    facts = {"equipment": code, "product": product, "product_allergens": _listed(product_allergens)}
    if not equipment.needs_cleaning:
        facts["changeover"] = "not cleaned between products: no product contact"
        return GateResult.judged([], "allergen_changeover", facts)
    if _uncleaned(cleaning, last_use):
        assert last_use is not None
        carried = _carried(last_use.product, product, product_allergens, allergens_by_product)
        facts["last_run"] = f"{last_use.product} in batch {last_use.batch_no}"
        facts["last_product_allergens"] = _known(last_use.product, allergens_by_product)
        if carried is None:
            return GateResult.judged([], "allergen_changeover", facts)
        return GateResult.judged(
            [
                Violation(
                    "allergen.not_cleaned",
                    f"{code} last ran {last_use.product}{carried}, and has not been "
                    f"cleaned since — clean it and have the cleaning verified by a second "
                    f"person before {product}.",
                    "equipment",
                )
            ],
            "allergen_changeover",
            {},
        )
    if cleaning is None or not cleaning.last_product:
        facts["last_product"] = "none recorded"
        return GateResult.judged([], "allergen_changeover", facts)
    previous = cleaning.last_product
    carried = _carried(previous, product, product_allergens, allergens_by_product)
    facts["last_product"] = previous
    facts["last_product_allergens"] = _known(previous, allergens_by_product)
    facts["cleaned_at"] = when(cleaning.cleaned_at, clock)
    if carried is None:
        return GateResult.judged([], "allergen_changeover", facts)
    if verification is None or verification.signer_id == cleaning.cleaned_by_id:
        return GateResult.judged(
            [
                Violation(
                    "allergen.unverified",
                    f"{code} ran {previous}{carried}, before its cleaning at "
                    f"{clock.shown(cleaning.cleaned_at)} — a second person verifies that "
                    f"cleaning before {code} is used for {product}.",
                    "equipment",
                )
            ],
            "allergen_changeover",
            {},
        )
    facts["cleaning_verified_by"] = verification.name
    facts["cleaning_verified_at"] = when(verification.at, clock)
    if verification.signature_id is not None:
        facts["verification_signature"] = str(verification.signature_id)
    return GateResult.judged([], "allergen_changeover", facts)


def _listed(allergens: frozenset[str]) -> str:
    return ", ".join(sorted(allergens)) or "none"


def _known(product: str, allergens_by_product: Mapping[str, frozenset[str]]) -> str:
    found = allergens_by_product.get(product.strip().upper())
    return _listed(found) if found is not None else "not known: not a product of this plant"


def _carried(
    previous: str,
    product: str,
    product_allergens: frozenset[str],
    allergens_by_product: Mapping[str, frozenset[str]],
) -> str | None:
    """What the previous product carries that `product` lacks, as words to follow its code
    (", which carries peanut (VC500 does not)"), or None when nothing."""
    found = allergens_by_product.get(previous.strip().upper())
    if found is None:
        return ", a product not known here (its allergens cannot be told)"
    lacking = sorted(found - product_allergens)
    if not lacking:
        return None
    return f", which carries {one_of(lacking, 'and')} ({product} does not)"
