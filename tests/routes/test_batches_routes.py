"""Batch pages: the revision gate answered on the form, and the scaled BOM shown."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlmodel import Session, select

from app.models import Batch, ExcessIssueApproval
from app.services.accounts.auth import find_user
from app.services.demo import seed_demo
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from app.services.mbr import revisions
from app.services.mbr.revisions import HeaderIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.routes.conftest import Browser


def test_supervisor_creates_a_batch_and_the_revision_gate_holds(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    revisions.create_recipe(
        session, actor=find_user(session, "ada"), code="NEW-1", name="Draft only",
        header=HeaderIn("10", "kg"), clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    sam = signed_in("supervisor")

    refused = sam.post("/batches/", {"recipe": "NEW-1", "batch_no": "N-1", "planned": "10"})
    assert refused.status_code == 422
    assert "NEW-1 has no effective master batch record" in refused.get_data(as_text=True)
    assert count(session, Batch) == 0

    made = sam.post(
        "/batches/", {"recipe": "VC500", "batch_no": "VC500-26-0042", "planned": "100000"}
    )
    assert made.status_code == 302
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    assert "VC500 rev B" in page
    assert "55.000 kg" in page


def test_operators_cannot_create_batches(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    refused = signed_in("operator").post(
        "/batches/", {"recipe": "VC500", "batch_no": "B-1", "planned": "1"}
    )
    assert refused.status_code == 403


def test_planned_quantities_are_shown_grouped_with_their_unit(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    sam = signed_in("supervisor")
    sam.post("/batches/", {"recipe": "VC500", "batch_no": "VC500-26-0042", "planned": "100000"})

    listed = sam.client.get("/batches/").get_data(as_text=True)
    assert "VC500-26-0042</strong>&nbsp;100,000 tablets" in listed
    assert "100000" not in listed
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    assert "· 100,000 tablets" in page
    assert "55.000 kg" in page  # a weighed quantity is kept to the gram
    assert session.exec(select(Batch)).one().planned_quantity == 100000  # stored as it was


def test_a_supervisor_approves_an_excess_issue_on_the_batch_page(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session, actor=find_user(session, "sam"), new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    sam = signed_in("supervisor")
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    assert "Approve an excess issue" in page

    form = {"material": "RM-MGS", "quantity": "0.100", "key": uuid.uuid4().hex}
    refused = sam.post("/batches/VC500-26-0042/excess-approvals", {**form, "reason": ""})
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="reason-error">Give a reason; it is kept in the audit trail.'
        in refused.get_data(as_text=True)
    )
    assert count(session, ExcessIssueApproval) == 0

    done = sam.post("/batches/VC500-26-0042/excess-approvals", {**form, "reason": "Spilled"})
    assert done.status_code == 302
    page = sam.client.get("/batches/VC500-26-0042").get_data(as_text=True)
    assert "0.100 kg of RM-MGS excess approved by Supervisor1 Tester: Spilled" in page


def test_only_supervisors_approve_an_excess_issue(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    batches.create_batch(
        session, actor=find_user(session, "sam"), new=BatchIn("VC500", "VC500-26-0042", "100000"),
        clock=CLOCK,
    )  # type: ignore[arg-type]  # fmt: skip
    walt = signed_in("warehouse")
    assert "Approve an excess issue" not in walt.client.get("/batches/VC500-26-0042").get_data(
        as_text=True
    )
    refused = walt.post(
        "/batches/VC500-26-0042/excess-approvals",
        {"material": "RM-MGS", "quantity": "0.1", "reason": "More", "key": uuid.uuid4().hex},
    )
    assert refused.status_code == 403
    assert count(session, ExcessIssueApproval) == 0
