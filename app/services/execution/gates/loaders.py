"""What the gates need, read from the database in a fixed number of queries however large the
batch, its history or the equipment's history (no query per step, line or record)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, union_all
from sqlmodel import Session, col, select

from app.models import (
    Batch,
    BatchMaterial,
    BomLine,
    CalibrationEvent,
    CleaningEvent,
    Equipment,
    Lot,
    LotStatus,
    Material,
    Meaning,
    Recipe,
    RecipeRevision,
    RecipeStep,
    Signature,
    User,
)
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Rejected, Violation
from app.services.execution.gates.equipment import EquipmentUse
from app.services.execution.gates.result import SignedBy
from app.services.masterdata import equipment as equipment_service
from app.services.masterdata import training as training_service
from app.services.masterdata.materials import allergen_set
from app.services.masterdata.training import TrainingState
from app.services.warehouse import issuing, ledger


@dataclass(frozen=True)
class BatchContext:
    """A batch with its frozen steps and scaled bill of materials, and the product it makes."""

    batch: Batch
    product: str  # the recipe's product code, as cleanings name the product run before them
    steps: list[RecipeStep]  # by position
    lines: list[tuple[BatchMaterial, Material]]  # by position
    product_allergens: frozenset[str]  # of the product and of every material it is made from

    def step(self, code: str) -> RecipeStep:
        """Raises NotFound."""
        for step in self.steps:
            if step.code == code.strip():
                return step
        raise NotFound(f"Batch {self.batch.batch_no} has no step {code.strip()!r}.")


def load_batch_context(session: Session, batch: Batch) -> BatchContext:
    """`BatchContext` of `batch` in three queries."""
    recipe, product_material = session.exec(
        select(Recipe, Material)
        .join(Material, col(Material.id) == Recipe.product_material_id, isouter=True)
        .where(Recipe.id == batch.recipe_id)
    ).one()
    steps = session.exec(
        select(RecipeStep)
        .where(RecipeStep.revision_id == batch.revision_id)
        .order_by(col(RecipeStep.position), col(RecipeStep.id))
    ).all()
    lines = session.exec(
        select(BatchMaterial, Material)
        .join(Material, col(Material.id) == BatchMaterial.material_id)
        .where(BatchMaterial.batch_id == batch.id)
        .order_by(col(BatchMaterial.position))
    ).all()
    allergens = allergen_set(product_material.allergens if product_material else "")
    for _, material in lines:
        allergens |= allergen_set(material.allergens)
    return BatchContext(batch, recipe.code, list(steps), list(lines), allergens)


@dataclass(frozen=True)
class LotFacts:
    """A scanned lot with its material, and what its release stands on."""

    lot: Lot
    material: Material
    unfounded: str | None  # why its release does not stand on a QC decision
    release: SignedBy | None  # the QC release signature


def load_lot(session: Session, scanned: str) -> LotFacts:
    """The lot a scan names (`ledger.lot_from_scan`) with what `check_scanned_lot` needs, in at
    most five queries.

    Raises:
        Rejected: nothing scanned, not readable, or no such lot (beside the lot field).
    """
    lot = ledger.lot_from_scan(session, scanned, field="lot")
    # Selected, never `session.get`: the count of queries does not depend on what the
    # session happens to hold.
    material = session.exec(select(Material).where(Material.id == lot.material_id)).one()
    unfounded = issuing.release_unfounded(session, lot)
    release = None
    if lot.status == LotStatus.RELEASED:
        signature = session.exec(
            select(Signature)
            .where(
                Signature.record_type == ledger.RECORD_TYPE,
                Signature.record_id == str(lot.id),
                Signature.meaning == Meaning.RELEASED.value,
            )
            .order_by(col(Signature.id).desc())
            .limit(1)
        ).first()
        release = _signed(signature)
    return LotFacts(lot, material, unfounded, release)


@dataclass(frozen=True)
class EquipmentFacts:
    """Scanned equipment with its latest calibration and cleaning, who cleaned it, that
    cleaning's verification, and the allergens of the products it ran."""

    equipment: Equipment
    calibration: CalibrationEvent | None
    cleaning: CleaningEvent | None
    cleaned_by: str
    verification: SignedBy | None
    allergens_by_product: dict[str, frozenset[str]]


def load_equipment(
    session: Session, scanned: str, *, last_use: EquipmentUse | None = None
) -> EquipmentFacts:
    """The equipment a scan names with what `check_equipment` and `check_allergen_changeover`
    need, in at most six queries. `last_use`: its last run, which the batch records know.

    Raises:
        Rejected: nothing scanned or no such equipment (beside the equipment field).
    """
    code = scanned.strip().upper()
    if not code:
        raise Rejected([Violation("equipment.empty", "Scan the equipment's label.", "equipment")])
    equipment = equipment_service.get_by_code(session, code)
    if equipment is None:
        raise Rejected(
            [Violation("equipment.unknown", f"There is no equipment {code!r}.", "equipment")]
        )
    key = equipment.id
    assert key is not None
    calibration = equipment_service.latest_events(session, CalibrationEvent, [key]).get(key)
    cleaning = equipment_service.latest_events(session, CleaningEvent, [key]).get(key)
    cleaned_by, verification = "", None
    if cleaning is not None:
        assert cleaning.id is not None
        cleaned_by = session.exec(
            select(User.full_name).where(User.id == cleaning.cleaned_by_id)
        ).one()
        verification = _signed(
            equipment_service.verifications(session, [cleaning.id]).get(cleaning.id)
        )
    products = [cleaning.last_product if cleaning else "", last_use.product if last_use else ""]
    return EquipmentFacts(
        equipment,
        calibration,
        cleaning,
        cleaned_by,
        verification,
        product_allergens(session, products),
    )


def product_allergens(session: Session, codes: Collection[str]) -> dict[str, frozenset[str]]:
    """The allergens each product carries, by product code, in one query: those of its own
    material and of every material any revision of its master batch record lists. A code that
    is neither a material nor a recipe is left out (its allergens are not known)."""
    wanted = sorted({c.strip().upper() for c in codes if c.strip()})
    if not wanted:
        return {}
    own: Any = select(col(Material.code), col(Material.allergens)).where(
        col(Material.code).in_(wanted)
    )
    product = (
        select(col(Recipe.code), col(Material.allergens))
        .join(Material, col(Material.id) == Recipe.product_material_id)
        .where(col(Recipe.code).in_(wanted))
    )
    ingredients = (
        select(col(Recipe.code), col(Material.allergens))
        .join(RecipeRevision, col(RecipeRevision.recipe_id) == Recipe.id)
        .join(BomLine, col(BomLine.revision_id) == RecipeRevision.id)
        .join(Material, col(Material.id) == BomLine.material_id)
        .where(col(Recipe.code).in_(wanted))
    )
    # A recipe with neither a product material nor a bill of materials is still known.
    recipes = select(col(Recipe.code), literal("")).where(col(Recipe.code).in_(wanted))
    found: dict[str, frozenset[str]] = {}
    for code, allergens in session.execute(union_all(own, product, ingredients, recipes)):
        found[code] = found.get(code, frozenset()) | allergen_set(allergens)
    return found


def load_training(
    session: Session, *, user: User, steps: Sequence[RecipeStep], clock: Clock
) -> dict[str, TrainingState | None]:
    """`user`'s standing on the curricula `steps` name, by code, in three queries (the
    training service's `states_by_code`); read it with `training_for`."""
    return training_service.states_by_code(
        session,
        user=user,
        codes=[s.training_code for s in steps if s.training_code],
        today=clock.today(),
    )


def training_for(step: RecipeStep, states: dict[str, TrainingState | None]) -> TrainingState | None:
    """The standing `load_training` read for `step`'s curriculum (None: it names none, or one
    that does not exist)."""
    if not step.training_code:
        return None
    return states.get(step.training_code.strip().upper())


def _signed(signature: Signature | None) -> SignedBy | None:
    if signature is None:
        return None
    return SignedBy(signature.printed_name, signature.signed_at, signature.id, signature.signer_id)
