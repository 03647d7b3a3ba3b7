"""Demo data for `make run` and the browser tests; idempotent (a second run changes nothing)."""

from __future__ import annotations

from sqlmodel import Session

from app.services.accounts.auth import find_user
from app.services.accounts.users import NewUser, create_user
from app.services.core.actors import Actor, SystemActor
from app.services.core.clock import Clock
from app.services.demo import master as demo_master
from app.services.demo import recipes as demo_recipes
from app.services.esign import signers
from app.services.masterdata import documents

DEMO_PASSWORD = "demo-batchbook"  # noqa: S105 - printed by `make run`; demo mode only

# (username, printed name, roles) - SCENARIOS.md
DEMO_PEOPLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("olivia", "Olivia Okafor", ("operator",)),
    ("omar", "Omar Haddad", ("operator",)),
    ("otto", "Otto Lindqvist", ("operator",)),
    ("walt", "Walter Brandt", ("warehouse",)),
    ("quinn", "Quinn Adeyemi", ("qa",)),
    ("sam", "Samira Novak", ("supervisor",)),
    ("ada", "Ada Ferreira", ("admin", "qa")),
)


DEMO_DOCUMENTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "SOP-QA-001",
        "Good documentation practice",
        "3",
        "Record every entry at the time of the activity, in the system, yourself. Never record for "
        "someone else. Correct an entry by superseding it with a reason; never hide the original.",
    ),
    (
        "SOP-PR-014",
        "Line clearance before a batch",
        "5",
        "Before a new batch, remove all materials, labels and documents of the previous product, "
        "check the equipment is clean and within its calibration, and record the check.",
    ),
)


def seed_demo(session: Session, *, actor: Actor, clock: Clock) -> list[str]:
    """Create whatever demo data is missing; returns what was created (empty on a re-run).

    Demo people get their identity check recorded by Ada (the demo admin; hers by the installer).
    Nobody's e-signature
    acknowledgement is seeded: a signature is only ever made by its signer.
    """
    created = []
    for username, full_name, roles in DEMO_PEOPLE:
        if find_user(session, username) is None:
            create_user(
                session,
                actor=actor,
                new=NewUser(username, full_name, roles, DEMO_PASSWORD),
                clock=clock,
            )
            created.append(f"user {username}")
    ada = find_user(session, "ada")
    for username, _name, _roles in DEMO_PEOPLE:
        person = find_user(session, username)
        if person is None:
            continue
        if signers.status(session, person, clock=clock).identity_check is None:
            # Ada (admin) checked everyone else; Ada herself was checked at installation (CLI).
            verifier = actor if ada is None or person.id == ada.id else ada
            signers.record_identity_check(
                session,
                actor=verifier,
                user_id=person.id,  # type: ignore[arg-type]
                document_type="Employee badge (demo)",
                document_reference=f"DEMO-{username.upper()}",
                clock=clock,
            )
            created.append(f"identity check {username}")
    existing = {d.code for d in documents.list_documents(session)}
    for code, title, revision, body in DEMO_DOCUMENTS:
        if code not in existing:
            documents.add_document(
                session,
                actor=ada or actor,
                code=code,
                title=title,
                revision=revision,
                body=body,
                clock=clock,
            )
            created.append(f"document {code}")
    created += demo_master.seed_master_data(session, actor=actor, clock=clock)
    if isinstance(actor, SystemActor):
        created += demo_master.seed_opening_stock(session, actor=actor, clock=clock)
        created += demo_recipes.seed_recipes(session, actor=actor, clock=clock)
    return created
