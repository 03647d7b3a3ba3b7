"""Finished goods into the warehouse from a batch (lot code = batch number).

A batch is a transformation (FSMA 204, 21 CFR 1.1350): its output gets a new traceability lot
code, the lot code itself, with our site as the TLC source. It is the only place where we assign
one to food we make; receiving and shipping pass the source's TLC on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from app.models import (
    Batch,
    Lot,
    LotStatus,
    MaterialKind,
    MovementKind,
    Recipe,
    User,
)
from app.services.core import idempotency, quantities
from app.services.core.actors import require_role
from app.services.core.clock import Clock
from app.services.core.dates import too_far_ahead
from app.services.core.errors import Violation, require
from app.services.masterdata import materials, parties
from app.services.warehouse import ledger, receipt


@dataclass(frozen=True)
class OutputIn:
    material_code: str
    batch_no: str
    quantity: str
    expiry: date | None = None
    key: str = ""


def receive_output(
    session: Session, *, actor: User, new: OutputIn, clock: Clock
) -> tuple[Lot, bool]:
    """Confirm a batch's output into the warehouse: its lot (lot code = batch number) with a
    production movement, in quarantine until QA releases it. Returns the lot and whether this
    form had been submitted before.

    Raises:
        PermissionDenied: not warehouse. Rejected: not a finished or intermediate material, no
        batch number, a lot of that number already, a bad quantity or expiry, no site of ours
        (the TLC source of the output).
    """
    require_role(actor, *ledger.WAREHOUSE, action="receive finished goods")
    now = clock.now()
    earlier = idempotency.first_result(session, new.key, Lot)
    if earlier is not None:
        return earlier, True
    problems: list[Violation] = []
    material = materials.get_by_code(session, new.material_code)
    if material is None or material.kind not in (MaterialKind.FINISHED, MaterialKind.INTERMEDIATE):
        problems.append(
            Violation("material.kind", "Choose the finished product the batch made.", "material")
        )
    batch = new.batch_no.strip().upper()
    made = session.exec(select(Batch).where(Batch.batch_no == batch)).first() if batch else None
    if not batch:
        problems.append(Violation("batch_no.empty", "Enter the batch number.", "batch_no"))
    elif made is None:
        problems.append(Violation("batch_no.unknown", f"There is no batch {batch!r}.", "batch_no"))
    elif session.exec(select(Lot).where(Lot.lot_code == batch)).first() is not None:
        problems.append(
            Violation("batch_no.received", f"The output of {batch} is already in.", "batch_no")
        )
    elif material is not None:
        recipe = session.get(Recipe, made.recipe_id)
        if recipe is not None and recipe.product_material_id not in (None, material.id):
            problems.append(
                Violation(
                    "material.batch",
                    f"Batch {batch} makes {recipe.code}, not {material.code}.",
                    "material",
                )
            )
    quantity = quantities.parse_quantity(
        new.quantity, problems, unit=material.unit if material else None
    )
    expiry = new.expiry
    if expiry is None and material is not None and material.shelf_life_days:
        expiry = clock.today() + timedelta(days=material.shelf_life_days)
    if expiry is not None and expiry <= clock.today():
        problems.append(Violation("expiry.past", "The expiry must be in the future.", "expiry"))
    else:
        too_far_ahead(expiry, today=clock.today(), field="expiry", label="expiry date",
                      problems=problems)  # fmt: skip
    require(problems)
    assert material is not None
    assert quantity is not None
    site = parties.our_site(session)
    lot = receipt.create_lot(
        session,
        actor=actor,
        new=receipt.NewLot(
            material=material,
            quantity=quantity,
            expiry=expiry,
            gtin=material.gtin,
            lot_code=batch,
            batch=made,
            tlc_source=site,
            tlc_is_lot_code=True,
        ),
        by=actor,
        at=now,
        status=LotStatus.QUARANTINE,
        action="lot.output_received",
        movement=MovementKind.PRODUCTION,
        reference=f"output of batch {batch}",
        clock=clock,
    )
    idempotency.remember(
        session, key=new.key, form="output", user=actor, result=f"lot:{lot.id}", clock=clock
    )
    return lot, False
