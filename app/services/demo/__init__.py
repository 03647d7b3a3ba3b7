"""Demo data for `make run` and the browser tests; idempotent (a second run changes nothing)."""

from __future__ import annotations

from sqlmodel import Session

from app.services.accounts.auth import find_user
from app.services.accounts.users import NewUser, create_user
from app.services.core.actors import Actor, SystemActor
from app.services.core.clock import Clock
from app.services.demo import master as demo_master
from app.services.demo import recipes as demo_recipes
from app.services.demo.signing import DEMO_PASSWORD, DEMO_POLICY, DEMO_RP, DemoSigning
from app.services.esign import signers
from app.services.esign import webauthn as wa
from app.services.masterdata import documents
from app.services.masterdata.documents import RECORD_TYPE as SOP

__all__ = ["DEMO_PASSWORD", "DEMO_PEOPLE", "seed_demo"]

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
# Who signs in the seeded stories: Ada authors the master batch records, Quinn approves them and
# releases the opening stock. Each signs their own acknowledgement first.
DEMO_SIGNERS = ("ada", "quinn")


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


def seed_demo(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    rp: wa.RelyingParty = DEMO_RP,
    policy: signers.SigningPolicy = DEMO_POLICY,
) -> list[str]:
    """Create whatever demo data is missing; returns what was created (empty on a re-run).

    The stories are played through the services at `clock`'s time, each step by the person the
    demo names (else by `actor`): the approvals and releases it holds are real signatures by
    their signers. `rp` and `policy` are the plant's (the CLI passes its settings).

    Raises:
        PermissionDenied: the policy allows passkeys only (the demo people sign by password).
    """
    signing = DemoSigning(rp, policy, clock)
    created = _people(session, actor=actor, clock=clock)
    created += _identity_checks(session, actor=actor, clock=clock)
    for username in DEMO_SIGNERS:
        person = find_user(session, username)
        if person is not None and signing.acknowledge(session, person):
            created.append(f"acknowledgement {username}")
    created += _documents(session, actor=actor, signing=signing)
    created += demo_master.seed_master_data(session, actor=actor, clock=clock)
    if isinstance(actor, SystemActor):
        created += demo_master.seed_opening_stock(session, actor=actor, signing=signing)
        created += demo_recipes.seed_recipes(session, actor=actor, signing=signing)
    return created


def _people(session: Session, *, actor: Actor, clock: Clock) -> list[str]:
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
    return created


def _identity_checks(session: Session, *, actor: Actor, clock: Clock) -> list[str]:
    """Ada's identity is checked by whoever installs (an admin may not check their own); then
    Ada, the demo admin, checks everyone else's."""
    ada = find_user(session, "ada")
    created = []
    order = sorted(DEMO_PEOPLE, key=lambda p: p[0] != "ada")  # Ada first: she checks the rest
    for username, _name, _roles in order:
        person = find_user(session, username)
        if person is None or signers.status(session, person, clock=clock).identity_check:
            continue
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
    return created


def _documents(session: Session, *, actor: Actor, signing: DemoSigning) -> list[str]:
    """The demo SOPs, through their lifecycle: Ada (the QA lead) writes each revision and sends
    it to review; Quinn approves it with her signature, which makes it effective."""
    existing = {d.document.code for d in documents.list_documents(session)}
    author = find_user(session, "ada") or actor
    approver = find_user(session, "quinn")
    clock = signing.clock
    created = []
    for code, title, revision, body in DEMO_DOCUMENTS:
        if code in existing:
            continue
        draft = documents.add_document(
            session, actor=author, code=code, title=title, revision=revision, body=body,
            clock=clock,
        )  # fmt: skip
        documents.submit_for_review(session, actor=author, revision_id=draft.id, clock=clock)  # type: ignore[arg-type]
        if approver is not None:
            signing.sign(session, approver, record_type=SOP, record_id=draft.id, meaning="approved")
        created.append(f"document {code}")
    return created
