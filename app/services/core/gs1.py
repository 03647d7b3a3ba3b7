"""GS1 barcodes in our words: what a scanned supplier label says, and our own lot label.

Parsing is biip's; this module only turns its results into the fields a receipt needs and its
errors into sentences. A hardware scanner types the barcode and Enter; the symbology prefix
(]C1 GS1-128, ]d2 DataMatrix, ]Q3 QR) may or may not be there, and FNC1 arrives as the GS
character (0x1D). Some scanners are set to send a visible stand-in for GS; "<GS>" and "|" are
accepted too. Human-readable text with brackets, "(01)...(10)...", is accepted as typed.

A GS1 Digital Link (a web address such as https://example.com/01/09501101020917/10/ABC123?17=280531,
usually in a QR code) carries the same element strings in its path and query; it fills the
same fields. Any other web address is refused with a sentence.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import barcode
from barcode.writer import SVGWriter
from biip import ParseConfig, ParseError, parse
from biip.checksums import gs1_standard_check_digit
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message

from app.services.core.errors import Rejected, Violation

GS = "\x1d"
SEPARATORS = ["\x1d", "|", "^"]
# Net quantity AIs and the unit they are in (the last digit of 310n-369n is the decimals).
QUANTITY_AIS = {"310": "kg", "311": "m", "315": "L", "30": "pcs", "37": "pcs"}
_WEB_ADDRESS = re.compile(r"https?://", re.IGNORECASE)


@dataclass
class Scan:
    """The fields found in one scan; empty ones were not in the barcode."""

    raw: str
    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    sscc: str | None = None
    quantity: Decimal | None = None
    quantity_unit: str | None = None
    hri: str = ""
    symbology: str | None = None
    other: dict[str, str] = field(default_factory=dict)


def _message(raw: str) -> GS1Message:
    text = raw.strip().replace("<GS>", GS)
    if text.startswith("("):
        try:
            return GS1Message.parse_hri(text)
        except Exception as exc:  # biip raises its own ParseError subclasses
            raise _refused(f"The text {text!r} is not a GS1 element string: {exc}") from None
    result = parse(text, config=ParseConfig(separator_chars=SEPARATORS))
    if (
        result.gs1_message is None
        and result.gs1_message_error
        and text.lstrip("]CdQ0123")[:1].isdigit()
    ):
        raise _refused(f"This barcode could not be read as GS1: {result.gs1_message_error}")
    if result.gs1_message is None:
        raise _refused(
            "This barcode is not a GS1 label (no GTIN, lot or expiry found). "
            "Scan the GS1-128 or DataMatrix on the supplier's label, or type the fields."
        )
    return result.gs1_message


def is_web_address(raw: str) -> bool:
    """Whether a scan is a web address (after any symbology prefix): a GS1 Digital Link or not."""
    text = raw.strip()
    if text.startswith("]"):
        text = text[3:].lstrip()
    return bool(_WEB_ADDRESS.match(text))


def _digital_link(uri: str) -> GS1Message:
    try:
        link = GS1DigitalLinkURI.parse(uri, config=ParseConfig(separator_chars=SEPARATORS))
    except ParseError as exc:
        if "primary identifier" in str(exc):  # biip's words for a path without (01), (00), ...
            raise _refused(
                f"The web address {uri!r} is not a GS1 Digital Link: its path holds no GTIN "
                "(/01/...) or other GS1 key. Scan the GS1 barcode on the supplier's label, "
                "or type the fields."
            ) from None
        raise _refused(f"This GS1 Digital Link could not be read: {exc}") from None
    return link.as_gs1_message()


def wrong_check_digit(key: str, digits: str, *, typed: bool = False) -> str | None:
    """The sentence for a GTIN or SSCC whose last digit is not its GS1 check digit, naming the
    digit found and the one it should be; None when the check digit is right. A scan is to be
    scanned again (a damaged or misread label); a typed number is to be checked."""
    if not digits.isdigit() or len(digits) < 2:
        return None
    expected = gs1_standard_check_digit(digits[:-1])
    if str(expected) == digits[-1]:
        return None
    fix = "check the number you typed" if typed else "the barcode is damaged or mistyped"
    again = "" if typed else " Scan it again."
    return (
        f"The {key} {digits} has a wrong check digit ({digits[-1]}; it should be {expected}): "
        f"{fix}.{again}"
    )


# What the keys whose check digit biip verifies are called on the floor.
_KEYS = {"00": "SSCC", "01": "GTIN", "02": "GTIN of the contents"}


def _key_problem(ai: str, value: str, problem: str) -> str:
    """biip's error for a GTIN or SSCC in our words (its own words when it is not the digit)."""
    return wrong_check_digit(_KEYS.get(ai, f"({ai})"), value) or f"({ai}): {problem}"


def _refused(message: str) -> Rejected:
    return Rejected([Violation("scan.invalid", message, "scan")])


def parse_scan(raw: str) -> Scan:
    """Read a scanned GS1 barcode.

    Raises:
        Rejected: not GS1 (or a web address that is not a GS1 Digital Link), or a GTIN/SSCC
            with a wrong check digit, or an impossible date (the sentence says which).
    """
    text = raw.strip()
    if not text:
        raise Rejected([Violation("scan.empty", "Nothing was scanned.", "scan")])
    symbology = text[:3] if text.startswith("]") else None
    if symbology is not None and not text[3:].strip():
        raise _refused(
            f"The scan held only the barcode type ({symbology}) and no data. Scan the label again."
        )
    if is_web_address(text):
        message = _digital_link(text[3:].strip() if symbology else text)
    else:
        message = _message(text)
    scan = Scan(raw=raw, hri=message.as_hri(), symbology=symbology)
    for es in message.element_strings:
        ai = es.ai.ai
        if es.gtin_error or es.sscc_error:
            raise _refused(_key_problem(es.ai.ai, es.value, es.gtin_error or es.sscc_error or ""))
        if ai == "01":
            scan.gtin = es.gtin.value if es.gtin else es.value
        elif ai == "10":
            scan.lot = es.value
        elif ai == "17":
            if es.date is None:
                raise _refused(f"The expiry date {es.value} is not a real date.")
            scan.expiry = es.date
        elif ai == "21":
            scan.serial = es.value
        elif ai == "00":
            scan.sscc = es.value
        elif ai[:3] in QUANTITY_AIS and es.decimal is not None:
            scan.quantity, scan.quantity_unit = es.decimal, QUANTITY_AIS[ai[:3]]
        elif ai in QUANTITY_AIS:
            scan.quantity, scan.quantity_unit = Decimal(es.value), QUANTITY_AIS[ai]
        else:
            scan.other[ai] = es.value
    return scan


@dataclass(frozen=True)
class LotLabel:
    """What our lot label carries: the GS1 data, its human-readable text and the words."""

    element_string: str  # with FNC1 where needed, for the printer
    hri: str
    svg: str  # the GS1-128 symbol, for the printable page
    # The same symbol drawn again from the first one on the page (labels of the same lot on one
    # sheet repeat it without repeating every bar).
    svg_again: str = ""


# The id of the symbol's bars in `LotLabel.svg`, which `LotLabel.svg_again` draws again.
SYMBOL_ID = "lot-label-bars"


def lot_label(*, gtin: str | None, lot_code: str, expiry: date | None) -> LotLabel:
    """Our internal lot code as GS1-128 with AIs (01), (17), (10).

    The variable-length lot (10) goes last, so no FNC1 separator is needed inside the symbol.
    Without a GTIN (a material that has none) the label carries (10) and (17) only.
    """
    parts = []
    if gtin:
        parts.append(f"01{gtin}")
    if expiry:
        parts.append(f"17{expiry:%y%m%d}")
    parts.append(f"10{lot_code}")
    data = "".join(parts)
    symbol = barcode.get_barcode_class("gs1_128")(data, writer=SVGWriter())
    out = io.BytesIO()
    symbol.write(
        out,
        options={
            "module_width": 0.33,
            "module_height": 15.0,
            "quiet_zone": 4.0,
            "write_text": False,
        },
    )
    svg = out.getvalue().decode()
    svg = svg[svg.index("<svg") :]  # inline in the page: no XML prolog or doctype
    # Presentation attributes instead of style="": the page's CSP allows no inline styles.
    svg = re.sub(r'style="fill:(\w+);?"', r'fill="\1"', svg)
    # Millimetres become user units of a viewBox, so the symbol scales to a narrow screen
    # without being cut (its printed size stays in mm).
    width, height = re.search(r'<svg[^>]*width="([\d.]+)mm" height="([\d.]+)mm"', svg).groups()  # type: ignore[union-attr]
    svg = re.sub(r'="([\d.]+)mm"', r'="\1"', svg)
    svg = svg.replace(
        f'width="{width}" height="{height}"',
        f'width="{width}mm" height="{height}mm" viewBox="0 0 {width} {height}"',
        1,
    )
    svg = svg.replace('id="barcode_group"', f'id="{SYMBOL_ID}"', 1)
    again = (
        f'<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="{width}mm" '
        f'height="{height}mm" viewBox="0 0 {width} {height}"><use href="#{SYMBOL_ID}"/></svg>'
    )
    return LotLabel(
        element_string=data, hri=GS1Message.parse(data).as_hri(), svg=svg, svg_again=again
    )
