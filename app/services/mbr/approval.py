"""Review and approval of a revision: two signatures make it effective and supersede the last."""

from __future__ import annotations

from sqlalchemy import String, and_, cast
from sqlmodel import Session, col, select

from app.models import (
    AuditEvent,
    Meaning,
    Recipe,
    RecipeRevision,
    RevisionStatus,
    Role,
    Signature,
    StepKind,
    User,
)
from app.services.core.actors import Actor, SystemActor
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, PermissionDenied, Violation, require
from app.services.core.text import read_reason
from app.services.esign import signable
from app.services.mbr.drafts import editable_draft, require_author, transition
from app.services.mbr.reading import (
    AUTHORS,
    RECORD_TYPE,
    RevisionView,
    content,
    get_revision,
    load_revision,
)

APPROVERS = frozenset({Role.QA})  # who approves a revision by signature


def revisions_to_sign(session: Session, user: User) -> dict[Meaning, list[str]]:
    """The revisions in review that wait for `user`'s signature ("VC500 rev C"), by meaning,
    oldest first, in one query: "authored" on those they wrote that lack it, "approved" on
    those their author has signed and that they neither wrote nor signed as author (the rules
    signing enforces)."""
    waiting: dict[Meaning, list[str]] = {Meaning.AUTHORED: [], Meaning.APPROVED: []}
    if not (user.active and user.has_role(*AUTHORS, *APPROVERS)):
        return waiting
    rows = session.exec(
        select(RecipeRevision, col(Recipe.code), Signature)
        .join(Recipe, col(Recipe.id) == RecipeRevision.recipe_id)
        .outerjoin(
            Signature,
            and_(
                col(Signature.record_type) == RECORD_TYPE,
                col(Signature.record_id) == cast(RecipeRevision.id, String),
            ),
        )
        .where(RecipeRevision.status == RevisionStatus.IN_REVIEW.value)
        .order_by(col(RecipeRevision.submitted_at), col(RecipeRevision.id))
    )
    in_review: dict[int, tuple[RecipeRevision, str]] = {}
    signed: dict[int, dict[Meaning, int]] = {}
    for revision, code, signature in rows:
        in_review.setdefault(revision.id, (revision, code))  # type: ignore[arg-type]
        submitted = revision.submitted_at
        # Signatures made before the revision's last submission lapsed with its return.
        if signature is not None and submitted is not None and signature.signed_at >= submitted:
            made = signed.setdefault(revision.id, {})  # type: ignore[arg-type]
            made[Meaning(signature.meaning)] = signature.signer_id
    for revision_id, (revision, code) in in_review.items():
        made = signed.get(revision_id, {})
        title = f"{code} rev {revision.revision}"
        author = made.get(Meaning.AUTHORED)
        if author is None:
            if revision.created_by_id == user.id and user.has_role(*AUTHORS):
                waiting[Meaning.AUTHORED].append(title)
        elif user.has_role(*APPROVERS) and user.id not in (author, revision.created_by_id):
            waiting[Meaning.APPROVED].append(title)
    return waiting


def completeness_problems(view: RevisionView) -> list[Violation]:
    """What keeps a draft from going to review (all of it, in words)."""
    problems = []
    if not view.steps:
        problems.append(Violation("steps.empty", "The revision has no steps."))
    if not view.bom:
        problems.append(Violation("bom.empty", "The revision has no bill of materials."))
    for b in view.bom:
        if not b.line.step_code:
            problems.append(
                Violation(
                    "bom.step",
                    f"BOM line {b.material.code} does not name the step that consumes it.",
                )
            )
    for s in view.steps:
        if s.kind == StepKind.WEIGH and not s.bom:
            problems.append(
                Violation("step.bom", f"Weigh step {s.step.code} has no material to weigh.")
            )
    return problems


def submit_for_review(
    session: Session, *, actor: Actor, revision_id: int, clock: Clock
) -> RecipeRevision:
    """Freeze a complete draft for review.

    Raises:
        PermissionDenied: not admin or QA. Rejected: not a draft, or incomplete (every gap).
    """
    revision = editable_draft(session, actor, revision_id, "send master batch records to review")
    require(completeness_problems(load_revision(session, revision_id)))
    transition(session, actor, revision, RevisionStatus.IN_REVIEW, "submitted", clock=clock)
    return revision


def return_to_draft(
    session: Session, *, actor: Actor, revision_id: int, reason: str, clock: Clock
) -> RecipeRevision:
    """Send a revision in review back to its author; signatures made in review lapse.

    Raises:
        PermissionDenied: not admin or QA. Rejected: not in review, or no reason.
    """
    require_author(actor, "return master batch records to draft")
    revision = get_revision(session, revision_id)
    problems = []
    if revision.status != RevisionStatus.IN_REVIEW:
        problems.append(
            Violation("revision.status", "Only a revision in review can go back to draft.")
        )
    reason = read_reason(reason, problems)
    require(problems)
    transition(
        session, actor, revision, RevisionStatus.DRAFT, "returned_to_draft",
        reason=reason, clock=clock,
    )  # fmt: skip
    return revision


def review_signatures(session: Session, revision: RecipeRevision) -> dict[Meaning, Signature]:
    """The "authored" and "approved" signatures made during the current review."""
    if revision.submitted_at is None:
        return {}
    found: dict[Meaning, Signature] = {}
    for sig in session.exec(
        select(Signature)
        .where(Signature.record_type == RECORD_TYPE, Signature.record_id == str(revision.id))
        .order_by(col(Signature.id))
    ):
        if sig.signed_at >= revision.submitted_at:
            found[Meaning(sig.meaning)] = sig
    return found


def _rules(revision_id: int) -> signable.Rules:
    def rules(session: Session, signer: User, meaning: Meaning, _clock: Clock) -> list[Violation]:
        revision = get_revision(session, revision_id)
        if revision.status != RevisionStatus.IN_REVIEW:
            return [
                Violation(
                    "revision.status",
                    f"Revision {revision.revision} is "
                    f"{RevisionStatus(revision.status).label.lower()}; "
                    "only a revision in review is signed.",
                )
            ]
        signed = review_signatures(session, revision)
        if meaning in signed:
            return [
                Violation(
                    "revision.signed",
                    f"This revision already carries its “{meaning.label}” signature.",
                )
            ]
        if meaning == Meaning.APPROVED:
            author = signed.get(Meaning.AUTHORED)
            if author is None:
                return [
                    Violation("revision.unauthored", "The author signs first, then QA approves.")
                ]
            if signer.id in (author.signer_id, revision.created_by_id):
                return [
                    Violation(
                        "revision.own",
                        "You wrote this revision; a different QA person must approve it.",
                    )
                ]
        return []

    return rules


def _after_signing(session: Session, signature: Signature, clock: Clock) -> None:
    """The approval makes the revision effective and supersedes the one before it."""
    if signature.meaning != Meaning.APPROVED:
        return
    revision = get_revision(session, int(signature.record_id))
    _make_effective(session, revision, actor=session.get(User, signature.signer_id), clock=clock)  # type: ignore[arg-type]


def _make_effective(
    session: Session,
    revision: RecipeRevision,
    *,
    actor: Actor,
    clock: Clock,
    reason: str | None = None,
) -> None:
    previous = session.exec(
        select(RecipeRevision).where(
            RecipeRevision.recipe_id == revision.recipe_id,
            RecipeRevision.status == RevisionStatus.EFFECTIVE,
        )
    ).first()
    if previous is not None:
        transition(
            session, actor, previous, RevisionStatus.SUPERSEDED, "superseded",
            by=revision.revision, clock=clock,
        )  # fmt: skip
    transition(
        session,
        actor,
        revision,
        RevisionStatus.EFFECTIVE,
        "effective",
        reason=reason,
        clock=clock,
    )


def approve_outside_the_system(
    session: Session,
    *,
    actor: Actor,
    revision_id: int,
    reference: str,
    clock: Clock,
) -> RecipeRevision:
    """Bring in a revision approved on paper before go-live (a plant's migration; the demo's
    revisions are approved by signature).

    Only the system actor may do this, with the paper approval's reference; the audit trail and
    the revision page say so plainly. People approve through signatures.

    Raises:
        PermissionDenied: called for a person. Rejected: no reference, or not in review.
    """
    if not isinstance(actor, SystemActor):
        raise PermissionDenied("Revisions are approved by signature; only migration uses paper.")
    revision = get_revision(session, revision_id)
    problems = []
    if revision.status != RevisionStatus.IN_REVIEW:
        problems.append(Violation("revision.status", "Send the revision to review first."))
    if not reference.strip():
        problems.append(Violation("reference.empty", "Give the paper approval's reference."))
    require(problems)
    _make_effective(
        session,
        revision,
        actor=actor,
        clock=clock,
        reason=f"Approved outside the system: {reference}",
    )
    return revision


def paper_approval(session: Session, revision: RecipeRevision) -> str | None:
    """The reference of a paper approval, if this revision came in that way."""
    event = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == RECORD_TYPE,
            AuditEvent.entity_id == str(revision.id),
            AuditEvent.action == "mbr.effective",
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    if event is None or not (event.reason or "").startswith("Approved outside the system"):
        return None
    return event.reason


@signable.register(RECORD_TYPE)
def _load_signable(session: Session, record_id: str) -> signable.Signable:
    try:
        revision_id = int(record_id)
    except ValueError:
        raise NotFound(f"There is no recipe revision {record_id!r}.") from None
    view = load_revision(session, revision_id)
    return signable.Signable(
        record_type=RECORD_TYPE,
        record_id=str(revision_id),
        title=f"master batch record {view.title} — {view.recipe.name}",
        content=content(view),
        state={"status": view.revision.status},
        meanings={
            Meaning.AUTHORED: frozenset(AUTHORS),
            Meaning.APPROVED: APPROVERS,
        },
        rules=_rules(revision_id),
        after_signing=_after_signing,
        changes_page=True,
        lock=lambda s: _lock_revision(s, revision_id),
    )


def _lock_revision(session: Session, revision_id: int) -> RecipeRevision:
    """The revision row, locked for this transaction: two approvals never both make it effective."""
    revision = session.exec(
        select(RecipeRevision).where(RecipeRevision.id == revision_id).with_for_update()
    ).one()
    session.refresh(revision)
    return revision
