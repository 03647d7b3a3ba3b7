"""How the demo people sign while the demo is seeded: themselves, with their demo password.

The seed plays the stories through the real services, so every approval and release it holds is
a real signature (Part 11 checks apply: identity checked, acknowledgement signed, right role),
made by the person whose name it carries, at the time the seed ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.models import Signature, User
from app.services.core.clock import Clock
from app.services.esign import signatures, signers
from app.services.esign import webauthn as wa

DEMO_PASSWORD = "demo-batchbook"  # noqa: S105 - printed by `make run`; demo mode only

# `make run` serves on localhost:8000. The relying party only shapes passkey options, and the
# demo people have no passkeys while the seed runs: they sign with user ID and password.
DEMO_RP = wa.RelyingParty(id="localhost", name="Batchbook", origins=("http://localhost:8000",))
DEMO_POLICY = signers.SigningPolicy(password_signing=True)


@dataclass(frozen=True)
class DemoSigning:
    """What a signing ceremony needs besides the signer: the plant's relying party and signing
    policy, and the seed's clock."""

    rp: wa.RelyingParty
    policy: signers.SigningPolicy
    clock: Clock

    def sign(
        self, session: Session, signer: User, *, record_type: str, record_id: object, meaning: str
    ) -> Signature:
        """The whole ceremony, as the signer would do it on screen: open the dialog on the live
        record, then re-enter user ID and password.

        Raises:
            PermissionDenied: the signer may not sign this (the plant signs with passkeys only,
                or a Part 11 check fails).
        """
        request = signatures.begin_signing(
            session,
            signer=signer,
            record_type=record_type,
            record_id=str(record_id),
            meaning=meaning,
            rp=self.rp,
            policy=self.policy,
            clock=self.clock,
        )
        return signatures.sign_with_password(
            session,
            signer=signer,
            challenge_id=request.challenge_id,
            username=signer.username,
            password=DEMO_PASSWORD,
            policy=self.policy,
            clock=self.clock,
        )

    def acknowledge(self, session: Session, person: User) -> bool:
        """The person's one-time e-signature acknowledgement, signed by themselves; False when
        it is already on record (or their identity has not been checked yet)."""
        status = signers.status(session, person, clock=self.clock)
        if status.acknowledgement is not None or status.identity_check is None:
            return False
        self.sign(
            session,
            person,
            record_type=signers.ACKNOWLEDGEMENT,
            record_id=person.id,
            meaning="acknowledged",
        )
        return True
