"""Suppliers, customers and sites: the FSMA 204 location, GLN and FDA number checks, changes
only with a reason and with the old values kept, codes that never change, deactivation."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from app.models import AuditEvent, Party, User
from app.services.core.errors import PermissionDenied, Rejected
from app.services.masterdata import parties
from app.services.masterdata.parties import PartyIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, audit_actions, count

SITE = PartyIn("site-main", "site", "Batchbook  Demo Manufacturing LLC", "+1 608 555 0100",
               "500 Science Drive", "Madison", "WI", "53711", "us",
               fda_registration="123 456 789 01", gln="0614141 000005")  # fmt: skip
CUSTOMER = PartyIn("CUST-GL", "customer", "Greenleaf Pharmacy", "+1 503 555 0187",
                   "1420 NW Lovejoy Street", "Portland", "OR", "97209", "US")  # fmt: skip


def _with(party: PartyIn, **changes: str) -> PartyIn:
    return PartyIn(**{**party.__dict__, **changes})


def test_site_is_created_normalised_and_audited(session: Session) -> None:
    site = parties.create_party(session, actor=SYSTEM, new=SITE, clock=CLOCK)

    assert (site.code, site.business_name, site.country) == (
        "SITE-MAIN",
        "Batchbook Demo Manufacturing LLC",
        "US",
    )
    assert (site.fda_registration, site.gln) == ("12345678901", "0614141000005")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "party.created")).one()
    assert event.entity_id == str(site.id)


@pytest.mark.parametrize(
    ("gln", "words"),
    [("0614141000006", "check digit"), ("061414100000", "Not a valid GLN"), ("GLN12345", "GLN")],
)
def test_a_gln_needs_13_digits_and_its_check_digit(session: Session, gln: str, words: str) -> None:
    with pytest.raises(Rejected) as refused:
        parties.create_party(session, actor=SYSTEM, new=_with(SITE, gln=gln), clock=CLOCK)
    assert words in " ".join(refused.value.for_field("gln"))
    assert count(session, Party) == 0
    assert audit_actions(session, entity_type="party") == []


@pytest.mark.parametrize("country", ["USA", "U", "1A", ""])
def test_country_is_two_letters(session: Session, country: str) -> None:
    with pytest.raises(Rejected) as refused:
        parties.create_party(
            session, actor=SYSTEM, new=_with(CUSTOMER, country=country), clock=CLOCK
        )
    assert refused.value.for_field("country") == [
        "Country is the two-letter ISO code (US, DE, IE ...)."
    ]
    assert count(session, Party) == 0


def test_unknown_kind_and_duplicate_code_are_refused(session: Session) -> None:
    parties.create_party(session, actor=SYSTEM, new=CUSTOMER, clock=CLOCK)
    with pytest.raises(Rejected) as refused:
        parties.create_party(
            session, actor=SYSTEM, new=_with(CUSTOMER, kind="carrier"), clock=CLOCK
        )
    assert refused.value.for_field("code") == ["There is already a party CUST-GL."]
    assert refused.value.for_field("kind") == ["Choose supplier, customer or our own site."]
    assert count(session, Party) == 1


def test_edit_needs_a_reason_and_keeps_the_old_values(session: Session) -> None:
    party = parties.create_party(session, actor=SYSTEM, new=CUSTOMER, clock=CLOCK)
    moved = _with(CUSTOMER, street="77 SE Division Street", postal_code="97202")

    with pytest.raises(Rejected, match="Give a reason"):
        parties.update_party(
            session, actor=SYSTEM, party_id=party.id, new=moved, reason=" ", clock=CLOCK
        )
    assert party.street == "1420 NW Lovejoy Street"
    assert audit_actions(session, entity_type="party") == ["party.created"]

    parties.update_party(
        session, actor=SYSTEM, party_id=party.id, new=moved, reason="Moved", clock=CLOCK
    )
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "party.changed")).one()
    assert json.loads(event.before)["street"] == "1420 NW Lovejoy Street"
    assert json.loads(event.after)["street"] == "77 SE Division Street"
    assert event.reason == "Moved"


def test_a_code_never_changes(session: Session) -> None:
    party = parties.create_party(session, actor=SYSTEM, new=CUSTOMER, clock=CLOCK)
    with pytest.raises(Rejected) as refused:
        parties.update_party(
            session,
            actor=SYSTEM,
            party_id=party.id,
            new=_with(CUSTOMER, code="CUST-GREENLEAF"),
            reason="Rename",
            clock=CLOCK,
        )
    assert refused.value.for_field("code") == [
        "The code CUST-GL cannot be changed; records and labels name it. "
        "Create a party with the new code and deactivate CUST-GL instead."
    ]
    assert party.code == "CUST-GL"
    assert audit_actions(session, entity_type="party") == ["party.created"]


def test_deactivate_and_reactivate_with_a_reason(session: Session) -> None:
    party = parties.create_party(session, actor=SYSTEM, new=CUSTOMER, clock=CLOCK)
    with pytest.raises(Rejected, match="Give a reason"):
        parties.set_active(
            session, actor=SYSTEM, party_id=party.id, active=False, reason="", clock=CLOCK
        )
    assert party.active

    parties.set_active(
        session, actor=SYSTEM, party_id=party.id, active=False, reason="Closed", clock=CLOCK
    )
    with pytest.raises(Rejected, match="Greenleaf Pharmacy is already deactivated"):
        parties.set_active(
            session, actor=SYSTEM, party_id=party.id, active=False, reason="x", clock=CLOCK
        )
    parties.set_active(
        session, actor=SYSTEM, party_id=party.id, active=True, reason="Reopened", clock=CLOCK
    )

    assert party.active
    assert audit_actions(session, entity_type="party") == [
        "party.created",
        "party.deactivated",
        "party.reactivated",
    ]


def test_list_is_filtered_by_kind(session: Session) -> None:
    parties.create_party(session, actor=SYSTEM, new=CUSTOMER, clock=CLOCK)
    parties.create_party(session, actor=SYSTEM, new=SITE, clock=CLOCK)
    assert [p.code for p in parties.list_parties(session, kind="site")] == ["SITE-MAIN"]
    assert [p.code for p in parties.list_parties(session, kind="supplier")] == []
    assert len(parties.list_parties(session)) == 2


def test_qa_may_change_parties_and_operators_may_not(
    session: Session, make_user: Callable[..., User]
) -> None:
    party = parties.create_party(session, actor=make_user("qa"), new=CUSTOMER, clock=CLOCK)
    operator = make_user("operator")
    with pytest.raises(PermissionDenied, match="Only Admin or QA can change master data"):
        parties.update_party(
            session, actor=operator, party_id=party.id, new=CUSTOMER, reason="typo", clock=CLOCK
        )
    with pytest.raises(PermissionDenied):
        parties.set_active(
            session, actor=operator, party_id=party.id, active=False, reason="closed", clock=CLOCK
        )
    assert party.active
    assert audit_actions(session, entity_type="party") == ["party.created"]
