"""Passkeys: two-person enrolment by one-time link, registration, sign-in, revocation; devices.

Enrolment (§11.100(b), §11.300(c), REGULATORY R3/R4): an admin who has checked a person's identity
issues a one-time link that only that person can redeem. A browser an admin registered as a
*shared* floor device refuses platform passkeys (a shared unlock PIN would let anyone use them).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from app.models import Alert, Ceremony, Device, EnrolmentLink, Passkey, Role, User
from app.services.accounts.auth import LockoutPolicy, record_sign_in, sign_in_refusal
from app.services.core import audit
from app.services.core.actors import Actor, require_role
from app.services.core.clock import Clock
from app.services.core.errors import (
    NotFound,
    PermissionDenied,
    Rejected,
    SignatureRefused,
    Violation,
    require,
)
from app.services.core.text import max_length, read_reason, read_text
from app.services.esign import signers
from app.services.esign import webauthn as wa

ENROLMENT_LINK_LIFETIME = timedelta(hours=24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_passkeys(session: Session, user_id: int) -> list[Passkey]:
    return list(
        session.exec(
            select(Passkey)
            .where(Passkey.user_id == user_id, col(Passkey.revoked_at).is_(None))
            .order_by(col(Passkey.id))
        )
    )


def list_passkeys(session: Session, *, viewer: Actor, user_id: int) -> list[Passkey]:
    """All passkeys of a user, revoked ones too. Raises PermissionDenied (self or admin only)."""
    if not (isinstance(viewer, User) and viewer.id == user_id):
        require_role(viewer, Role.ADMIN, action="see other people's passkeys")
    return list(
        session.exec(select(Passkey).where(Passkey.user_id == user_id).order_by(col(Passkey.id)))
    )


def usable_passkey(session: Session, *, credential_id: str, owner: User | None) -> Passkey:
    """The registered, unrevoked passkey with this id (of `owner`, when given).

    Raises:
        SignatureRefused: unknown, revoked, or someone else's passkey.
    """
    passkey = session.exec(select(Passkey).where(Passkey.credential_id == credential_id)).first()
    if passkey is None:
        raise SignatureRefused("This passkey is not registered in Batchbook.")
    if passkey.revoked_at is not None:
        raise SignatureRefused("This passkey was revoked and can no longer sign.")
    if owner is not None and passkey.user_id != owner.id:
        raise SignatureRefused("This passkey belongs to another person.")
    return passkey


def record_use(session: Session, *, passkey: Passkey, sign_count: int, clock: Clock) -> None:
    now = clock.now()
    passkey.sign_count = sign_count
    passkey.last_used_at = now
    session.add(passkey)
    session.flush()


def issue_enrolment_link(
    session: Session, *, actor: User, user_id: int, clock: Clock
) -> tuple[EnrolmentLink, str]:
    """A one-time link for `user_id` to enrol a passkey; returns it and its secret token.

    Raises:
        PermissionDenied: not an admin, or for oneself. NotFound: no user. Rejected: identity
            not checked yet.
    """
    require_role(actor, Role.ADMIN, action="issue passkey enrolment links")
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(f"There is no active user with id {user_id}.")
    if user.id == actor.id:
        # Two people for every enrolment (§11.200(a)(3)): nobody gives themselves a passkey.
        others = session.exec(
            select(User).where(
                col(User.roles).contains(Role.ADMIN.value), User.id != actor.id, User.active
            )
        ).first()
        raise PermissionDenied(
            "An admin's own passkey is enrolled through a link another admin issues: two people "
            "for every enrolment. "
            + (
                f"Ask {others.full_name} to issue yours."
                if others is not None
                else "There is no other active admin yet: the installer creates one first "
                "(batchbook user create --role admin)."
            )
        )
    if signers.status(session, user, clock=clock).identity_check is None:
        raise Rejected(
            [
                Violation(
                    "identity.missing",
                    f"Record a check of {user.full_name}'s identity before issuing "
                    "an enrolment link.",
                )
            ]
        )
    now = clock.now()
    older = session.exec(
        select(EnrolmentLink).where(
            EnrolmentLink.user_id == user.id,
            col(EnrolmentLink.redeemed_at).is_(None),
            col(EnrolmentLink.replaced_at).is_(None),
            col(EnrolmentLink.expires_at) > now,
        )
    ).all()
    for old in older:
        old.replaced_at = now
        session.add(old)
    token = secrets.token_urlsafe(32)
    link = EnrolmentLink(
        token_hash=hash_token(token),
        user_id=user.id,  # type: ignore[arg-type]
        issued_by_id=actor.id,  # type: ignore[arg-type]
        issued_at=now,
        expires_at=now + ENROLMENT_LINK_LIFETIME,
    )
    session.add(link)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="passkey.enrolment_link_issued",
        entity_type="user",
        entity_id=user.id,
        after={
            "link_id": link.id,
            "expires_at": link.expires_at,
            "replaces": [old.id for old in older],
        },
        clock=clock,
    )
    return link, token


def redeemable_link(session: Session, *, token: str, user: User, clock: Clock) -> EnrolmentLink:
    """The link behind `token` if `user` may redeem it now.

    Raises:
        NotFound: unknown link. PermissionDenied: the link is someone else's (the issuing admin
        included). Rejected: used or expired.
    """
    now = clock.now()
    link = session.exec(
        select(EnrolmentLink).where(EnrolmentLink.token_hash == hash_token(token))
    ).first()
    if link is None:
        raise NotFound("This enrolment link is not valid. Ask an admin for a new one.")
    if link.user_id != user.id:
        owner = session.get(User, link.user_id)
        raise PermissionDenied(
            f"This enrolment link belongs to {owner.full_name if owner else 'someone else'}; "
            "only they can use it, signed in as themselves."
        )
    if link.redeemed_at is not None:
        raise Rejected(
            [
                Violation(
                    "link.used", "This enrolment link was already used. Ask an admin for a new one."
                )
            ]
        )
    if link.replaced_at is not None:
        raise Rejected(
            [
                Violation(
                    "link.replaced",
                    "A newer enrolment link was issued for you; this one no longer works. "
                    "Use the newest link.",
                )
            ]
        )
    if link.expires_at < now:
        raise Rejected(
            [
                Violation(
                    "link.expired", "This enrolment link has expired. Ask an admin for a new one."
                )
            ]
        )
    return link


@dataclass(frozen=True)
class RegistrationStart:
    challenge_id: int
    options: str
    roaming_only: bool


def begin_registration(
    session: Session,
    *,
    user: User,
    token: str,
    device: Device | None,
    rp: wa.RelyingParty,
    clock: Clock,
) -> RegistrationStart:
    """Start enrolling a passkey through a one-time link. Raises as `redeemable_link`."""
    redeemable_link(session, token=token, user=user, clock=clock)
    challenge = wa.issue_challenge(
        session, ceremony=Ceremony.REGISTER, user_id=user.id, clock=clock
    )
    roaming_only = bool(device and device.shared)
    options = wa.registration_options(
        rp,
        user_id=user.id,  # type: ignore[arg-type]
        username=user.username,
        display_name=user.full_name,
        challenge=wa.base64url_to_bytes(challenge.challenge),
        existing=active_passkeys(session, user.id),  # type: ignore[arg-type]
        roaming_only=roaming_only,
    )
    return RegistrationStart(challenge.id, options, roaming_only)  # type: ignore[arg-type]


def finish_registration(
    session: Session,
    *,
    user: User,
    token: str,
    challenge_id: int,
    credential: dict[str, object],
    name: str,
    device: Device | None,
    rp: wa.RelyingParty,
    clock: Clock,
) -> Passkey:
    """Verify the new credential and store it; the link is then used up.

    Raises:
        SignatureRefused: the browser's answer does not verify, or a platform passkey on a
            shared device. Rejected/PermissionDenied/NotFound: as `redeemable_link`, or no name.
    """
    now = clock.now()
    link = redeemable_link(session, token=token, user=user, clock=clock)
    named: list[Violation] = []
    label = " ".join(read_text(name, field="name", label="passkey's name", problems=named).split())
    label = label[: max_length(Passkey, "name")]
    require(named)
    require(
        [] if label else [Violation("name.empty", "Name the passkey (e.g. “My phone”).", "name")]
    )
    row = wa.consume_challenge(
        session, challenge_id=challenge_id, ceremony=Ceremony.REGISTER, user_id=user.id, clock=clock
    )
    new = wa.verify_registration(rp, credential=credential, challenge=row.challenge)
    if device is not None and device.shared and new.is_platform:
        audit.record(
            session,
            actor=user,
            action="passkey.refused_shared_device",
            entity_type="device",
            entity_id=device.id,
            after={"user_id": user.id},
            clock=clock,
        )
        raise SignatureRefused(
            f"“{device.name}” is a shared floor device: a passkey stored on it could be used by "
            "anyone who unlocks it. Enrol a personal security key here, or use your own phone."
        )
    passkey = Passkey(
        user_id=user.id,  # type: ignore[arg-type]
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        name=label,
        attachment=new.attachment,
        transports=",".join(new.transports),
        aaguid=new.aaguid,
        created_at=now,
    )
    session.add(passkey)
    link.redeemed_at = now
    session.add(link)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="passkey.enrolled",
        entity_type="user",
        entity_id=user.id,
        after={
            "passkey_id": passkey.id,
            "name": label,
            "attachment": new.attachment,
            "device": device.name if device else None,
            "link_id": link.id,
        },
        clock=clock,
    )
    return passkey


def revoke_passkey(
    session: Session, *, actor: User, passkey_id: int, reason: str, clock: Clock
) -> Passkey:
    """Revoke one passkey (its owner, or an admin). Raises PermissionDenied, NotFound, Rejected."""
    passkey = session.get(Passkey, passkey_id)
    if passkey is None:
        raise NotFound(f"There is no passkey {passkey_id}.")
    if passkey.user_id != actor.id:
        require_role(actor, Role.ADMIN, action="revoke other people's passkeys")
    problems: list[Violation] = []
    reason = read_reason(
        reason, problems, limit=max_length(Passkey, "revoke_reason"),
        empty="Give a reason (e.g. phone lost).",
    )  # fmt: skip
    require(problems)
    if passkey.revoked_at is not None:
        raise Rejected([Violation("passkey.revoked", "This passkey is already revoked.")])
    now = clock.now()
    passkey.revoked_at = now
    passkey.revoked_by_id = actor.id
    passkey.revoke_reason = reason.strip()
    session.add(passkey)
    audit.record(
        session,
        actor=actor,
        action="passkey.revoked",
        entity_type="user",
        entity_id=passkey.user_id,
        after={"passkey_id": passkey.id, "name": passkey.name},
        reason=reason.strip(),
        clock=clock,
    )
    return passkey


def suspend_copied(session: Session, *, passkey: Passkey, why: str, clock: Clock) -> None:
    """A passkey that showed a clone's sign count: suspended (revoked, no person as revoker),
    an alert raised for the admins, audited. The owner's failure count is not touched: the
    copy is not the owner's attempt."""
    now = clock.now()
    passkey.revoked_at = now
    passkey.revoke_reason = "suspended: it may have been copied (its use count went back)"
    session.add(passkey)
    owner = session.get(User, passkey.user_id)
    who = f"{owner.full_name} ({owner.username})" if owner is not None else "?"
    alert = Alert(
        kind="passkey.copied",
        user_id=passkey.user_id,
        message=f"Passkey '{passkey.name}' of {who} may have been copied and was suspended. {why}"[
            :500
        ],
        raised_at=now,
    )
    session.add(alert)
    session.flush()
    audit.record(
        session,
        actor=None,
        action="passkey.suspended_copied",
        entity_type="user",
        entity_id=passkey.user_id,
        after={"passkey_id": passkey.id, "name": passkey.name, "alert_id": alert.id},
        reason=why,
        clock=clock,
    )


def begin_login(session: Session, *, rp: wa.RelyingParty, clock: Clock) -> tuple[int, str]:
    """Usernameless sign-in: any discoverable passkey may answer. Returns (challenge, options)."""
    challenge = wa.issue_challenge(session, ceremony=Ceremony.LOGIN, user_id=None, clock=clock)
    options = wa.authentication_options(
        rp, challenge=wa.base64url_to_bytes(challenge.challenge), allowed=[]
    )
    return challenge.id, options  # type: ignore[return-value]


def finish_login(
    session: Session,
    *,
    challenge_id: int,
    credential: dict[str, object],
    rp: wa.RelyingParty,
    policy: LockoutPolicy,
    clock: Clock,
) -> User:
    """Verify a passkey sign-in. Raises SignatureRefused (audited and kept)."""
    row = wa.consume_challenge(
        session, challenge_id=challenge_id, ceremony=Ceremony.LOGIN, user_id=None, clock=clock
    )
    try:
        assertion = wa.Assertion.parse(credential)
        passkey = usable_passkey(session, credential_id=assertion.credential_id, owner=None)
        user = session.get(User, passkey.user_id)
        assert user is not None  # a passkey always has its owner
        refusal = sign_in_refusal(user, policy=policy, clock=clock)
        if refusal:
            raise SignatureRefused(refusal)
        new_count = wa.verify_assertion(
            rp, assertion=assertion, challenge=row.challenge, passkey=passkey
        )
    except wa.PasskeyCopied as exc:
        suspend_copied(session, passkey=passkey, why=exc.message, clock=clock)
        raise
    except SignatureRefused as exc:
        audit.record(
            session,
            actor=None,
            action="login.failed",
            entity_type="passkey",
            entity_id=str(credential.get("id", "-"))[:120],
            after={"reason": exc.message, "method": "passkey"},
            clock=clock,
        )
        raise
    record_use(session, passkey=passkey, sign_count=new_count, clock=clock)
    record_sign_in(session, user=user, method="passkey", clock=clock, passkey_id=passkey.id)
    return user
