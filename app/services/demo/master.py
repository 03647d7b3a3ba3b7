"""Demo materials, parties and equipment for the two stories of SCENARIOS.md (idempotent)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from app.models import Lot, LotStatus, User
from app.services.accounts.auth import find_user
from app.services.core.actors import Actor, SystemActor
from app.services.core.clock import Clock
from app.services.demo import quality as demo_quality
from app.services.demo.signing import DemoSigning
from app.services.masterdata import equipment, materials, parties
from app.services.masterdata.equipment import EquipmentIn
from app.services.masterdata.materials import MaterialIn
from app.services.masterdata.parties import PartyIn
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn

MATERIALS = (
    # Raw materials carry their supplier's GTIN, so scanning the supplier label finds them.
    MaterialIn("RM-ASC", "Ascorbic acid", "raw", "kg", gtin="04012345000016",
               shelf_life_days="1095", dietary_ingredient=True),
    MaterialIn("RM-MCC", "Microcrystalline cellulose", "raw", "kg", gtin="04012345000023",
               shelf_life_days="1825"),
    MaterialIn("RM-MGS", "Magnesium stearate", "raw", "kg", gtin="04012345000030",
               shelf_life_days="1095"),
    MaterialIn("VC500", "Vitamin C 500 mg tablets", "finished", "tablets", gtin="09501101020917",
               shelf_life_days="730"),
    MaterialIn("PCBA-200", "PCB assembly FS-200", "component", "pcs", tracking="serial"),
    MaterialIn("HSG-200", "Housing FS-200", "component", "pcs"),
    MaterialIn("SE-10", "Sensor element SE-10", "component", "pcs"),
    MaterialIn("FW-200", "Firmware FS-200", "component", "pcs"),
    MaterialIn("FS-200", "Flow sensor", "finished", "pcs", tracking="serial"),
)  # fmt: skip

# The food ingredient suppliers declare their lot number (GS1 AI 10) to be the traceability lot
# code they assign: their lots keep it as the TLC, with the supplier as TLC source (FSMA 204).
PARTIES = (
    PartyIn("SUP-NORTHBRIDGE", "supplier", "Northbridge Ingredients GmbH", "+49 40 3861 2200",
            "Hafenstraße 41", "Hamburg", "Hamburg", "20457", "DE", gln="4012345000009",
            lot_is_tlc=True),
    PartyIn("SUP-CELLUTEC", "supplier", "Cellutec Excipients Ltd", "+353 21 455 0190",
            "Unit 7, Ringaskiddy Business Park", "Cork", "Co. Cork", "P43 X290", "IE",
            lot_is_tlc=True),
    PartyIn("SUP-LUBRICHEM", "supplier", "Lubrichem Specialties Inc.", "+1 973 555 0142",
            "220 Industrial Way", "Paterson", "NJ", "07501", "US", fei="3012345678",
            url="https://lubrichem.example/traceability", lot_is_tlc=True),
    PartyIn("SUP-CIRCUITRY", "supplier", "Circuitry Works s.r.o.", "+420 541 002 300",
            "Technická 12", "Brno", "South Moravia", "616 00", "CZ"),
    PartyIn("SUP-POLYFORM", "supplier", "Polyform Mouldings BV", "+31 40 250 8800",
            "Ekkersrijt 4110", "Son", "North Brabant", "5692 DA", "NL"),
    PartyIn("SUP-SENSIQ", "supplier", "SensIQ Elements AG", "+41 44 500 3100",
            "Binzstrasse 23", "Zürich", "ZH", "8045", "CH"),
    PartyIn("CUST-GREENLEAF", "customer", "Greenleaf Pharmacy", "+1 503 555 0187",
            "1420 NW Lovejoy Street", "Portland", "OR", "97209", "US"),
    PartyIn("SITE-MAIN", "site", "Batchbook Demo Manufacturing LLC", "+1 608 555 0100",
            "500 Science Drive", "Madison", "WI", "53711", "US",
            fda_registration="12345678901", gln="0614141000005"),
)  # fmt: skip

SUPPLIED_BY = {
    "RM-ASC": "SUP-NORTHBRIDGE",
    "RM-MCC": "SUP-CELLUTEC",
    "RM-MGS": "SUP-LUBRICHEM",
    "PCBA-200": "SUP-CIRCUITRY",
    "HSG-200": "SUP-POLYFORM",
    "SE-10": "SUP-SENSIQ",
    "FW-200": "SUP-CIRCUITRY",
}

# code, name, kind, needs cleaning, calibration: (certificate, days since performed, days due)
EQUIPMENT = (
    ("BL-01", "Blender 1", "blender", True, ("CAL-BL01-2025-10", 400, -30)),  # overdue
    ("BL-02", "Blender 2", "blender", True, ("CAL-BL02-2026-06", 150, 215)),
    ("SC-01", "Floor scale 60 kg", "scale", True, ("CAL-SC01-2026-09", 60, 120)),
    ("PR-01", "Tablet press", "press", True, ("CAL-PR01-2026-05", 180, 185)),
    ("TR-01", "Flow test rig", "test_rig", False, ("CAL-TR01-2026-03", 240, 125)),
)


# lot code, material, supplier, supplier lot, kg, expiry, received days ago (on paper),
# containers
OPENING_STOCK = (
    # SCENARIOS story 1: released, but expired. Quinn releases it at seed time although its
    # expiry has passed (the story needs a released lot that expiry still blocks).
    ("ASC-2409-02", "RM-ASC", "SUP-NORTHBRIDGE", "S-77120", "40", date(2026, 9, 30), 800, 2),
    ("MCC-2610-01", "RM-MCC", "SUP-CELLUTEC", "CT-55102", "60", date(2029, 3, 31), 40, 3),
    ("MGS-2610-01", "RM-MGS", "SUP-LUBRICHEM", "LC-9034", "5", date(2028, 8, 31), 40, 1),
    # Story 1 steps 1-2: received by Walter into quarantine; Quinn samples two containers,
    # tests identity by FTIR, takes the assay from the qualified supplier's certificate and
    # releases it.
    ("ASC-2611-07", "RM-ASC", "SUP-NORTHBRIDGE", "S-88231", "60", date(2028, 5, 31), 2, 2),
)  # fmt: skip


def seed_opening_stock(session: Session, *, actor: SystemActor, signing: DemoSigning) -> list[str]:
    """Lots on the shelf at go-live, received on paper by Walter (the demo's warehouse person);
    they come in under quarantine, and Quinn (QA) samples, tests and releases each with her
    signature.

    Needs Walter, Quinn and the demo materials; without them it does nothing.
    """
    clock = signing.clock
    walt, quinn = find_user(session, "walt"), find_user(session, "quinn")
    if walt is None or quinn is None:
        return []
    created: list[str] = []
    created += demo_quality.seed_specifications(session, qa=quinn, clock=clock)
    for code, material, supplier, supplier_lot, qty, expiry, ago, containers in OPENING_STOCK:
        if session.exec(select(Lot).where(Lot.lot_code == code)).first() is not None:
            continue
        lot = receipt.bring_in_opening_stock(
            session,
            actor=actor,
            new=ReceiptIn(material, supplier, supplier_lot, qty, expiry, str(containers)),
            received_by=walt,
            received_at=clock.now() - timedelta(days=ago),
            status=LotStatus.QUARANTINE,
            reference=f"paper goods-in record of {code}, QC decision pending (demo data)",
            lot_code=code,
            clock=clock,
        )
        demo_quality.test_and_release(
            session, lot, containers=containers, warehouse=walt, qa=quinn, signing=signing
        )
        created.append(f"lot {code} (tested and released by quinn)")
    return created


def seed_master_data(session: Session, *, actor: Actor, clock: Clock) -> list[str]:
    """Create the demo master data that is missing; returns what was created.

    Equipment gets its calibration (BL-01 overdue since a month before `now`) and, when someone
    can be named as the cleaner, a cleaning after VC500, recorded by that person as they do it.

    Raises:
        PermissionDenied: the actor is neither admin nor QA (and something is missing).
    """
    created: list[str] = []
    for material in MATERIALS:
        if materials.get_by_code(session, material.code) is None:
            materials.create_material(session, actor=actor, new=material, clock=clock)
            created.append(f"material {material.code}")
    for party in PARTIES:
        if parties.get_by_code(session, party.code) is None:
            parties.create_party(session, actor=actor, new=party, clock=clock)
            created.append(f"party {party.code}")
    for material_code, party_code in SUPPLIED_BY.items():
        material = materials.get_by_code(session, material_code)  # type: ignore[assignment]
        assert material is not None
        if not any(p.code == party_code for p in materials.suppliers_of(session, material.id)):  # type: ignore[attr-defined]
            materials.approve_supplier(
                session,
                actor=actor,
                material_id=material.id,  # type: ignore[attr-defined]
                party_code=party_code,
                clock=clock,
            )
            created.append(f"supplier {party_code} for {material_code}")
    # A cleaning is recorded by the person who cleaned, at the time: Olivia (the demo operator)
    # when she exists, else the person seeding; the CLI's system actor cleans nothing, so then
    # cleanings are left out.
    cleaner = find_user(session, "olivia") or (actor if isinstance(actor, User) else None)
    for code, name, kind, needs_cleaning, (certificate, done, due) in EQUIPMENT:
        if equipment.get_by_code(session, code) is not None:
            continue
        item = equipment.create_equipment(
            session,
            actor=actor,
            # A month's hold keeps the demo usable for a while after `make run` seeded it.
            new=EquipmentIn(
                code, name, kind, needs_cleaning=needs_cleaning, clean_hold_hours="720"
            ),
            clock=clock,
        )
        equipment.record_calibration(
            session,
            actor=actor,
            equipment_id=item.id,  # type: ignore[arg-type]
            certificate=certificate,
            performed_on=clock.today() - timedelta(days=done),
            due_on=clock.today() + timedelta(days=due),
            clock=clock,
        )
        if needs_cleaning and cleaner is not None:
            equipment.record_cleaning(
                session,
                actor=cleaner,
                equipment_id=item.id,  # type: ignore[arg-type]
                last_product="VC500",
                clock=clock,
            )
        created.append(f"equipment {code}")
    return created
