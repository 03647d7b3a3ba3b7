"""Finished goods to the customer on a 360x740 handheld: the batch's output comes in, QA
releases it (user ID and password), the warehouse ships part of it to Greenleaf Pharmacy by
scanning the lot label, and the despatch advice lists the lot and quantity."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from app.services.accounts.auth import find_user
from app.services.execution import batches
from app.services.execution.batches import BatchIn
from tests.browser.conftest import HANDHELD, LiveServer, sign_in
from tests.browser.people import record_qc_evidence, sign_with_password
from tests.clock import CLOCK


def test_output_in_released_and_shipped_by_scanning(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    with live_server.database.session_scope() as s:
        batches.create_batch(
            s,
            actor=find_user(s, "sam"),
            new=BatchIn("VC500", "VC500-26-0042", "100000"),
            clock=CLOCK,
        )  # type: ignore[arg-type]

    walt = new_context(live_server.url, HANDHELD).new_page()
    sign_in(walt, "walt")
    walt.get_by_role("link", name="Finished goods in").click()
    walt.locator("select[name=material]").select_option("VC500")
    walt.get_by_label("Batch number").fill("VC500-26-0042")
    walt.get_by_label("Quantity").fill("98500")
    walt.get_by_role("button", name="Confirm receipt").click()
    expect(walt.locator(".lot-status")).to_have_text("Quarantine")
    expect(walt.locator("#lot-balance")).to_have_text("98,500 tablets")
    expect(walt.locator("#lot-facts")).to_contain_text("batch VC500-26-0042")

    quinn = new_context(live_server.url, HANDHELD).new_page()
    sign_in(quinn, "quinn")
    quinn.goto("/account")
    expect(quinn.locator("#esign-status")).to_contain_text("Active")  # acknowledged in the demo
    record_qc_evidence(quinn, "VC500-26-0042", [("Assay", "99.8", "lab")])
    sign_with_password(quinn, "Release", "quinn")
    expect(quinn.locator(".lot-status")).to_have_text("Released")

    walt.goto("/shipments/")
    walt.locator("select[name=customer]").select_option("CUST-GREENLEAF")
    walt.get_by_label("Customer's order (PO)").fill("PO-8812")
    walt.get_by_role("button", name="Start a shipment").click()
    expect(walt.locator("#shipment-status")).to_have_text("Picking")
    expect(walt.get_by_label("Quantity")).to_be_focused()
    walt.keyboard.type("40000")
    walt.get_by_label("Scan the lot label").focus()
    walt.keyboard.insert_text("]C1010950110102091717" + "281122" + "10VC500-26-0042")
    walt.keyboard.press("Enter")
    expect(walt.locator("#shipment-lines")).to_contain_text("VC500-26-0042")
    expect(walt.locator("#shipment-lines")).to_contain_text("40,000 tablets")
    walt.get_by_role("button", name="Despatch").click()
    expect(walt.locator("#shipment-status")).to_have_text("Shipped")

    advice = walt.context.request.get(walt.url + "/advice.csv")
    rows = list(csv.DictReader(io.StringIO(advice.text())))
    assert [
        (r["TLC"], r["Quantity"], r["UOM"], r["Immediate subsequent recipient name"]) for r in rows
    ] == [("VC500-26-0042", "40000", "tablets", "Greenleaf Pharmacy")]
    walt.goto("/lots/VC500-26-0042")
    expect(walt.locator("#lot-balance")).to_have_text("58,500 tablets")
