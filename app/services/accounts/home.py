"""What each role's home page offers. Which role may do what is decided here, not in templates."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from app.models import Alert, Role, User
from app.services.esign import signers


@dataclass(frozen=True)
class Link:
    label: str
    endpoint: str


@dataclass(frozen=True)
class Panel:
    role: Role | None
    title: str
    summary: str
    links: list[Link] = field(default_factory=list)


def panels_for(user: User) -> list[Panel]:
    """One panel per role the user holds, in a fixed order."""
    audit = Link("Audit trail", "audit.index")
    mbr = Link("Master batch records", "recipes.index")
    trained = Link("Training", "training.index")
    master = [
        Link("Materials", "materials.index"),
        Link("Equipment", "equipment.index"),
        Link("Suppliers & customers", "parties.index"),
    ]
    catalogue = {
        Role.OPERATOR: Panel(
            Role.OPERATOR,
            "Floor work",
            "No batch is waiting for you at the moment.",
            [Link("Equipment status", "equipment.index")],
        ),
        Role.WAREHOUSE: Panel(
            Role.WAREHOUSE,
            "Warehouse",
            "Receive deliveries into quarantine, print labels, issue to batches.",
            [
                Link("Receive", "lots.receive_page"),
                Link("Pick for a batch", "lots.pick"),
                Link("Issue to a batch", "lots.issue_page"),
                Link("Lots", "lots.index"),
                Link("Finished goods in", "lots.output_page"),
                Link("Shipments", "shipments.index"),
            ],
        ),
        Role.QA: Panel(
            Role.QA,
            "Quality",
            "Lots to release, master batch records to approve; the audit trail of any record.",
            [Link("Lots", "lots.index"), mbr, *master, trained, audit],
        ),
        Role.SUPERVISOR: Panel(
            Role.SUPERVISOR,
            "Supervision",
            "Create batches from effective master batch records; follow the floor.",
            [Link("Batches", "batches.index"), trained, audit],
        ),
        Role.ADMIN: Panel(
            Role.ADMIN,
            "Administration",
            "Accounts, roles and the audit trail.",
            [
                Link("Users", "users.index"),
                Link("Devices", "devices.index"),
                mbr,
                *master,
                trained,
                audit,
            ],
        ),
    }
    everyone = Panel(
        None,
        "Signatures",
        "Your e-signing status and passkeys; SOPs to read and sign.",
        [
            Link("My signing & passkeys", "account.index"),
            Link("Documents (SOPs)", "documents.index"),
        ],
    )
    return [catalogue[role] for role in Role if role in user.role_set] + [everyone]


def alerts_for(session: Session, user: User) -> list[Alert]:
    """Open security alerts, for admins only (others see none)."""
    return signers.open_alerts(session, viewer=user) if user.has_role(Role.ADMIN) else []
