"""Master data pages over HTTP: who may change what, messages beside the field, equipment status
in words, cleaning by the operator, CSV upload with a dry run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import BytesIO

from sqlmodel import Session, select

from app.models import Equipment, Material, Party
from app.services.masterdata import equipment
from app.services.masterdata.equipment import EquipmentIn
from tests.clock import CLOCK
from tests.conftest import SYSTEM, count
from tests.routes.conftest import Browser, csrf_token

MATERIAL = {
    "code": "RM-ASC",
    "name": "Ascorbic acid",
    "kind": "raw",
    "unit": "kg",
    "tracking": "lot",
}


def test_operators_read_master_data_but_cannot_change_it(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    operator = signed_in("operator")
    assert operator.client.get("/materials/").status_code == 200
    refused = operator.post("/materials/", MATERIAL)
    assert refused.status_code == 403
    assert "Only Admin or QA can change master data" in refused.get_data(as_text=True)
    assert count(session, Material) == 0


def test_bad_gtin_is_named_beside_the_field(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    qa = signed_in("qa")
    refused = qa.post("/materials/", {**MATERIAL, "gtin": "09501101020918"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="gtin-error">The GTIN 09501101020918 has a wrong check digit '
        "(8; it should be 7): check the number you typed.</p>"
    ) in html
    assert 'value="Ascorbic acid"' in html
    assert count(session, Material) == 0

    made = qa.post("/materials/", MATERIAL)
    assert made.status_code == 302
    assert "RM-ASC" in qa.client.get("/materials/?q=ascorbic").get_data(as_text=True)


def test_equipment_list_says_what_is_wrong_in_words(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    now = CLOCK.now()
    blender = equipment.create_equipment(
        session, actor=SYSTEM, new=EquipmentIn("BL-01", "Blender 1", "blender"), clock=CLOCK
    )
    equipment.record_calibration(
        session,
        actor=SYSTEM,
        equipment_id=blender.id,
        certificate="CAL-1",
        performed_on=(now - timedelta(days=400)).date(),
        due_on=(now - timedelta(days=30)).date(),
        clock=CLOCK,
    )
    operator = signed_in("operator")

    html = operator.client.get("/equipment/").get_data(as_text=True)
    assert "Calibration overdue since" in html
    assert "Not cleaned yet" in html
    assert 'class="badge badge-bad"' in html

    cleaned = operator.post(f"/equipment/{blender.id}/cleanings", {"last_product": "vc500"})
    assert cleaned.status_code == 302
    page = operator.client.get(f"/equipment/{blender.id}").get_data(as_text=True)
    assert "Not cleaned yet" not in page
    assert "after VC500" in page


def test_cleaning_in_the_future_is_refused_in_place(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    item = equipment.create_equipment(
        session, actor=SYSTEM, new=EquipmentIn("BL-02", "Blender 2", "blender"), clock=CLOCK
    )
    operator = signed_in("operator")
    refused = operator.post(f"/equipment/{item.id}/cleanings", {"cleaned_at": "2099-01-01T08:00"})
    assert refused.status_code == 422
    assert "A cleaning cannot be recorded ahead." in refused.get_data(as_text=True)
    assert count(session, Equipment) == 1


def test_party_needs_a_full_location(signed_in: Callable[..., Browser], session: Session) -> None:
    admin = signed_in("admin")
    refused = admin.post(
        "/parties/",
        {"code": "CUST-GL", "kind": "customer", "business_name": "Greenleaf Pharmacy",
         "country": "USA"},
    )  # fmt: skip
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<p class="field-error" id="street-error">Enter the street address.</p>' in html
    assert "two-letter ISO code" in html
    assert count(session, Party) == 0


def test_csv_upload_checks_first_then_imports(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    admin = signed_in("admin")
    token = csrf_token(admin.client, "/materials/import")
    data = b"code,name,kind,unit\nRM-ASC,Ascorbic acid,raw,kg\nRM-MCC,Cellulose,raw,kg\n"

    def upload(content: bytes, mode: str) -> tuple[int, str]:
        answer = admin.client.post(
            "/materials/import",
            data={"csrf_token": token, "mode": mode, "file": (BytesIO(content), "erp.csv")},
            content_type="multipart/form-data",
        )
        return answer.status_code, answer.get_data(as_text=True)

    status, html = upload(data, "check")
    assert status == 200
    assert "All 2 rows are correct. Nothing was imported yet" in html
    assert count(session, Material) == 0

    status, html = upload(data + b"RM-X,,liquid,kg\n", "import")
    assert status == 422
    assert "Nothing was imported." in html
    assert "<td>4</td><td>name</td>" in html
    assert count(session, Material) == 0

    status, html = upload(data, "import")
    assert status == 200
    assert "Imported 2 materials: RM-ASC, RM-MCC." in html
    assert count(session, Material) == 2


def test_htmx_create_re_renders_only_the_form_with_its_messages(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    qa = signed_in("qa")
    for path, form_id, data in (
        ("/materials/", "material-new-form", {**MATERIAL, "shelf_life_days": "-5"}),
        ("/equipment/", "equipment-new-form", {"code": "BL-01", "name": "B", "kind": "mixer"}),
        ("/parties/", "party-new-form", {"code": "SUP-X", "kind": "supplier", "country": "DE"}),
    ):
        refused = qa.post(path, data, htmx=True)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 422, path
        assert f'id="{form_id}"' in html
        assert "<html" not in html and 'hx-target="this"' in html
        assert 'class="field-error"' in html
    assert "The shelf life in days is a whole number from 1 to" in qa.post(
        "/materials/", {**MATERIAL, "shelf_life_days": "-5"}, htmx=True
    ).get_data(as_text=True)
    assert (count(session, Material), count(session, Equipment), count(session, Party)) == (0, 0, 0)


def test_editing_a_code_is_refused_beside_the_field(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    admin = signed_in("admin")
    assert admin.post("/materials/", MATERIAL).status_code == 302
    material = session.exec(select(Material)).one()
    page = admin.client.get(f"/materials/{material.id}").get_data(as_text=True)
    assert "readonly" in page

    refused = admin.post(
        f"/materials/{material.id}/edit", {**MATERIAL, "code": "RM-ASC2", "reason": "ERP"}
    )
    assert refused.status_code == 422
    assert "The code RM-ASC cannot be changed" in refused.get_data(as_text=True)
    no_reason = admin.post(f"/materials/{material.id}/edit", {**MATERIAL, "name": "Vitamin C"})
    assert no_reason.status_code == 422
    assert "Give a reason; it is kept in the audit trail." in no_reason.get_data(as_text=True)
    assert material.name == "Ascorbic acid"


def test_operator_cannot_edit_or_deactivate_a_party_and_lists_filter_by_kind(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    admin = signed_in("admin")
    customer = {"code": "CUST-GL", "kind": "customer", "business_name": "Greenleaf Pharmacy",
                "phone": "+1 503 555 0187", "street": "1420 NW Lovejoy Street", "city": "Portland",
                "region": "OR", "postal_code": "97209", "country": "US"}  # fmt: skip
    assert admin.post("/parties/", customer).status_code == 302
    party = session.exec(select(Party)).one()
    assert "Greenleaf Pharmacy" in admin.client.get("/parties/?kind=customer").get_data(
        as_text=True
    )
    assert "Greenleaf Pharmacy" not in admin.client.get("/parties/?kind=supplier").get_data(
        as_text=True
    )
    admin.client.post("/logout", data={"csrf_token": csrf_token(admin.client, "/")})

    operator = signed_in("operator")
    assert operator.client.get(f"/parties/{party.id}").status_code == 200
    edit = operator.post(f"/parties/{party.id}/edit", {**customer, "reason": "typo"})
    assert edit.status_code == 403
    deactivate = operator.post(f"/parties/{party.id}/active", {"active": "0", "reason": "gone"})
    assert deactivate.status_code == 403
    assert party.active


def test_import_page_documents_its_columns_and_refuses_operators(
    signed_in: Callable[..., Browser], session: Session
) -> None:
    operator = signed_in("operator")
    page = operator.client.get("/equipment/import").get_data(as_text=True)
    assert "<dt><code>needs_cleaning</code></dt><dd>yes or no (yes when empty)</dd>" in page
    assert "blender" in page

    token = csrf_token(operator.client, "/equipment/import")
    refused = operator.client.post(
        "/equipment/import",
        data={"csrf_token": token, "mode": "import",
              "file": (BytesIO(b"code,name,kind\nBL-09,Blender 9,blender\n"), "erp.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert refused.status_code == 403
    assert count(session, Equipment) == 0
