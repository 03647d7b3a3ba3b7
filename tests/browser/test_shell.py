"""The mobile shell in a real browser: sign-in and role homes, touch targets, CSRF, errors in place,
inactivity sign-out, tablet layout and the PWA pieces (manifest, service worker, offline page)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import func, select

from app.models import User
from tests.browser.conftest import (
    HANDHELD,
    LiveServer,
    sign_in,
    start_server,
)

# Whose home shows which panels (SCENARIOS.md demo people).
HOMES = [
    ("olivia", "Olivia Okafor", "Operator", ["panel-operator"]),
    ("walt", "Walter Brandt", "Warehouse", ["panel-warehouse"]),
    ("quinn", "Quinn Adeyemi", "QA", ["panel-qa"]),
    ("sam", "Samira Novak", "Supervisor", ["panel-supervisor"]),
    ("ada", "Ada Ferreira", "Admin", ["panel-admin", "panel-qa"]),
]
ALL_PANELS = {"panel-operator", "panel-warehouse", "panel-qa", "panel-supervisor", "panel-admin"}

# Every visible thing a finger can hit: it must be at least 44 CSS px tall and wide.
SMALL_TARGETS_JS = """
() => {
  const selector = 'a, button, input:not([type=hidden]), select, textarea, summary, label.check';
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;            // not rendered
    if (el.matches('label.check input')) continue;                // the whole label is the target
    if (box.height < 44 || box.width < 44) {
      small.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.name || '').trim()}" `
                 + `${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}
"""
NO_HORIZONTAL_SCROLL_JS = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize(("username", "full_name", "role", "panels"), HOMES)
def test_each_person_signs_in_to_their_role_home(
    handheld: Page, username: str, full_name: str, role: str, panels: list[str]
) -> None:
    sign_in(handheld, username)

    expect(handheld.locator("#who .who-name")).to_have_text(full_name)
    expect(handheld.locator("#who .who-roles")).to_contain_text(role)
    for panel in panels:
        expect(handheld.locator(f"#{panel}")).to_be_visible()
    for panel in ALL_PANELS - set(panels):
        expect(handheld.locator(f"#{panel}")).to_have_count(0)


def test_wrong_password_is_refused_with_a_message_on_the_login_page(handheld: Page) -> None:
    sign_in_page = handheld
    sign_in_page.goto("/login")
    sign_in_page.get_by_label("Username").fill("olivia")
    sign_in_page.get_by_label("Password").fill("not-her-password")
    sign_in_page.get_by_role("button", name="Sign in", exact=True).click()

    expect(sign_in_page.locator("#login-error")).to_contain_text(
        "Username or password is not correct"
    )
    expect(sign_in_page.locator("#who")).to_have_count(0)
    expect(sign_in_page.get_by_label("Username")).to_have_value("olivia")


@pytest.mark.parametrize(
    "path",
    ["/login", "/", "/users", "/users/new", "/account", "/audit", "/materials/", "/equipment/",
     "/parties/", "/recipes/", "/training/", "/equipment/1", "/recipes/revisions/2/preview",
     "/lots/", "/lots/receive", "/lots/issue", "/lots/pick", "/batches/",
     "/lots/output", "/lots/ASC-2409-02", "/lots/ASC-2409-02/label", "/shipments/",
     "/materials/1", "/lots/ASC-2611-07", "/documents/"],
)  # fmt: skip
def test_handheld_pages_have_big_targets_and_no_sideways_scrolling(
    handheld: Page, path: str
) -> None:
    if path != "/login":
        sign_in(handheld, "ada")
    handheld.goto(path)

    assert handheld.evaluate(SMALL_TARGETS_JS) == []
    assert handheld.evaluate(NO_HORIZONTAL_SCROLL_JS)
    if path not in ("/login", "/"):
        # Issue 12 point 5: a labelled way home on every page, not only the wordmark.
        expect(handheld.get_by_role("link", name="Home", exact=True)).to_be_visible()


def test_a_post_without_its_csrf_token_is_refused(handheld: Page, live_server: LiveServer) -> None:
    sign_in(handheld, "ada")
    handheld.goto("/users/new")
    users_before = _user_count(live_server)

    # A plain fetch without the token, as a forged cross-site form would arrive.
    status, text = handheld.evaluate(
        """async () => {
             const body = new URLSearchParams({username: 'mallory', full_name: 'Mal Lory',
                                               roles: 'admin', password: 'long-enough-password'});
             const r = await fetch('/users/', {method: 'POST', body});
             return [r.status, await r.text()];
           }"""
    )
    assert status == 400
    assert "security token is missing" in text
    assert "Traceback" not in text

    # An htmx request whose token header was stripped: the refusal shows in place.
    handheld.evaluate("document.body.removeAttribute('hx-headers')")
    handheld.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())"
    )
    handheld.get_by_label("Username").fill("mallory")
    handheld.get_by_label("Full printed name").fill("Mal Lory")
    handheld.get_by_label("Initial password").fill("long-enough-password")
    handheld.get_by_role("button", name="Create user").click()

    expect(handheld.locator("#messages")).to_contain_text("security token is missing")
    assert handheld.url.endswith("/users/new")
    assert _user_count(live_server) == users_before


def test_htmx_form_errors_show_beside_the_fields_in_place(
    handheld: Page, live_server: LiveServer
) -> None:
    sign_in(handheld, "ada")
    handheld.goto("/users/new")
    users_before = _user_count(live_server)

    handheld.get_by_label("Username").fill("olivia")  # taken: usernames are never reused
    handheld.get_by_label("Full printed name").fill("Another Olivia")
    handheld.get_by_label("Initial password").fill("short")
    with handheld.expect_response("**/users/") as answer:
        handheld.get_by_role("button", name="Create user").click()

    assert answer.value.status == 422
    form = handheld.locator("#user-new-form")
    expect(form).to_contain_text("Please correct the marked fields")
    expect(form).to_contain_text("has been used before")
    expect(form).to_contain_text("12 characters")
    expect(handheld.get_by_label("Full printed name")).to_have_value("Another Olivia")
    assert handheld.url.endswith("/users/new")
    assert _user_count(live_server) == users_before


@pytest.fixture
def impatient_server(demo_database: str) -> Iterator[LiveServer]:
    """The same database behind a server whose inactivity timeout is three seconds."""
    server = start_server(demo_database, idle_timeout_seconds=3)
    yield server
    server.stop()


def test_an_idle_handheld_signs_out_by_itself(
    new_context: Callable[..., BrowserContext], impatient_server: LiveServer
) -> None:
    page = new_context(impatient_server.url, HANDHELD).new_page()
    sign_in(page, "olivia")

    # Nobody touches it; the page's own timer reloads and the server ends the session.
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=10_000)
    expect(page.locator("#messages")).to_contain_text("signed out after")
    expect(page.locator("#who")).to_have_count(0)
    page.goto("/account")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_an_idle_session_is_refused_by_the_server_too(
    new_context: Callable[..., BrowserContext], impatient_server: LiveServer
) -> None:
    context = new_context(impatient_server.url, HANDHELD)
    page = context.new_page()
    sign_in(page, "ada")
    page.goto("/users/new")
    token = page.locator("input[name=csrf_token]").first.input_value()
    page.goto("about:blank")  # the tab is gone; its cookie is not
    page.wait_for_timeout(4_500)

    late = context.request.post(
        "/users/",
        form={
            "csrf_token": token,
            "username": "late",
            "full_name": "Late Entry",
            "roles": "operator",
            "password": "long-enough-password",
        },
        max_redirects=0,
    )

    assert late.status == 302
    assert "/login?expired=1" in late.headers["location"]
    with impatient_server.database.session_scope() as s:
        assert s.exec(select(User).where(User.username == "late")).first() is None


def test_tablet_shows_role_panels_side_by_side(tablet: Page) -> None:
    sign_in(tablet, "ada")

    admin = tablet.locator("#panel-admin").bounding_box()
    qa = tablet.locator("#panel-qa").bounding_box()
    assert admin and qa
    assert admin["y"] == qa["y"]  # one row, two columns
    assert qa["x"] + qa["width"] <= admin["x"]
    assert tablet.evaluate(NO_HORIZONTAL_SCROLL_JS)


def test_handheld_stacks_role_panels_in_one_column(handheld: Page) -> None:
    sign_in(handheld, "ada")

    admin = handheld.locator("#panel-admin").bounding_box()
    qa = handheld.locator("#panel-qa").bounding_box()
    assert admin and qa
    assert admin["x"] == qa["x"]
    assert admin["y"] > qa["y"] + qa["height"] - 1


def test_installable_with_manifest_and_icons(handheld: Page) -> None:
    handheld.goto("/login")
    href = handheld.locator("link[rel=manifest]").get_attribute("href")
    assert href
    manifest = handheld.request.get(href).json()

    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert handheld.request.get(icon["src"]).headers["content-type"] == "image/png"


def test_offline_the_shell_says_actions_need_the_network(handheld: Page) -> None:
    context = handheld.context
    sign_in(handheld, "olivia")
    handheld.wait_for_function(
        "navigator.serviceWorker && navigator.serviceWorker.ready.then(() => true)"
    )
    handheld.reload()  # now controlled by the service worker
    handheld.wait_for_function("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    handheld.goto("/account")

    expect(handheld.locator("#offline")).to_contain_text(
        "Nothing can be recorded or signed while this device is offline"
    )
    # The stylesheet came from the worker's cache: the page is still styled for a thumb.
    button = handheld.get_by_role("link", name="Try again").bounding_box()
    assert button and button["height"] >= 44
    context.set_offline(False)


def test_static_assets_are_versioned_and_cached_for_a_year(handheld: Page) -> None:
    handheld.goto("/login")
    css = handheld.locator("link[rel=stylesheet]").get_attribute("href")
    assert css and css.startswith("/assets/")
    response = handheld.request.get(css)

    assert response.ok
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]


def _user_count(server: LiveServer) -> int:
    with server.database.session_scope() as s:
        return s.exec(select(func.count()).select_from(User)).one()
