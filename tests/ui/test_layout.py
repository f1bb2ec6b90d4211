"""The layout in a real browser (Debian's chromium, driven by Playwright) on a phone (375 x 812) and a wide screen
(1920 x 1080): on the phone no page scrolls sideways, the register's rows are stacked cards with each value named,
a table too wide for the screen scrolls in its own box with a visible cue, the header keeps "sign out" on one line;
on the wide screen the content takes the room and a hash stays on one line. axe-core checks the phone pages too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask

from application import jobs
from application.services import Services

from .browser import axe_source, axe_violations, describe, have_chromium, served
from .helpers import PASSWORD, record, register

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not have_chromium(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

PHONE = {"width": 375, "height": 812}
WIDE = {"width": 1920, "height": 1080}


@pytest.fixture
def site(app: Flask, services: Services, users: dict[str, str]) -> Iterator[dict[str, str]]:
    """The county's seed, Bar with a school, long names and a retraction, the inactivity check run; served."""
    services.load_seed()
    bar = register(services, "Opština Bar — Skupština opštine (Montenegro)", "ME", occurred_on=date(2009, 3, 27))
    record(services, bar, "agreement_signed", date(2010, 5, 14), agreement_kind="partnership", reference="OR.1.2010")
    record(services, bar, "school_joined", date(2011, 9, 1), school_name="Gimnazija „Niko Rolović”", side="partner")
    record(services, bar, "note_added", date(2012, 4, 2), text="Wizyta delegacji")
    record(services, bar, "event_retracted", services.today(), retracts=4, reason="Wpisano do złego partnera")
    jobs.scan_inactivity(services, services.today())
    jobs.record_run(services, jobs.INACTIVITY_SCAN, services.today())
    services.projection.catch_up()
    with served(app) as url:
        yield {"url": url, "bar": bar}


def open_as(browser: Any, site: dict[str, str], name: str, viewport: dict[str, int], locale: str = "pl-PL") -> Any:
    context = browser.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    page.goto(f"{site['url']}/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{site['url']}/")
    return page


#: The elements that stick out to the right of the screen, innermost first (for a readable failure).
STICKING_OUT = """() => {
  const width = document.scrollingElement.clientWidth;
  const out = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 0.5
    && ![...e.children].some(c => c.getBoundingClientRect().right > width + 0.5));
  return out.slice(0, 5).map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')}`
    + ` right=${Math.round(e.getBoundingClientRect().right)} «${(e.textContent || '').trim().slice(0, 60)}»`);
}"""


def sideways(page: Any) -> int:
    """How far the page itself scrolls sideways (0 when it fits the screen)."""
    return page.evaluate("() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")


@pytest.mark.parametrize("locale", ["pl-PL", "en-GB"])
def test_on_a_phone_nothing_scrolls_the_page_sideways(browser: Any, site: dict[str, str], locale: str) -> None:
    """The admin (the longest menu) on the dashboard, a partnership's page and the audit log, at 375 px."""
    page = open_as(browser, site, "root", PHONE, locale)
    axe = axe_source()
    for path in ("/", f"/partnerships/{site['bar']}", "/audit/"):
        page.goto(site["url"] + path)
        assert sideways(page) == 0, f"{path} scrolls sideways at 375 px: {page.evaluate(STICKING_OUT)}"
        violations = axe_violations(page, axe)
        assert violations == [], f"axe-core on {path} at 375 px:\n{describe(violations)}"
        sign_out = page.locator(".account .link-button").bounding_box()
        line = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.link-button')).lineHeight)")
        assert sign_out["height"] < 1.5 * line, "'sign out' wraps in the header"
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 0.4 * PHONE["height"], f"the header takes {header['height']} px of the phone"
    page.context.close()


def test_on_a_phone_the_register_is_stacked_cards(browser: Any, site: dict[str, str]) -> None:
    """Each partnership is a card: its name on top, then each value under the other with its column's name."""
    page = open_as(browser, site, "ala", PHONE)
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), "the register scrolls sideways in its box"
    row = page.locator("table.list tbody tr").first
    cells = row.locator("td")
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    assert len({round(b["x"]) for b in boxes}) == 1, "the values are not under one another"
    assert all(a["y"] < b["y"] for a, b in zip(boxes, boxes[1:], strict=False))
    labels = [cells.nth(i).evaluate("e => getComputedStyle(e, '::before').content") for i in range(cells.count())]
    assert labels == ['"Kraj"', '"Status"', '"Od"', '"Ostatnia aktywność"'], labels
    assert (
        not page.locator("table.list thead").is_visible()
        or page.locator("table.list thead").bounding_box()["width"] <= 1
    )
    page.context.close()


def test_on_a_phone_a_wide_table_scrolls_in_its_box_with_a_cue(browser: Any, site: dict[str, str]) -> None:
    """The audit log is wider than a phone: it scrolls inside its box (the page does not), which shows a shadow at
    the edge where it continues."""
    page = open_as(browser, site, "ewa", PHONE)
    page.goto(site["url"] + "/audit/")
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth"), "the log fits a phone: no cue needed, test moot"
    assert "gradient" in wrap.evaluate("e => getComputedStyle(e).backgroundImage")
    assert sideways(page) == 0
    page.context.close()


def test_on_a_wide_screen_the_content_uses_the_width_and_hashes_stay_on_one_line(
    browser: Any, site: dict[str, str]
) -> None:
    page = open_as(browser, site, "ewa", WIDE)
    assert page.locator("main").bounding_box()["width"] > 1600, "the content stays narrow at 1920 px"
    page.goto(site["url"] + "/audit/")
    assert sideways(page) == 0
    hashes = page.locator("table.log code.hash")
    assert hashes.count() > 0
    for i in range(min(hashes.count(), 5)):
        lines = hashes.nth(i).evaluate(
            "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length; }"
        )
        assert lines == 1, f"hash {i + 1} wraps onto {lines} lines at 1920 px"
    page.context.close()
