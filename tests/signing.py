"""Signing fixtures (a pytest plugin of the root conftest).

An admin, a QA signer activated for e-signing with a passkey, a demo SOP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, text
from sqlmodel import Session

from app.models import DocumentRevision, Lot, Meaning, Passkey, Role, Signature, User
from app.services.core.clock import Clock
from app.services.esign import passkeys, signable, signatures, signers
from app.services.esign import webauthn as wa
from app.services.masterdata import document_approval, documents
from tests.clock import CLOCK, NOW, at
from tests.conftest import PASSWORD, SYSTEM
from tests.soft_authenticator import SoftAuthenticator

RP = wa.RelyingParty(id="localhost", name="Batchbook", origins=("http://localhost",))
POLICY = signers.SigningPolicy(password_signing=True, max_failures=3, lock_seconds=600)


# Each test signer's passkey authenticator, by user id: helpers sign the way that person must.
PASSKEYS: dict[int, SoftAuthenticator] = {}


@dataclass
class Signer:
    user: User
    authenticator: SoftAuthenticator
    passkey: Passkey | None  # None: this person signs with user ID and password


def enrol(
    session: Session, admin: User, user: User, authenticator: SoftAuthenticator, device=None
) -> Passkey:  # type: ignore[no-untyped-def]
    _link, token = passkeys.issue_enrolment_link(
        session, actor=admin, user_id=user.id, clock=at(NOW)
    )  # type: ignore[arg-type]
    start = passkeys.begin_registration(
        session, user=user, token=token, device=device, rp=RP, clock=at(NOW)
    )
    return passkeys.finish_registration(
        session,
        user=user,
        token=token,
        challenge_id=start.challenge_id,
        credential=authenticator.register(start.options),
        name="Phone",
        device=device,
        rp=RP,
        clock=at(NOW),
    )


def acknowledge(session: Session, user: User) -> None:
    request = signatures.begin_signing(
        session,
        signer=user,
        record_type=signers.ACKNOWLEDGEMENT,
        record_id=str(user.id),
        meaning="acknowledged",
        rp=RP,
        policy=POLICY,
        clock=at(NOW),
    )
    signatures.sign_with_password(
        session,
        signer=user,
        challenge_id=request.challenge_id,
        username=user.username,
        password=PASSWORD,
        policy=POLICY,
        clock=at(NOW),
    )


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin", username="admin1", full_name="Ada Admin")


@pytest.fixture
def make_signer(
    session: Session, make_user: Callable[..., User], admin: User
) -> Callable[..., Signer]:
    def make(
        *roles: str,
        username: str | None = None,
        full_name: str | None = None,
        with_passkey: bool = True,
    ) -> Signer:
        """A person ready to sign: identity checked, acknowledgement signed, and (unless
        `with_passkey=False`, for the password fallback) a passkey enrolled."""
        user = make_user(*(roles or ("qa",)), username=username, full_name=full_name)
        signers.record_identity_check(
            session,
            actor=admin,
            user_id=user.id,
            document_type="passport",  # type: ignore[arg-type]
            document_reference="X1234567",
            clock=at(NOW),
        )
        acknowledge(session, user)  # before the passkey: afterwards the passkey must sign
        authenticator = SoftAuthenticator()
        if not with_passkey:
            PASSKEYS.pop(user.id, None)  # type: ignore[arg-type]
            return Signer(user, authenticator, None)
        passkey = enrol(session, admin, user, authenticator)
        PASSKEYS[user.id] = authenticator  # type: ignore[index]
        return Signer(user, authenticator, passkey)

    return make


@pytest.fixture
def sop(session: Session, admin: User) -> DocumentRevision:
    """SOP-QA-001 revision 3, effective (approved on paper before go-live: the approval
    signature is not what these tests are about, and would be one more signature on it)."""
    return effective_sop(
        session,
        admin,
        code="SOP-QA-001",
        title="Good documentation practice",
        revision="3",
        body="Record entries at the time of the activity.",
    )


# A record type for tests of meanings the demo SOP does not have (roles per meaning, reasons).
signable.PROVIDERS["test_record"] = "tests.signing"


@signable.register("test_record")
def _test_record(session: Session, record_id: str) -> signable.Signable:
    return signable.Signable(
        record_type="test_record",
        record_id=record_id,
        title=f"test record {record_id}",
        content={"value": "42"},
        meanings={
            Meaning.REVIEWED: frozenset(),
            Meaning.APPROVED: frozenset({Role.QA}),
            Meaning.REJECTED: frozenset({Role.QA}),
        },
    )


def answer_with_passkey(
    session: Session, signer: User, challenge_id: int, credential: object, *, clock: Clock = CLOCK
) -> Signature:
    """Finish a signing ceremony with a passkey assertion (the test RP and signing policy)."""
    return signatures.sign_with_passkey(
        session,
        signer=signer,
        challenge_id=challenge_id,
        credential=credential,  # type: ignore[arg-type]
        rp=RP,
        policy=POLICY,
        clock=clock,
    )


def sign_with_password(
    session: Session,
    signer: User,
    *,
    record_type: str,
    record_id: object,
    meaning: str,
    reason: str = "",
    clock: Clock = CLOCK,
) -> Signature:
    """Sign a record the whole ceremony through, the way this person must: with user ID and
    password, or with their passkey when they have one (then the password is refused)."""
    request = signatures.begin_signing(
        session,
        signer=signer,
        record_type=record_type,
        record_id=str(record_id),
        meaning=meaning,
        rp=RP,
        policy=POLICY,
        clock=clock,
        reason_code="investigation" if reason else None,
        reason_text=reason or None,
    )
    authenticator = PASSKEYS.get(signer.id)  # type: ignore[arg-type]
    if authenticator is not None and request.passkey_options is not None:
        return signatures.sign_with_passkey(
            session,
            signer=signer,
            challenge_id=request.challenge_id,
            credential=authenticator.get_assertion(request.passkey_options),  # type: ignore[arg-type]
            rp=RP,
            policy=POLICY,
            clock=clock,
        )
    return signatures.sign_with_password(
        session,
        signer=signer,
        challenge_id=request.challenge_id,
        username=signer.username,
        password=PASSWORD,
        policy=POLICY,
        clock=clock,
    )


def sign_lot(session: Session, signer: User, lot: Lot, meaning: str, reason: str = "") -> None:
    """A QC decision on a lot (released, rejected, held, hold_lifted), signed. Before a release
    the signer records passing QC evidence (the QC rules themselves are tested in test_qc)."""
    if meaning == "released" and signer.has_role(Role.QA) and signer.id != lot.received_by_id:
        from tests.quality import pass_qc

        pass_qc(session, lot, signer)
    sign_with_password(
        session, signer, record_type="lot", record_id=lot.id, meaning=meaning, reason=reason
    )


def rewrite_sop_text(connection: Connection | Session, revision_id: int, body: str) -> None:
    """Rewrite an effective SOP revision's text the way only an attacker holding the database
    could: as its owner, with the freeze trigger dropped, no service and no audit."""
    from tests.conftest import behind_the_apps_back

    postgres = (
        connection.get_bind() if isinstance(connection, Session) else connection
    ).dialect.name == "postgresql"
    with behind_the_apps_back(connection):
        connection.execute(
            text(
                "DROP TRIGGER document_revision_frozen ON document_revision"
                if postgres
                else "DROP TRIGGER document_revision_frozen"
            )
        )
        connection.execute(
            text("UPDATE document_revision SET body = :body WHERE id = :id"),
            {"body": body, "id": revision_id},
        )
    if isinstance(connection, Session):
        connection.expire_all()


def effective_sop(session: Session, admin: User, **fields: str) -> DocumentRevision:
    """A document brought in effective (paper approval), for tests about signing it."""
    draft = documents.add_document(session, actor=admin, clock=at(NOW), **fields)  # type: ignore[arg-type]
    documents.submit_for_review(session, actor=admin, revision_id=draft.id, clock=at(NOW))  # type: ignore[arg-type]
    return document_approval.approve_outside_the_system(
        session, actor=SYSTEM, revision_id=draft.id, reference="QA-PAPER", clock=at(NOW)
    )  # type: ignore[arg-type]
