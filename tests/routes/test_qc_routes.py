"""QC evidence over HTTP: the lot page shows what release still needs, the forms answer in place
(htmx 422 partial, the sentence beside its field), the certificate comes back byte for byte as a
download, and the lot's receiver is offered no sampling or testing controls."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import date

from sqlmodel import Session, select

from app.models import Certificate, Lot, SpecTest, User
from app.services.accounts.auth import find_user
from app.services.demo import seed_demo
from app.services.masterdata import materials
from app.services.quality import specifications
from app.services.warehouse import receipt
from app.services.warehouse.receipt import ReceiptIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.routes.conftest import Browser, csrf_token

PDF = b"%PDF-1.4\n% a certificate of analysis\n"


def _quarantined(session: Session) -> Lot:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    lot, _ = receipt.receive(
        session,
        actor=find_user(session, "walt"),  # type: ignore[arg-type]
        new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-1", "10", date(2028, 1, 1), "2", key="k1"),
        clock=CLOCK,
    )
    return lot


def _test_id(session: Session, name: str) -> int:
    material = materials.get_by_code(session, "RM-ASC")
    tests = specifications.active_tests(session, material.id)  # type: ignore[union-attr,arg-type]
    return next(t.id for t in tests if t.name == name)  # type: ignore[misc]


def test_qa_records_the_evidence_and_the_page_shows_what_release_still_needs(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    lot = _quarantined(session)
    qa = signed_in("qa")
    page = qa.client.get(f"/lots/{lot.lot_code}").get_data(as_text=True)
    assert "Before release:" in page
    assert "No result yet for Identity (FTIR, conforms)." in page
    assert "Record a sample" in page

    refused = qa.post(
        f"/lots/{lot.lot_code}/qc/result",
        {"spec_test_id": _test_id(session, "Identity"), "value": "conforms", "source": "lab"},
        htmx=True,
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert html.lstrip().startswith('<section class="card stack" id="lot-qc-evidence">')
    assert '<p class="field-error" id="value-error">Take a sample of lot' in html

    assert (
        qa.post(f"/lots/{lot.lot_code}/qc/sample", {"containers": "2"}, htmx=True).status_code
        == 204  # htmx: HX-Redirect to the lot page
    )
    for name, value in (("Identity", "conforms"), ("Assay", "100.9")):
        answer = qa.post(
            f"/lots/{lot.lot_code}/qc/result",
            {"spec_test_id": _test_id(session, name), "value": value, "source": "lab"},
            htmx=True,
        )
        assert answer.status_code == 204, answer.get_data(as_text=True)[:300]
    page = qa.client.get(f"/lots/{lot.lot_code}").get_data(as_text=True)
    assert "out of limits" in page
    assert "Assay is 100.9 %, outside 99.0–100.5 %." in page
    assert "Sampled 2 of 2 container(s)" in page

    # Release is refused with the same sentence the page shows.
    start = qa.post(
        "/sign/start", {"record_type": "lot", "record_id": lot.id, "meaning": "released"}, htmx=True
    )
    assert start.status_code == 403
    assert "Assay is 100.9 %, outside 99.0–100.5 %." in start.get_data(as_text=True)


def test_a_certificate_is_kept_and_returned_byte_for_byte_as_a_download(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    lot = _quarantined(session)
    walt = signed_in("warehouse")
    token = csrf_token(walt.client, "/")
    answer = walt.client.post(
        f"/lots/{lot.lot_code}/qc/certificate",
        data={"certificate": (io.BytesIO(PDF), "COA S-1.pdf")},
        headers={"HX-Request": "true", "X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 204
    page = walt.client.get(f"/lots/{lot.lot_code}").get_data(as_text=True)
    digest = hashlib.sha256(PDF).hexdigest()
    assert f'title="{digest}"' in page
    assert "Record a sample" not in page  # warehouse attaches, QA samples
    kept = session.exec(select(Certificate).where(Certificate.lot_id == lot.id)).one()
    download = walt.client.get(f"/lots/{lot.lot_code}/qc/certificate/{kept.id}")
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="COA S-1.pdf"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    other_lot = walt.client.get(f"/lots/ASC-2409-02/qc/certificate/{kept.id}")
    assert other_lot.status_code == 404

    refused = walt.client.post(
        f"/lots/{lot.lot_code}/qc/certificate",
        data={"certificate": (io.BytesIO(b"<svg onload=alert(1)>"), "coa.pdf")},
        headers={"HX-Request": "true", "X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "must be a PDF, PNG or JPEG" in refused.get_data(as_text=True)


def test_the_receiver_is_offered_no_sampling_and_a_refusal_without_htmx_is_the_whole_page(
    browser: Browser, make_user: Callable[..., User], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    both = make_user("warehouse", "qa")
    lot, _ = receipt.receive(
        session, actor=both,
        new=ReceiptIn("RM-ASC", "SUP-NORTHBRIDGE", "S-2", "10", date(2028, 1, 1), "1", key="k2"),
        clock=CLOCK,
    )  # fmt: skip
    assert browser.login(both).status_code == 302
    page = browser.client.get(f"/lots/{lot.lot_code}").get_data(as_text=True)
    assert "Attach the certificate of analysis" in page
    assert "Record a sample" not in page
    refused = browser.post(f"/lots/{lot.lot_code}/qc/sample", {"containers": "1"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "<html" in html
    assert f"You received lot {lot.lot_code}: someone else must sample it." in html


def test_qa_sets_a_specification_on_the_material_page(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    material = materials.get_by_code(session, "RM-MCC")
    assert material is not None
    qa = signed_in("qa")
    before = count(session, SpecTest)
    refused = qa.post(
        f"/materials/{material.id}/spec",
        {"name": "Assay", "method": "HPLC", "kind": "range", "low": "102", "high": "97"},
    )
    assert refused.status_code == 422
    assert '<p class="field-error" id="high-error">The upper limit is below the lower limit.' in (
        refused.get_data(as_text=True)
    )
    assert count(session, SpecTest) == before
    added = qa.post(
        f"/materials/{material.id}/spec",
        {"name": "Assay", "method": "HPLC", "kind": "range", "low": "97", "high": "102",
         "unit": "%"},
    )  # fmt: skip
    assert added.status_code == 302
    page = qa.client.get(f"/materials/{material.id}").get_data(as_text=True)
    assert "<strong>Assay</strong> · HPLC · 97–102 %" in page
    qa.post("/logout")
    operator = signed_in("operator")
    assert "Add a test" not in operator.client.get(f"/materials/{material.id}").get_data(
        as_text=True
    )
