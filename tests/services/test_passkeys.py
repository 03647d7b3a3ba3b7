"""Passkey enrolment (two-person, one-time link), shared devices, revocation, passkey sign-in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.models import User
from app.services.accounts.auth import LockoutPolicy
from app.services.core.errors import NotFound, PermissionDenied, Rejected, SignatureRefused
from app.services.esign import devices, passkeys, signers
from tests.clock import at
from tests.conftest import PASSWORD, SYSTEM, audit_actions
from tests.signing import NOW, RP, Signer, enrol
from tests.soft_authenticator import SoftAuthenticator


def _checked(session: Session, admin: User, user: User) -> None:
    signers.record_identity_check(
        session,
        actor=admin,
        user_id=user.id,
        document_type="ID card",
        document_reference="D-1",
        clock=at(NOW),
    )  # type: ignore[arg-type]


def test_enrolment_link_needs_an_identity_check_first(
    session: Session, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("qa")
    with pytest.raises(Rejected, match="identity"):
        passkeys.issue_enrolment_link(session, actor=admin, user_id=user.id, clock=at(NOW))  # type: ignore[arg-type]


def test_only_admins_issue_enrolment_links(
    session: Session, make_user: Callable[..., User]
) -> None:
    operator, other = make_user("operator"), make_user("qa")
    with pytest.raises(PermissionDenied):
        passkeys.issue_enrolment_link(session, actor=operator, user_id=other.id, clock=at(NOW))  # type: ignore[arg-type]


def test_only_the_named_user_can_redeem_the_link_not_the_admin_who_issued_it(
    session: Session, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("qa", full_name="Quinn Adeyemi")
    _checked(session, admin, user)
    _link, token = passkeys.issue_enrolment_link(
        session, actor=admin, user_id=user.id, clock=at(NOW)
    )  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied, match="belongs to Quinn Adeyemi"):
        passkeys.begin_registration(
            session, user=admin, token=token, device=None, rp=RP, clock=at(NOW)
        )
    with pytest.raises(NotFound):
        passkeys.begin_registration(
            session, user=user, token="not-a-token", device=None, rp=RP, clock=at(NOW)
        )
    assert passkeys.begin_registration(
        session, user=user, token=token, device=None, rp=RP, clock=at(NOW)
    ).options


def test_link_is_single_use_and_expires(
    session: Session, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("qa")
    _checked(session, admin, user)
    enrol(session, admin, user, SoftAuthenticator())  # uses its own link
    _link, token = passkeys.issue_enrolment_link(
        session, actor=admin, user_id=user.id, clock=at(NOW)
    )  # type: ignore[arg-type]
    with pytest.raises(Rejected, match="expired"):
        passkeys.begin_registration(
            session, user=user, token=token, device=None, rp=RP, clock=at(NOW + timedelta(hours=25))
        )
    authenticator = SoftAuthenticator()
    start = passkeys.begin_registration(
        session, user=user, token=token, device=None, rp=RP, clock=at(NOW)
    )
    passkeys.finish_registration(
        session,
        user=user,
        token=token,
        challenge_id=start.challenge_id,
        credential=authenticator.register(start.options),
        name="Key 2",
        device=None,
        rp=RP,
        clock=at(NOW),
    )
    with pytest.raises(Rejected, match="already used"):
        passkeys.begin_registration(
            session, user=user, token=token, device=None, rp=RP, clock=at(NOW)
        )
    assert [p.name for p in passkeys.active_passkeys(session, user.id)] == ["Phone", "Key 2"]  # type: ignore[arg-type]
    assert "passkey.enrolled" in audit_actions(session, entity_id=str(user.id))


def test_shared_device_refuses_platform_passkeys_but_takes_security_keys(
    session: Session, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("operator")
    _checked(session, admin, user)
    handheld, _token = devices.register_device(
        session, actor=admin, name="Handheld 3", shared=True, clock=at(NOW)
    )
    with pytest.raises(SignatureRefused, match="shared floor device"):
        enrol(session, admin, user, SoftAuthenticator(attachment="platform"), device=handheld)
    assert passkeys.active_passkeys(session, user.id) == []  # type: ignore[arg-type]
    key = enrol(
        session, admin, user, SoftAuthenticator(attachment="cross-platform"), device=handheld
    )
    assert key.attachment == "cross-platform"


def test_shared_device_asks_the_browser_for_a_roaming_key(
    session: Session, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("operator")
    _checked(session, admin, user)
    handheld, _ = devices.register_device(
        session, actor=admin, name="Handheld 4", shared=True, clock=at(NOW)
    )
    _link, token = passkeys.issue_enrolment_link(
        session, actor=admin, user_id=user.id, clock=at(NOW)
    )  # type: ignore[arg-type]
    start = passkeys.begin_registration(
        session, user=user, token=token, device=handheld, rp=RP, clock=at(NOW)
    )
    assert start.roaming_only
    assert '"authenticatorAttachment": "cross-platform"' in start.options
    assert '"userVerification": "required"' in start.options


def test_device_cookie_token_finds_its_device(session: Session, admin: User) -> None:
    device, token = devices.register_device(
        session, actor=admin, name="QA tablet", shared=False, clock=at(NOW)
    )
    assert devices.device_for_token(session, token) is device
    assert devices.device_for_token(session, "forged") is None
    assert device.token_hash != token  # only a hash is stored


def test_owner_and_admin_may_revoke_but_not_others(
    session: Session,
    make_signer: Callable[..., Signer],
    make_user: Callable[..., User],
    admin: User,
) -> None:
    s = make_signer()
    stranger = make_user("operator")
    with pytest.raises(PermissionDenied):
        passkeys.revoke_passkey(
            session, actor=stranger, passkey_id=s.passkey.id, reason="x", clock=at(NOW)
        )  # type: ignore[arg-type]
    with pytest.raises(Rejected, match="reason"):
        passkeys.revoke_passkey(
            session, actor=admin, passkey_id=s.passkey.id, reason=" ", clock=at(NOW)
        )  # type: ignore[arg-type]
    passkeys.revoke_passkey(
        session, actor=admin, passkey_id=s.passkey.id, reason="left company", clock=at(NOW)
    )  # type: ignore[arg-type]
    assert s.passkey.revoked_by_id == admin.id
    listed = passkeys.list_passkeys(session, viewer=s.user, user_id=s.user.id)  # type: ignore[arg-type]
    assert [p.revoked_at for p in listed] == [NOW]


def test_usernameless_sign_in_with_a_passkey(
    session: Session, make_signer: Callable[..., Signer]
) -> None:
    s = make_signer()
    challenge_id, options = passkeys.begin_login(session, rp=RP, clock=at(NOW))
    assert '"allowCredentials": []' in options
    user = passkeys.finish_login(
        session,
        challenge_id=challenge_id,
        credential=s.authenticator.get_assertion(options),
        rp=RP,
        policy=LockoutPolicy(),
        clock=at(NOW),
    )
    assert user is s.user
    assert audit_actions(session, entity_id=str(s.user.id))[-1] == "login.succeeded"


def test_revoked_passkey_cannot_sign_in(
    session: Session, make_signer: Callable[..., Signer]
) -> None:
    s = make_signer()
    passkeys.revoke_passkey(
        session, actor=s.user, passkey_id=s.passkey.id, reason="lost", clock=at(NOW)
    )  # type: ignore[arg-type]
    challenge_id, options = passkeys.begin_login(session, rp=RP, clock=at(NOW))
    with pytest.raises(SignatureRefused, match="revoked"):
        passkeys.finish_login(
            session,
            challenge_id=challenge_id,
            credential=s.authenticator.get_assertion(options),
            rp=RP,
            policy=LockoutPolicy(),
            clock=at(NOW),
        )
    assert audit_actions(session, action="login.failed") == ["login.failed"]


@pytest.mark.parametrize("state", ["locked", "deactivated"])
def test_one_sign_in_rule_for_password_and_passkey(
    session: Session, make_signer: Callable[..., Signer], state: str
) -> None:
    """A locked or deactivated account gets the same answer whichever way it tries."""
    from app.services.accounts import auth

    s = make_signer()
    policy = LockoutPolicy(max_failures=2, lock_seconds=600)
    if state == "locked":
        for _ in range(2):
            auth.sign_in(
                session, username=s.user.username, password="no", policy=policy, clock=at(NOW)
            )
    else:
        s.user.active = False
    by_password = auth.sign_in(
        session, username=s.user.username, password=PASSWORD, policy=policy, clock=at(NOW)
    )
    assert by_password.user is None
    challenge_id, options = passkeys.begin_login(session, rp=RP, clock=at(NOW))
    with pytest.raises(SignatureRefused) as refused:
        passkeys.finish_login(
            session,
            challenge_id=challenge_id,
            credential=s.authenticator.get_assertion(options),
            rp=RP,
            policy=policy,
            clock=at(NOW),
        )
    assert refused.value.message == by_password.message
    if state == "locked":
        assert "locked" in refused.value.message and "CET" in refused.value.message
    else:
        assert refused.value.message == auth.WRONG_CREDENTIALS


def test_a_new_enrolment_link_replaces_the_older_ones(
    session: Session, make_user: Callable[..., User], admin: User
) -> None:
    quinn = make_user("qa", username="quinn2")
    signers.record_identity_check(
        session, actor=admin, user_id=quinn.id, document_type="passport",
        document_reference="X1", clock=at(NOW),
    )  # type: ignore[arg-type]  # fmt: skip
    _first, old_token = passkeys.issue_enrolment_link(
        session, actor=admin, user_id=quinn.id, clock=at(NOW)
    )  # type: ignore[arg-type]
    _second, new_token = passkeys.issue_enrolment_link(
        session, actor=admin, user_id=quinn.id, clock=at(NOW + timedelta(minutes=5))
    )  # type: ignore[arg-type]
    later = at(NOW + timedelta(minutes=10))
    with pytest.raises(Rejected, match="newer enrolment link"):
        passkeys.begin_registration(
            session, user=quinn, token=old_token, device=None, rp=RP, clock=later
        )
    assert passkeys.begin_registration(
        session, user=quinn, token=new_token, device=None, rp=RP, clock=later
    )


def test_an_admin_cannot_issue_herself_an_enrolment_link(
    session: Session, admin: User, make_user: Callable[..., User]
) -> None:
    """Two people for every enrolment (issue 10 point 6): alone, the reason says who can help;
    with a second admin, that admin issues it."""
    signers.record_identity_check(
        session, actor=make_user("admin", username="installer"), user_id=admin.id,
        document_type="passport", document_reference="A1", clock=at(NOW),
    )  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(PermissionDenied, match="another admin issues: two people") as refused:
        passkeys.issue_enrolment_link(session, actor=admin, user_id=admin.id, clock=at(NOW))  # type: ignore[arg-type]
    assert "Ask Installer Tester to issue yours" in refused.value.message
    second = session.exec(select(User).where(User.username == "installer")).one()
    link, _token = passkeys.issue_enrolment_link(
        session,
        actor=second,
        user_id=admin.id,
        clock=at(NOW),  # type: ignore[arg-type]
    )
    assert link.issued_by_id == second.id


def test_the_only_admin_is_told_a_second_admin_is_needed(session: Session, admin: User) -> None:
    signers.record_identity_check(
        session, actor=SYSTEM, user_id=admin.id, document_type="passport",
        document_reference="A1", clock=at(NOW),
    )  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(PermissionDenied, match="no other active admin yet"):
        passkeys.issue_enrolment_link(session, actor=admin, user_id=admin.id, clock=at(NOW))  # type: ignore[arg-type]
