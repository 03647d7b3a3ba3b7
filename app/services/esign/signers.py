"""Who may sign (Part 11 §11.100, §11.300): identity checked by an admin, a signed acknowledgement,
not locked after failed signings. Failed signings raise alerts that admins see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.models import Alert, IdentityCheck, Meaning, Role, Signature, User
from app.services.accounts import web_sessions
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, PermissionDenied, Rejected, Violation, require
from app.services.core.quantities import read_whole_number
from app.services.core.text import max_length, read_reason, read_text
from app.services.esign import signable

ACKNOWLEDGEMENT = "esign_acknowledgement"


# Versioned wording; the signer's printed name is copied into the signature itself, so a later
# rename neither changes the statement nor invalidates the signature.
ACKNOWLEDGEMENT_STATEMENT = (
    "I acknowledge that my electronic signature in Batchbook is the legally binding equivalent "
    "of my handwritten signature, and that I alone will use it (21 CFR 11.100)."
)


@dataclass(frozen=True)
class SigningPolicy:
    password_signing: bool = True
    max_failures: int = 5
    lock_seconds: int = 30 * 60


@dataclass(frozen=True)
class SignerStatus:
    identity_check: IdentityCheck | None
    acknowledgement: Signature | None
    locked_until: datetime | None

    @property
    def active(self) -> bool:
        return self.identity_check is not None and self.acknowledgement is not None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None

    @property
    def missing_step(self) -> str | None:
        """The one step still missing before the person can sign: "identity" (an admin checks
        it), "acknowledgement" (they sign it themselves), or None."""
        if self.identity_check is None:
            return "identity"
        if self.acknowledgement is None:
            return "acknowledgement"
        return None

    @property
    def missing_step_sentence(self) -> str:
        """What to do next, in words (empty when nothing is missing)."""
        return MISSING_STEP.get(self.missing_step or "", "")

    @property
    def missing(self) -> list[str]:
        """The steps still missing before the person may sign, the next one first, in words
        (empty when signing is active): the two `signing_violations` asks for."""
        steps = []
        if self.identity_check is None:
            steps.append("an admin checks your identity (bring an identity document)")
        if self.acknowledgement is None:
            steps.append("you sign the one-time acknowledgement on your signing page")
        return steps


MISSING_STEP = {
    "identity": (
        "Electronic signing is not active for you yet. Next step: an admin checks your identity "
        "(bring an ID document); then you sign a one-time acknowledgement."
    ),
    "acknowledgement": (
        "Electronic signing is not active for you yet. One step is left: sign the one-time "
        "acknowledgement that your electronic signature is binding, on your signing page."
    ),
}

# Who records identity checks (and so activates other people's signing).
IDENTITY_CHECKERS = (Role.ADMIN,)


def may_check_identity(user: User) -> bool:
    return user.active and user.has_role(*IDENTITY_CHECKERS)


def awaiting_identity_check(session: Session, *, admin: User) -> list[str]:
    """The usernames of the active people whose identity nobody has checked yet, except
    `admin`'s own (another admin checks it), in one query."""
    checked = select(IdentityCheck.user_id)
    return list(
        session.exec(
            select(User.username)
            .where(col(User.active), col(User.id).not_in(checked), User.id != admin.id)
            .order_by(col(User.username))
        )
    )


def status(session: Session, user: User, clock: Clock) -> SignerStatus:
    """Where a user stands on e-signing."""
    now = clock.now()
    check = session.exec(
        select(IdentityCheck)
        .where(IdentityCheck.user_id == user.id)
        .order_by(col(IdentityCheck.id).desc())
    ).first()
    ack = session.exec(
        select(Signature).where(
            Signature.record_type == ACKNOWLEDGEMENT, Signature.record_id == str(user.id)
        )
    ).first()
    locked = user.signing_locked_until
    return SignerStatus(check, ack, locked if locked is not None and locked > now else None)


def record_identity_check(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    document_type: str,
    document_reference: str,
    clock: Clock,
) -> IdentityCheck:
    """An admin records that they saw proof of a person's identity (§11.100(b)).

    Raises:
        PermissionDenied: not an admin, or the admin is checking themselves.
        Rejected: document type or reference missing.
        NotFound: no such user.
    """
    require_role(actor, *IDENTITY_CHECKERS, action="record identity checks")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    if isinstance(actor, User) and actor.id == user.id:
        raise PermissionDenied(
            "Another admin must verify your identity; you cannot verify your own."
        )
    problems: list[Violation] = []
    document_type = read_text(
        document_type,
        field="document_type",
        label="identity document",
        problems=problems,
        limit=max_length(IdentityCheck, "document_type"),
        required=True,
        empty="Name the identity document seen (e.g. passport).",
    )
    document_reference = read_text(
        document_reference, field="document_reference", label="document's reference",
        problems=problems, limit=max_length(IdentityCheck, "document_reference"),
        required=True, code=True, empty="Enter the document's number or reference.",
    )  # fmt: skip
    require(problems)
    now = clock.now()
    check = IdentityCheck(
        user_id=user.id,  # type: ignore[arg-type]
        verified_by_id=actor.id if isinstance(actor, User) else None,
        verifier_name=actor.full_name if isinstance(actor, User) else actor.name,
        document_type=document_type.strip(),
        document_reference=document_reference.strip(),
        verified_at=now,
    )
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="esign.identity_checked",
        entity_type="user",
        entity_id=user.id,
        after={
            "document_type": check.document_type,
            "document_reference": check.document_reference,
        },
        clock=clock,
    )
    return check


def signing_violations(
    session: Session, *, signer: User, target: signable.Signable, meaning: Meaning, clock: Clock
) -> list[Violation]:
    """Every reason `signer` may not sign `target` with `meaning` now (empty when allowed)."""
    problems: list[Violation] = []
    if not signer.active:
        problems.append(Violation("signer.inactive", "This account is deactivated."))
    st = status(session, signer, clock=clock)
    if st.locked_until is not None:
        problems.append(
            Violation(
                "signer.locked",
                "Signing is locked for your account after repeated failed attempts "
                f"(until {clock.local(st.locked_until):%H:%M %Z}). An admin has been alerted.",
            )
        )
    if target.record_type == ACKNOWLEDGEMENT:
        if st.identity_check is None:
            problems.append(
                Violation("signer.identity", "An admin must first record a check of your identity.")
            )
        if st.acknowledgement is not None:
            problems.append(
                Violation("signer.acknowledged", "You have already signed the acknowledgement.")
            )
        if target.record_id != str(signer.id):
            problems.append(
                Violation(
                    "signer.other", "Only the person themselves can sign their acknowledgement."
                )
            )
    elif not st.active:
        problems.append(Violation("signer.not_activated", st.missing_step_sentence))
    roles = target.meanings.get(meaning)
    if roles is None:
        problems.append(
            Violation(
                "meaning.invalid",
                f"“{meaning.label}” is not a meaning this record can be signed with.",
            )
        )
    elif roles and not signer.has_role(*roles):
        needed = " or ".join(r.label for r in sorted(roles))
        problems.append(
            Violation("meaning.role", f"Only {needed} can sign “{meaning.label}” here.")
        )
    if target.rules is not None and roles is not None:
        problems.extend(target.rules(session, signer, meaning, clock))
    return problems


def record_failure(
    session: Session, *, signer: User, why: str, policy: SigningPolicy, clock: Clock
) -> str:
    """Count a failed signing; at the limit lock signing and raise an admin alert. Returns the
    sentence to show."""
    now = clock.now()
    signer.signing_failures += 1
    audit.record(
        session,
        actor=signer,
        action="signature.failed",
        entity_type="user",
        entity_id=signer.id,
        after={"failures": signer.signing_failures, "why": why},
        clock=clock,
    )
    if signer.signing_failures >= policy.max_failures:
        signer.signing_locked_until = now + timedelta(seconds=policy.lock_seconds)
        signer.signing_failures = 0
        alert = Alert(
            kind="signing.locked",
            user_id=signer.id,
            message=(
                f"Signing locked for {signer.full_name} ({signer.username}) after "
                f"{policy.max_failures} failed signing attempts. Last: {why}"
            ),
            raised_at=now,
        )
        session.add(alert)
        session.flush()
        audit.record(
            session,
            actor=signer,
            action="signing.locked",
            entity_type="user",
            entity_id=signer.id,
            after={"locked_until": signer.signing_locked_until, "alert_id": alert.id},
            clock=clock,
        )
        # Failed signings in a signed-in session: perhaps not its owner at the keyboard.
        web_sessions.end_all_for(
            session,
            user_id=signer.id,
            reason=web_sessions.LOCKED,
            clock=clock,
        )
        session.add(signer)
        session.flush()
        return (
            f"{why} Signing is now locked for your account after {policy.max_failures} failed "
            "attempts, and an admin has been alerted."
        )
    session.add(signer)
    session.flush()
    left = policy.max_failures - signer.signing_failures
    return f"{why} {left} attempt{'s' if left != 1 else ''} left before signing is locked."


def record_success(session: Session, *, signer: User) -> None:
    if signer.signing_failures:
        signer.signing_failures = 0
        session.add(signer)


def open_alerts(session: Session, *, viewer: Actor) -> list[Alert]:
    require_role(viewer, Role.ADMIN, action="see security alerts")
    return list(
        session.exec(
            select(Alert).where(col(Alert.acknowledged_at).is_(None)).order_by(col(Alert.id).desc())
        )
    )


def acknowledge_alert(session: Session, *, actor: User, alert_id: int, clock: Clock) -> Alert:
    """Raises PermissionDenied, NotFound, Rejected (already acknowledged)."""
    require_role(actor, Role.ADMIN, action="acknowledge security alerts")
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"There is no alert {alert_id}.")
    if alert.acknowledged_at is not None:
        raise Rejected([Violation("alert.done", "This alert was already acknowledged.")])
    now = clock.now()
    alert.acknowledged_at = now
    alert.acknowledged_by_id = actor.id
    session.add(alert)
    audit.record(
        session,
        actor=actor,
        action="alert.acknowledged",
        entity_type="alert",
        entity_id=alert.id,
        clock=clock,
    )
    return alert


def unlock_signing(
    session: Session, *, actor: Actor, user_id: int, reason: str, clock: Clock
) -> User:
    """Raises PermissionDenied, NotFound, Rejected (no reason)."""
    require_role(actor, Role.ADMIN, action="unlock signing")
    problems: list[Violation] = []
    reason = read_reason(reason, problems, empty="Give a reason.")
    require(problems)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    before = {"signing_locked_until": user.signing_locked_until}
    user.signing_locked_until = None
    user.signing_failures = 0
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="signing.unlocked",
        entity_type="user",
        entity_id=user.id,
        before=before,
        reason=reason.strip(),
        clock=clock,
    )
    return user


PASSWORD_EXCEPTION_MAX_HOURS = 72


def password_signing_refusal(
    session: Session, *, signer: User, policy: SigningPolicy, clock: Clock
) -> str | None:
    """Why `signer` may not sign with user ID and password now (None: they may). Password
    signing is a fallback for people without a passkey, not a way round user verification:
    whoever holds an active passkey signs with it, unless an admin allowed the fallback for a
    while (a lost phone)."""
    if not policy.password_signing:
        return "This plant signs with passkeys only; password signing is switched off."
    from app.services.esign.passkeys import active_passkeys

    if not active_passkeys(session, signer.id):  # type: ignore[arg-type]
        return None
    until = signer.password_signing_until
    if until is not None and until > clock.now():
        return None
    return (
        "You have a passkey: sign with it. User ID and password are only a fallback for people "
        "without one, or for a while when an admin allows it (e.g. a lost phone)."
    )


def allow_password_signing(
    session: Session, *, actor: Actor, user_id: int, hours: str, reason: str, clock: Clock
) -> User:
    """An admin lets a person with a passkey sign with user ID and password for some hours
    (at most 72), with a reason. Never for oneself.

    Raises:
        PermissionDenied: not an admin, or for oneself. NotFound: no such person.
        Rejected: no reason, or hours not a whole number from 1 to 72.
    """
    require_role(actor, Role.ADMIN, action="allow password signing")
    if isinstance(actor, User) and actor.id == user_id:
        raise PermissionDenied("Another admin must allow your own password signing.")
    problems: list[Violation] = []
    reason = read_reason(reason, problems, empty="Give a reason (e.g. phone lost).")
    span = read_whole_number(
        hours, field="hours", label="number of hours", problems=problems,
        high=PASSWORD_EXCEPTION_MAX_HOURS,
    )  # fmt: skip
    require(problems)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    before = {"password_signing_until": user.password_signing_until}
    user.password_signing_until = clock.now() + timedelta(hours=span or 0)
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="signing.password_allowed",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={"password_signing_until": user.password_signing_until},
        reason=reason.strip(),
        clock=clock,
    )
    return user


@signable.register(ACKNOWLEDGEMENT)
def _acknowledgement(session: Session, record_id: str) -> signable.Signable:
    user = session.get(User, int(record_id)) if record_id.isdigit() else None
    if user is None:
        raise NotFound(f"There is no user {record_id!r}.")
    return signable.Signable(
        record_type=ACKNOWLEDGEMENT,
        record_id=str(user.id),
        title="the one-time acknowledgement that your electronic signature is legally binding",
        content={
            "user_id": user.id,
            "username": user.username,
            "statement": ACKNOWLEDGEMENT_STATEMENT,
        },
        meanings={Meaning.ACKNOWLEDGED: frozenset()},
        changes_page=True,
    )
