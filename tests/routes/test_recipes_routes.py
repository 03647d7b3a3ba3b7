"""MBR pages over HTTP: who may author, messages beside the field, frozen revisions, approval,
compare and the operator preview."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select

from app.models import Material, RecipeRevision, User
from app.services.masterdata import training
from app.services.mbr import approval, bom, revisions, steps
from app.services.mbr.bom import BomLineIn
from app.services.mbr.revisions import HeaderIn
from app.services.mbr.steps import StepIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM
from tests.routes.conftest import Browser
from tests.signing import NOW

STEP = {"code": "20", "kind": "weigh", "title": "Weigh ascorbic acid", "training_code": "VC500"}


def _master(session: Session) -> None:
    session.add(
        Material(code="RM-ASC", name="Ascorbic acid", kind="raw", unit="kg", created_at=NOW)
    )
    session.flush()
    training.create_curriculum(
        session,
        actor=SYSTEM,
        code="VC500",
        title="VC500 MBR",
        kind="mbr",
        validity_days=365,
        clock=CLOCK,
    )


def _complete_draft(session: Session, author: User) -> RecipeRevision:
    """VC500 rev A with one weigh step and its material: ready for review."""
    revision = revisions.create_recipe(
        session,
        actor=author,
        code="VC500",
        name="Vitamin C",
        header=HeaderIn("100000", "tablets"),
        clock=CLOCK,
    )
    steps.add_step(
        session,
        actor=author,
        revision_id=revision.id,
        new=StepIn("20", "weigh", "Weigh ascorbic acid"),
        clock=CLOCK,
    )
    bom.add_bom_line(
        session,
        actor=author,
        revision_id=revision.id,
        new=BomLineIn("RM-ASC", "55.0", "kg", "0.5", step_code="20"),
        clock=CLOCK,
    )
    return revision


def test_operator_may_read_but_not_author(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    operator = signed_in("operator")
    assert operator.client.get("/recipes/").status_code == 200

    refused = operator.post(
        "/recipes/", {"code": "X", "name": "X", "batch_size": "1", "batch_unit": "kg"}
    )

    assert refused.status_code == 403
    assert "Only Admin or QA can author master batch records" in refused.get_data(as_text=True)
    assert session.exec(select(RecipeRevision)).first() is None


def test_author_creates_a_recipe_and_adds_steps_with_messages_beside_fields(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    _master(session)
    author = signed_in("admin", "qa")

    created = author.post(
        "/recipes/",
        {"code": "vc500", "name": "Vitamin C", "batch_size": "100000", "batch_unit": "tablets"},
    )
    assert created.status_code == 302
    revision = session.exec(select(RecipeRevision)).one()
    page = f"/recipes/revisions/{revision.id}"
    assert created.headers["Location"].endswith(page)

    bad = author.post(
        f"{page}/steps",
        {"code": "40", "kind": "record_values", "title": "Blend", "limit1_name": "Time",
         "limit1_low": "16", "limit1_high": "14", "limit1_unit": "min"},
    )  # fmt: skip
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert '<p class="field-error" id="limit1-error">Limit 1: the low limit is above the high.' in (
        html
    )
    assert 'value="Blend"' in html  # what was typed is kept

    assert author.post(f"{page}/steps", STEP).status_code == 302
    assert (
        author.post(
            f"{page}/bom",
            {"material": "rm-asc", "quantity": "55.0", "unit": "kg", "tolerance": "0.5",
             "tolerance_kind": "percent", "step": "20"},
        ).status_code
        == 302
    )  # fmt: skip
    shown = author.client.get(page).get_data(as_text=True)
    assert "Weigh ascorbic acid" in shown
    assert "55.0 kg" in shown
    assert "±0.5 %" in shown


def test_a_draft_shows_its_batch_size_grouped_and_prefills_the_header_plainly(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    _master(session)
    author = signed_in("admin", "qa")
    revision = _complete_draft(session, author.user)  # type: ignore[attr-defined]
    html = author.client.get(f"/recipes/revisions/{revision.id}").get_data(as_text=True)
    assert "nominal batch 100,000 tablets" in html
    # The header form holds a number its own reader takes again, not the grouped text.
    assert '<input name="batch_size" value="100000" inputmode="decimal">' in html
    assert "<td>55.0 kg</td>" in html  # the BOM line


def test_frozen_revision_refuses_edits_with_the_reason(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    _master(session)
    author = signed_in("admin", "qa")
    revision = _complete_draft(session, author.user)  # type: ignore[attr-defined]
    page = f"/recipes/revisions/{revision.id}"
    assert author.post(f"{page}/submit").status_code == 302

    refused = author.post(f"{page}/steps", {"code": "50", "kind": "qa_hold", "title": "Hold"})

    assert refused.status_code == 422
    assert "in review and frozen" in refused.get_data(as_text=True)
    shown = author.client.get(page).get_data(as_text=True)
    assert "Sign as author" in shown
    assert "Add a step" not in shown


def test_preview_and_compare_pages(signed_in: Callable[..., Browser], session: Session) -> None:
    _master(session)
    author = signed_in("admin", "qa")
    revision = _complete_draft(session, author.user)  # type: ignore[attr-defined]
    approval.submit_for_review(session, actor=author.user, revision_id=revision.id, clock=CLOCK)  # type: ignore[attr-defined]
    approval.approve_outside_the_system(
        session, actor=SYSTEM, revision_id=revision.id, reference="paper QA-1", clock=CLOCK
    )
    rev_b = revisions.start_revision(
        session, actor=author.user, recipe_id=revision.recipe_id, clock=CLOCK
    )  # type: ignore[attr-defined]
    steps.add_step(
        session,
        actor=author.user,
        revision_id=rev_b.id,
        new=StepIn("90", "qa_hold", "Release"),
        clock=CLOCK,  # type: ignore[attr-defined]
    )

    preview = author.client.get(f"/recipes/revisions/{revision.id}/preview")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert 'id="preview-step-20"' in html
    assert "55.0 kg" in html

    diff = author.client.get(f"/recipes/compare?old={revision.id}&new={rev_b.id}")
    html = diff.get_data(as_text=True)
    assert diff.status_code == 200
    assert 'id="diff-steps-90"' in html
    assert "Added" in html
    assert "paper QA-1" in author.client.get(f"/recipes/revisions/{revision.id}").get_data(
        as_text=True
    )
