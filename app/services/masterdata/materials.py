"""Materials: what is bought, made and shipped, and which suppliers are approved for each.

Admins and QA change master data; every change is audited with before and after values and a
reason; nothing is deleted (deactivate instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from biip import ParseError
from biip.gtin import Gtin
from sqlmodel import Session, col, or_, select

from app.models import Material, MaterialKind, MaterialSupplier, Party, PartyKind, Tracking
from app.services.core import audit, gs1
from app.services.core.actors import Actor
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Violation, require
from app.services.core.quantities import read_whole_number
from app.services.core.text import max_length, read_text
from app.services.masterdata import common as masterdata

MAX_SHELF_LIFE_DAYS = 20 * 366  # as far ahead as an expiry may be (core.dates.HORIZON_YEARS)
UNITS = ("kg", "g", "mg", "L", "mL", "pcs", "tablets", "capsules", "m")
# The Food Traceability List (FDA, 21 CFR 1 Subpart S), by the code a material stores: the
# category code and name the FSMA 204 product description carries.
FTL_CATEGORIES = {
    "cheese-fresh-soft": "Cheeses, fresh soft or soft unripened",
    "cheese-soft-ripened": "Cheeses, soft ripened or semi-soft",
    "cheese-other": "Cheeses, other than hard cheeses (all others)",
    "shell-eggs": "Shell eggs",
    "nut-butters": "Nut butters",
    "cucumbers": "Cucumbers (fresh)",
    "herbs": "Herbs (fresh)",
    "leafy-greens": "Leafy greens (fresh), including fresh-cut",
    "melons": "Melons (fresh)",
    "peppers": "Peppers (fresh)",
    "sprouts": "Sprouts (fresh)",
    "tomatoes": "Tomatoes (fresh)",
    "tropical-tree-fruits": "Tropical tree fruits (fresh)",
    "fresh-cut-fruits": "Fruits (fresh-cut)",
    "fresh-cut-vegetables": "Vegetables other than leafy greens (fresh-cut)",
    "finfish": "Finfish (fresh and frozen), including smoked",
    "crustaceans": "Crustaceans (fresh and frozen)",
    "molluscan-shellfish": "Molluscan shellfish, bivalves (fresh and frozen)",
    "deli-salads": "Ready-to-eat deli salads (refrigerated)",
}


@dataclass(frozen=True)
class MaterialIn:
    code: str
    name: str
    kind: str
    unit: str
    gtin: str = ""
    allergens: str = ""
    tracking: str = Tracking.LOT.value
    shelf_life_days: str = ""
    dietary_ingredient: bool = False
    on_traceability_list: bool = False
    ftl_category: str = ""
    pack_size: str = ""
    pack_style: str = ""


def normalise_gtin(raw: str) -> tuple[str | None, Violation | None]:
    """A GTIN-8/12/13/14 as its 14-digit form (how AI (01) carries it), or why it is not one."""
    text = re.sub(r"\s", "", raw or "")
    if not text:
        return None, None
    if not text.isdigit() or len(text) not in (8, 12, 13, 14):
        return None, Violation(
            "gtin.format", "A GTIN has 8, 12, 13 or 14 digits and nothing else.", "gtin"
        )
    try:
        return Gtin.parse(text).as_gtin_14(), None
    except ParseError as exc:
        words = gs1.wrong_check_digit("GTIN", text, typed=True) or f"Not a valid GTIN: {exc}"
        return None, Violation("gtin.check_digit", words, "gtin")


def _allergens(raw: str) -> str:
    return ",".join(sorted({a.strip().lower() for a in (raw or "").split(",") if a.strip()}))


def allergen_set(raw: str | None) -> frozenset[str]:
    """The allergens a material's `allergens` field lists, as `_allergens` stores them."""
    return frozenset(a for a in _allergens(raw or "").split(",") if a)


_values = masterdata.snapshot_of(
    "code", "name", "kind", "unit", "gtin", "allergens", "tracking", "shelf_life_days", "active",
    "dietary_ingredient",
    "on_traceability_list", "ftl_category", "pack_size", "pack_style",
)  # fmt: skip


def _traceability(new: MaterialIn, problems: list[Violation]) -> dict[str, Any]:
    """The FSMA 204 fields: an FTL food names its FTL category; the pack is free text."""
    category = (new.ftl_category or "").strip().lower()
    if new.on_traceability_list and not category:
        problems.append(
            Violation(
                "ftl_category.empty",
                "Choose the Food Traceability List category of this food.",
                "ftl_category",
            )
        )
    elif category and category not in FTL_CATEGORIES:
        problems.append(
            Violation(
                "ftl_category.unknown",
                "Choose a category of the Food Traceability List.",
                "ftl_category",
            )
        )
    elif category and not new.on_traceability_list:
        problems.append(
            Violation(
                "ftl_category.not_ftl",
                "An FTL category is for a food on the Food Traceability List: tick it, or "
                "leave the category empty.",
                "ftl_category",
            )
        )
    pack = {
        field: read_text(
            getattr(new, field), field=field, label=field.replace("_", " "), problems=problems,
            limit=max_length(Material, field),
        )
        or None
        for field in ("pack_size", "pack_style")
    }  # fmt: skip
    return {
        "on_traceability_list": bool(new.on_traceability_list),
        "ftl_category": category or None,
        **pack,
    }


def _check(
    session: Session, new: MaterialIn, *, current: Material | None
) -> tuple[list[Violation], dict[str, Any]]:
    code, problems = masterdata.code_problems(
        new.code,
        current=current.code if current else None,
        taken=lambda c: get_by_code(session, c),
        noun="a material",
    )
    name = read_text(
        new.name, field="name", label="material's name", problems=problems,
        limit=max_length(Material, "name"), required=True,
    )  # fmt: skip
    if new.kind not in {k.value for k in MaterialKind}:
        kinds = ", ".join(k.value for k in MaterialKind)
        problems.append(Violation("kind.unknown", f"Kind must be one of {kinds}.", "kind"))
    unit = read_text(
        new.unit, field="unit", label="unit of measure", problems=problems,
        limit=max_length(Material, "unit"), required=True, code=True,
        empty="Enter the unit of measure (kg, pcs ...).",
    )  # fmt: skip
    allergens = _allergens(
        read_text(new.allergens, field="allergens", label="allergens", problems=problems)
    )
    if len(allergens) > max_length(Material, "allergens"):
        limit = max_length(Material, "allergens")
        problems.append(
            Violation("allergens.length", f"List at most {limit} characters of allergens.",
                      "allergens")
        )  # fmt: skip
    gtin, gtin_problem = normalise_gtin(new.gtin)
    if gtin_problem:
        problems.append(gtin_problem)
    elif gtin:
        other = session.exec(select(Material).where(Material.gtin == gtin)).first()
        if other is not None and other is not current:
            problems.append(
                Violation("gtin.taken", f"GTIN {gtin} already belongs to {other.code}.", "gtin")
            )
    if new.tracking not in {t.value for t in Tracking}:
        problems.append(
            Violation("tracking.unknown", "Choose lot-controlled or serial-controlled.", "tracking")
        )
    shelf_life = None
    if (new.shelf_life_days or "").strip():
        shelf_life = read_whole_number(
            new.shelf_life_days, field="shelf_life_days", label="shelf life in days",
            problems=problems, high=MAX_SHELF_LIFE_DAYS,
        )  # fmt: skip
    values = {
        "code": code,
        "name": " ".join(name.split()),
        "kind": new.kind,
        "unit": unit,
        "gtin": gtin,
        "allergens": allergens,
        "tracking": new.tracking,
        "shelf_life_days": shelf_life,
        "dietary_ingredient": new.dietary_ingredient,
        **_traceability(new, problems),
    }
    return problems, values


def get_by_code(session: Session, code: str) -> Material | None:
    return session.exec(select(Material).where(Material.code == code.strip().upper())).first()


def get_by_gtin(session: Session, gtin: str) -> Material | None:
    normalised, problem = normalise_gtin(gtin)
    if problem or not normalised:
        return None
    return session.exec(select(Material).where(Material.gtin == normalised)).first()


def get_material(session: Session, material_id: int) -> Material:
    """Raises NotFound."""
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound(f"There is no material with id {material_id}.")
    return material


def list_materials(
    session: Session, *, search: str = "", include_inactive: bool = True
) -> list[Material]:
    """Materials by code; `search` matches code, name or GTIN anywhere, any case."""
    query = select(Material).order_by(Material.code)
    if search.strip():
        like = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                col(Material.code).ilike(like),
                col(Material.name).ilike(like),
                col(Material.gtin).ilike(like),
            )
        )
    if not include_inactive:
        query = query.where(Material.active)
    return list(session.exec(query))


def create_material(session: Session, *, actor: Actor, new: MaterialIn, clock: Clock) -> Material:
    """Raises PermissionDenied (admin or QA only) and Rejected (every bad field at once)."""
    masterdata.require_editor(actor)
    now = clock.now()
    problems, values = _check(session, new, current=None)
    require(problems)
    material = Material(**values, created_at=now)
    masterdata.create(
        session, actor=actor, row=material, entity_type="material", snapshot=_values, clock=clock
    )
    return material


def update_material(
    session: Session,
    *,
    actor: Actor,
    material_id: int,
    new: MaterialIn,
    reason: str,
    clock: Clock,
) -> Material:
    """Change a material (the audit trail keeps the old values and the reason).

    Raises:
        PermissionDenied, NotFound, Rejected.
    """
    masterdata.require_editor(actor)
    material = get_material(session, material_id)
    problems, values = _check(session, new, current=material)
    require(problems + masterdata.reason_problems(reason))
    masterdata.change(
        session,
        actor=actor,
        row=material,
        entity_type="material",
        values=values,
        snapshot=_values,
        reason=reason,
        clock=clock,
    )
    return material


def set_active(
    session: Session,
    *,
    actor: Actor,
    material_id: int,
    active: bool,
    reason: str,
    clock: Clock,
) -> Material:
    """Deactivate (or reactivate) a material; it stays for the records that name it.

    Raises:
        PermissionDenied, NotFound, Rejected (no reason, or already in that state).
    """
    masterdata.require_editor(actor)
    material = get_material(session, material_id)
    masterdata.set_flag(
        session,
        actor=actor,
        row=material,
        entity_type="material",
        flag="active",
        value=active,
        words=("active", "deactivated"),
        actions=("reactivated", "deactivated"),
        name=material.code,
        reason=reason,
        clock=clock,
    )
    return material


def suppliers_of(session: Session, material_id: int) -> list[Party]:
    return list(
        session.exec(
            select(Party)
            .join(MaterialSupplier, col(MaterialSupplier.party_id) == Party.id)
            .where(MaterialSupplier.material_id == material_id)
            .order_by(Party.business_name)
        )
    )


def approve_supplier(
    session: Session,
    *,
    actor: Actor,
    material_id: int,
    party_code: str,
    clock: Clock,
) -> MaterialSupplier:
    """Record a supplier as an approved source of a material.

    Raises:
        PermissionDenied, NotFound, Rejected (not a supplier, inactive, already approved).
    """
    masterdata.require_editor(actor)
    now = clock.now()
    material = get_material(session, material_id)
    party = session.exec(select(Party).where(Party.code == party_code.strip().upper())).first()
    problems = []
    if party is None:
        problems.append(Violation("party.unknown", f"There is no party {party_code!r}.", "party"))
    elif party.kind != PartyKind.SUPPLIER:
        problems.append(
            Violation("party.kind", f"{party.business_name} is not a supplier.", "party")
        )
    elif not party.active:
        problems.append(
            Violation("party.inactive", f"{party.business_name} is deactivated.", "party")
        )
    elif party in suppliers_of(session, material_id):
        problems.append(
            Violation(
                "party.linked",
                f"{party.business_name} is already approved for {material.code}.",
                "party",
            )
        )
    require(problems)
    assert party is not None
    link = MaterialSupplier(material_id=material.id, party_id=party.id, created_at=now)  # type: ignore[arg-type]
    session.add(link)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="material.supplier_approved",
        entity_type="material",
        entity_id=material.id,
        after={"supplier": party.code, "business_name": party.business_name},
        clock=clock,
    )
    return link
