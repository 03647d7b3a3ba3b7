"""GS1 scans as they arrive from real scanners, and our own lot label."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.services.core.errors import Rejected
from app.services.core.gs1 import lot_label, parse_scan, wrong_check_digit

GS = "\x1d"


@pytest.mark.parametrize(
    "raw",
    [
        f"]C101040123450000161728053110S-88231{GS}3102002500",  # GS1-128 with prefix and FNC1
        f"01040123450000161728053110S-88231{GS}3102002500",  # no symbology prefix
        "]d2010401234500001631020025001728053110S-88231",  # DataMatrix, lot last, no GS needed
        f"]Q3010401234500001610S-88231{GS}17280531{GS}3102002500",  # QR, GS after the lot
        "01040123450000161728053110S-88231<GS>3102002500",  # scanner sends a visible <GS>
        "01040123450000161728053110S-88231|3102002500",  # or a pipe
        "(01)04012345000016(17)280531(10)S-88231(3102)002500",  # typed from the text under it
    ],
)
def test_supplier_labels_in_every_form_give_the_same_fields(raw: str) -> None:
    scan = parse_scan(raw)
    assert scan.gtin == "04012345000016"
    assert scan.lot == "S-88231"
    assert scan.expiry == date(2028, 5, 31)
    assert scan.quantity == Decimal("25.00")
    assert scan.quantity_unit == "kg"


def test_symbology_is_kept_and_serials_and_counts_are_read() -> None:
    scan = parse_scan(f"]d20109501101020917211007{GS}3010")
    assert scan.symbology == "]d2"
    assert scan.serial == "1007"
    assert (scan.quantity, scan.quantity_unit) == (Decimal("10"), "pcs")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("]C101040123450000171728053110S-1", r"GTIN 04012345000017 has a wrong check digit"),
        ("01040123450000161728023110S-1", "date"),  # 31 February
        ("hello world", "not a GS1 label"),
        ("   ", "Nothing was scanned"),
    ],
)
def test_bad_scans_say_what_is_wrong(raw: str, words: str) -> None:
    with pytest.raises(Rejected, match=words):
        parse_scan(raw)


def test_lot_label_puts_the_variable_length_lot_last() -> None:
    label = lot_label(gtin="04012345000016", lot_code="ASC-2611-07", expiry=date(2028, 5, 31))
    assert label.element_string == "01040123450000161728053110ASC-2611-07"
    assert label.hri == "(01)04012345000016(17)280531(10)ASC-2611-07"
    assert 'viewBox="0 0 ' in label.svg
    assert "style=" not in label.svg  # the page's CSP allows no inline styles


def test_lot_label_without_gtin_or_expiry() -> None:
    assert lot_label(gtin=None, lot_code="HSG-2611-01", expiry=None).hri == "(10)HSG-2611-01"


@pytest.mark.parametrize("raw", ["]C1", "]d2", "]Q3 ", "]C1\r"])
def test_a_scan_of_only_the_barcode_type_says_so(raw: str) -> None:
    with pytest.raises(Rejected, match="only the barcode type"):
        parse_scan(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "https://example.com/01/09501101020917/10/ABC123?17=280531",
        "https://id.example.com/shop/01/09501101020917/10/ABC123?17=280531&linkType=all",
        "]Q1https://example.com/01/09501101020917/10/ABC123?17=280531",  # plain QR prefix
        "]Q3https://example.com/01/09501101020917/10/ABC123?17=280531",  # GS1 QR prefix
        "HTTPS://EXAMPLE.COM/01/09501101020917/10/ABC123?17=280531",  # scanner in caps
    ],
)
def test_a_digital_link_fills_the_same_fields_as_the_element_string(raw: str) -> None:
    link = parse_scan(raw)
    element_string = parse_scan("]C101095011010209171728053110ABC123")
    assert (link.gtin, link.lot, link.expiry) == ("09501101020917", "ABC123", date(2028, 5, 31))
    assert (link.gtin, link.lot, link.expiry) == (
        element_string.gtin,
        element_string.lot,
        element_string.expiry,
    )
    assert link.hri == "(01)09501101020917(10)ABC123(17)280531"


def test_a_digital_link_carries_serials_quantities_and_encoded_lots() -> None:
    serial = parse_scan("https://example.com/01/09501101020917/21/SN%2F1007")
    assert (serial.gtin, serial.serial, serial.lot) == ("09501101020917", "SN/1007", None)
    weight = parse_scan("https://example.com/01/04012345000016/10/S-88231?3102=002500")
    assert (weight.lot, weight.quantity) == ("S-88231", Decimal("25.00"))
    assert weight.quantity_unit == "kg"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("https://example.com/products?id=12", "is not a GS1 Digital Link: its path holds no GTIN"),
        ("http://example.com/", "is not a GS1 Digital Link"),
        ("https://example.com/01/09501101020918/10/A", "GTIN 09501101020918 has a wrong check"),
        ("https://example.com/01/09501101020917/10/A?17=280231", r"not be read: .*\(17\) date"),
    ],
)
def test_a_web_address_that_is_not_a_good_digital_link_says_so(raw: str, words: str) -> None:
    with pytest.raises(Rejected, match=words):
        parse_scan(raw)


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        (
            "]C10109501101020918",
            "The GTIN 09501101020918 has a wrong check digit (8; it should be 7): the barcode is "
            "damaged or mistyped. Scan it again.",
        ),
        (
            "(01)09501101020918(10)A",  # typed from the text under the bars
            "The GTIN 09501101020918 has a wrong check digit (8; it should be 7): the barcode is "
            "damaged or mistyped. Scan it again.",
        ),
        (
            "]C100376104250021234568",
            "The SSCC 376104250021234568 has a wrong check digit (8; it should be 9): the barcode "
            "is damaged or mistyped. Scan it again.",
        ),
        (
            "0209501101020918",
            "The GTIN of the contents 09501101020918 has a wrong check digit (8; it should be 7): "
            "the barcode is damaged or mistyped. Scan it again.",
        ),
    ],
)
def test_a_wrong_check_digit_is_said_in_plain_words(raw: str, sentence: str) -> None:
    """Issue 12 point 12: the digit found, the one it should be, and what to do."""
    with pytest.raises(Rejected) as refused:
        parse_scan(raw)
    assert [(v.code, v.message, v.field) for v in refused.value.violations] == [
        ("scan.invalid", sentence, "scan")
    ]


def test_a_typed_gtin_is_to_be_checked_not_scanned_again() -> None:
    assert wrong_check_digit("GTIN", "9501101020918", typed=True) == (
        "The GTIN 9501101020918 has a wrong check digit (8; it should be 7): check the number "
        "you typed."
    )
    assert wrong_check_digit("GTIN", "9501101020917") is None  # right: nothing to say
