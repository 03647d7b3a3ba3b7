"""The field() form macro over HTTP: a refused form names each problem right beside its field, and
the control says it is invalid and points at its message (aria-invalid, aria-describedby)."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

from tests.routes.conftest import Browser

MATERIAL = {"code": "RM-ASC", "name": "", "kind": "raw", "unit": "kg", "tracking": "lot"}


class Events(HTMLParser):
    """The page as a flat list of (event, tag, attributes or text), in document order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, str, dict[str, str | None] | str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag, {}))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.events.append(("text", "", data.strip()))

    def control(self, name: str) -> tuple[int, dict[str, str | None]]:
        for i, (kind, tag, attrs) in enumerate(self.events):
            if kind == "start" and tag in {"input", "select", "textarea"}:
                assert isinstance(attrs, dict)
                if attrs.get("name") == name:
                    return i, attrs
        raise AssertionError(f"no control named {name}")

    def after_label(self, name: str) -> list[tuple[str, str, dict[str, str | None] | str]]:
        """What follows the </label> that closes the control `name`."""
        i, _ = self.control(name)
        end = next(j for j in range(i, len(self.events)) if self.events[j][:2] == ("end", "label"))
        return self.events[end + 1 :]


def test_a_refused_field_carries_its_message_beside_it(
    signed_in: Callable[..., Browser],
) -> None:
    qa = signed_in("qa")
    refused = qa.post("/materials/", {**MATERIAL, "gtin": "123"}, htmx=True)
    assert refused.status_code == 422
    page = Events(refused.get_data(as_text=True))

    _, gtin = page.control("gtin")
    assert gtin["aria-invalid"] == "true"
    assert gtin["aria-describedby"] == "gtin-error"
    assert gtin["value"] == "123"  # what was typed is kept
    following = page.after_label("gtin")
    assert following[0] == ("start", "p", {"class": "field-error", "id": "gtin-error"})
    assert following[1][0] == "text" and "A GTIN has 8, 12, 13 or 14 digits" in str(following[1][2])

    _, name = page.control("name")
    assert name["aria-invalid"] == "true"
    assert page.after_label("name")[0] == (
        "start",
        "p",
        {"class": "field-error", "id": "name-error"},
    )

    # A field with nothing wrong is left alone: no aria, no message after it.
    _, allergens = page.control("allergens")
    assert "aria-invalid" not in allergens and "aria-describedby" not in allergens
    assert page.after_label("allergens")[0] == ("start", "label", {"class": "field"})


def test_a_fresh_form_marks_nothing_invalid(signed_in: Callable[..., Browser]) -> None:
    qa = signed_in("qa")
    html = qa.client.get("/materials/new").get_data(as_text=True)
    assert "aria-invalid" not in html
    assert 'class="field-error"' not in html
