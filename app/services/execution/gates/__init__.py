"""The hard gates of the floor (DESIGN §5), each a pure check over values already loaded that
returns every violation, with a sentence the operator can act on, or the evidence it passed on;
and the loaders that read what they need in a fixed number of queries.

    context = load_batch_context(session, batch)
    step = context.step("20")
    found = load_lot(session, scanned)
    result = GateResult.all(
        check_sequence(context.steps, step, done),
        check_scanned_lot(found.lot, found.material, step=step, lines=context.lines,
                          batch_no=batch.batch_no, today=clock.today(),
                          unfounded=found.unfounded, release=found.release, clock=clock),
    )
    evidence = result.require()  # raises GateViolation with all of them

The rules each gate applies that other areas own are theirs, reused here, never restated: a
lot's usability (`warehouse.issuing.lot_problems`), equipment status
(`masterdata.equipment.equipment_status`), qualification
(`masterdata.training.qualification_problems`), tolerances (`core.quantities`).
"""

from app.services.execution.gates.amount import Amount, check_amount, in_unit, units_of, window
from app.services.execution.gates.equipment import (
    EquipmentUse,
    check_allergen_changeover,
    check_equipment,
)
from app.services.execution.gates.loaders import (
    BatchContext,
    EquipmentFacts,
    LotFacts,
    load_batch_context,
    load_equipment,
    load_lot,
    load_training,
    product_allergens,
    training_for,
)
from app.services.execution.gates.lots import (
    check_lot,
    check_material,
    check_scanned_lot,
    step_lines,
)
from app.services.execution.gates.order import check_fai_hold, check_sequence
from app.services.execution.gates.people import check_performer, check_releaser, check_verifier
from app.services.execution.gates.result import Evidence, GateResult, SignedBy

__all__ = [
    "Amount",
    "step_lines",
    "BatchContext",
    "EquipmentFacts",
    "EquipmentUse",
    "Evidence",
    "GateResult",
    "LotFacts",
    "SignedBy",
    "check_allergen_changeover",
    "check_amount",
    "check_equipment",
    "check_fai_hold",
    "check_lot",
    "check_material",
    "check_performer",
    "check_releaser",
    "check_scanned_lot",
    "check_sequence",
    "check_verifier",
    "in_unit",
    "load_batch_context",
    "load_equipment",
    "load_lot",
    "load_training",
    "product_allergens",
    "training_for",
    "units_of",
    "window",
]
