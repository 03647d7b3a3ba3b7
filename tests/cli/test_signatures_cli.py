"""`batchbook signatures verify`: re-checks stored signatures and names each one that fails."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from app import migrate
from app.db import Database
from app.services.esign import signatures
from tests.clock import CLOCK, at
from tests.conftest import SYSTEM
from tests.signing import (
    NOW,
    POLICY,
    RP,
    acknowledge,
    answer_with_passkey,
    effective_sop,
    enrol,
    rewrite_sop_text,
)
from tests.soft_authenticator import SoftAuthenticator

BATCHBOOK = str(Path(sys.executable).parent / "batchbook")


def _run(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "test",
        "BATCHBOOK_INSTANCE": str(tmp_path),
        "WEBAUTHN_RP_ID": RP.id,
        "WEBAUTHN_ORIGIN": RP.origins[0],
    }
    return subprocess.run([BATCHBOOK, *args], env=env, capture_output=True, text=True, timeout=60)


def _signed_sop(url: str) -> tuple[int, int]:
    """A database with one SOP signed by passkey and one acknowledgement signed by password."""
    from app.services.accounts.users import NewUser, create_user
    from app.services.esign import signers

    db = Database(url)
    with db.session_scope() as s:
        admin = create_user(
            s,
            actor=SYSTEM,
            new=NewUser("boss", "Bo Boss", ("admin",), "long-enough-pw"),
            clock=CLOCK,
        )
        qa = create_user(
            s,
            actor=SYSTEM,
            new=NewUser("qa1", "Quinn QA", ("qa",), "correct-horse-battery"),
            clock=CLOCK,
        )
        signers.record_identity_check(
            s,
            actor=admin,
            user_id=qa.id,
            document_type="passport",
            document_reference="P",
            clock=at(NOW),
        )  # type: ignore[arg-type]
        acknowledge(s, qa)  # with a password, before the passkey (then the passkey signs)
        authenticator = SoftAuthenticator()
        enrol(s, admin, qa, authenticator)
        sop = effective_sop(s, admin, code="SOP-1", title="T", revision="1", body="Body")
        request = signatures.begin_signing(
            s,
            signer=qa,
            record_type="sop",
            record_id=str(sop.id),
            meaning="read_and_understood",
            rp=RP,
            policy=POLICY,
            clock=at(NOW),
        )
        sig = answer_with_passkey(
            s, qa, request.challenge_id, authenticator.get_assertion(request.passkey_options)
        )
        ids = (sop.id, sig.id)
    db.engine.dispose()
    return ids  # type: ignore[return-value]


def test_verify_passes_then_names_the_signature_whose_record_changed(
    backend: str, fresh_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = fresh_database(backend)
    migrate.upgrade(url)
    sop_id, sig_id = _signed_sop(url)

    ok = _run(url, tmp_path, "signatures", "verify", "--all")
    assert ok.returncode == 0, ok.stderr
    assert "All 2 signatures verified." in ok.stdout
    assert _run(url, tmp_path, "signatures", "verify", "--record", f"sop:{sop_id}").returncode == 0

    db = Database(url)
    with db.engine.begin() as conn:  # behind the app's back: no audit, no service
        rewrite_sop_text(conn, sop_id, "Tampered")
    db.engine.dispose()
    bad = _run(url, tmp_path, "signatures", "verify", "--all")
    assert bad.returncode == 1
    assert (
        f"FAILED signature #{sig_id} on sop {sop_id}: the record was changed after it was signed"
        in bad.stderr
    )


def test_verify_needs_a_scope_and_an_unknown_batch_fails(
    backend: str, fresh_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = fresh_database(backend)
    migrate.upgrade(url)
    usage = _run(url, tmp_path, "signatures", "verify")
    assert usage.returncode == 2
    assert "exactly one of --batch" in usage.stderr
    unknown = _run(url, tmp_path, "signatures", "verify", "--batch", "NO-SUCH")
    assert unknown.returncode == 1
    assert "No signatures matched" in unknown.stderr


def test_a_fresh_demo_holds_signatures_and_every_one_verifies(
    backend: str, fresh_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = fresh_database(backend)
    migrate.upgrade(url)
    seeded = _run(url, tmp_path, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr

    verified = _run(url, tmp_path, "signatures", "verify", "--all")

    assert verified.returncode == 0, verified.stderr
    # Ada's and Quinn's acknowledgements, Quinn's approval of the two SOPs, authored + approved
    # on VC500 A, B and FS-200 C, and Quinn's release of the three opening-stock lots and of
    # ASC-2611-07 (story 1 step 2).
    assert "All 14 signatures verified." in verified.stdout
