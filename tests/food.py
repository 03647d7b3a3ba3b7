"""A food plant for the FSMA 204 tests: the demo plant plus fresh basil, an FTL herb."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Session

from app.models import Lot, Party, User
from app.services.accounts.auth import find_user
from app.services.demo import seed_demo
from app.services.masterdata import materials, parties
from app.services.masterdata.materials import MaterialIn
from app.services.masterdata.parties import PartyIn
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import at
from tests.conftest import SYSTEM
from tests.signing import NOW

BASIL_GTIN = "09501101530027"
BASIL = MaterialIn(
    "RM-BASIL", "Fresh basil", "raw", "kg", gtin=BASIL_GTIN, shelf_life_days="10",
    on_traceability_list=True, ftl_category="herbs", pack_size="1 kg", pack_style="clamshell",
)  # fmt: skip
EXPIRY = date(2026, 12, 1)


def _party(code: str, name: str, **extra: object) -> PartyIn:
    return PartyIn(
        code, "supplier", name, "+1 831 555 0100", "1 Field Road", "Salinas", "CA", "93901",
        "US", **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def food_plant(session: Session) -> User:
    """The demo plant plus fresh basil (an FTL herb) from a distributor (Herbco, whose lot
    numbers are not TLCs) and from a grower that packs it (whose lot number is its TLC)."""
    seed_demo(session, actor=SYSTEM, clock=at(NOW))
    ada = find_user(session, "ada")
    assert ada is not None
    basil = materials.create_material(session, actor=ada, new=BASIL, clock=at(NOW))
    parties.create_party(
        session, actor=ada, new=_party("SUP-HERBCO", "Herbco Distribution"), clock=at(NOW)
    )
    parties.create_party(
        session, actor=ada, clock=at(NOW),
        new=_party("SUP-GROWER", "Salinas Valley Growers", lot_is_tlc=True, fei="3009876543"),
    )  # fmt: skip
    for code in ("SUP-HERBCO", "SUP-GROWER"):
        materials.approve_supplier(
            session,
            actor=ada,
            material_id=basil.id,
            party_code=code,
            clock=at(NOW),  # type: ignore[arg-type]
        )
    return find_user(session, "walt")  # type: ignore[return-value]


def receive(session: Session, walt: User, supplier: str = "SUP-HERBCO", **kde: object) -> Lot:
    lot, _ = receipt.receive(
        session,
        actor=walt,
        new=ReceiptIn(
            "RM-BASIL", supplier, kde.pop("supplier_lot", "HB-4471"), "20", EXPIRY,  # type: ignore[arg-type]
            key=uuid.uuid4().hex, **kde,  # type: ignore[arg-type]
        ),
        clock=at(NOW),
    )  # fmt: skip
    return lot


def party(session: Session, code: str) -> Party:
    found = parties.get_by_code(session, code)
    assert found is not None
    return found
