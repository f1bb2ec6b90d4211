"""An auditor's journey in a real browser (Debian's chromium, driven by Playwright) over the county's register:
the register as it stood on a past day, the log filtered by partnership and type newest first, a mistyped
digest told apart from a changed log, in Polish, and the spreadsheet of the filtered entries; axe-core finds
nothing on any page or state on the way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from application.seed import load_seed
from application.services import Services
from projections import queries

from .browser import axe_source, axe_violations, describe, have_chromium, served
from .helpers import PASSWORD

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not have_chromium(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

ROME = "XIII dzielnica Rzymu (Municipio XIII Aurelio) i Ladispoli"


@pytest.fixture
def seeded(services: Services, users: dict[str, str]) -> Services:
    """The county's partner list, and a user per role (ewa is the auditor)."""
    load_seed(services.tracker, today=services.today())
    services.projection.catch_up()
    return services


@pytest.fixture
def page(browser: Any, app: Flask, seeded: Services) -> Iterator[Any]:
    with served(app) as base_url:
        context = browser.new_context(locale="pl-PL", base_url=base_url, accept_downloads=True)
        yield context.new_page()
        context.close()


def accessible(page: Any, what: str) -> None:
    violations = axe_violations(page, axe_source())
    assert violations == [], f"axe-core on {what} ({page.url}):\n{describe(violations)}"


def status_of(page: Any, partner: str) -> str:
    row = page.locator("table.register-at tbody tr", has=page.locator(f"th >> text={partner}"))
    return row.locator(".badge").first.inner_text()


def test_an_auditor_reads_the_register_then_the_log_checks_a_digest_and_downloads(page: Any, seeded: Services) -> None:
    page.goto("/login")
    page.fill("#username", "ewa")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/$"))

    # the register as it stood: Bar, suspended now, was active in 2020
    page.click("nav.main-nav >> text=Rejestr na dzień")
    accessible(page, "the register today")
    assert status_of(page, "Miasto Bar") == "Zawieszone"
    page.fill("#register-as_of", "2020-01-01")
    page.click("#show")
    assert "Stan na 1 stycznia 2020 według obecnej wiedzy" in page.inner_text("h2#stood-title")
    assert status_of(page, "Miasto Bar") == "Aktywne"
    accessible(page, "the register as of a past day")
    page.fill("#register-as_of", "2020-13")
    page.click("#show")
    assert page.get_attribute("#register-as_of", "aria-invalid") == "true"
    assert page.input_value("#register-as_of") == "2020-13"
    assert page.locator("table.register-at").count() == 0
    accessible(page, "the register with a mistyped day")
    page.click(".error-summary a")
    assert page.evaluate("document.activeElement.id") == "register-as_of"

    # the log: Rome's schools, newest first
    page.click("nav.main-nav >> text=Audyt")
    rome = next(pid for pid, name in queries.log_partnerships(seeded.db) if name == ROME)
    page.select_option("#log-partnership", rome)
    page.select_option("#log-type", "school_joined")
    page.select_option("#log-order", "newest")
    page.click("#filter")
    shown = [int(p) for p in page.locator("table.log tbody th").all_inner_texts()]
    schools = [
        e["position"] for e in queries.iter_log(seeded.db, queries.LogFilter(partnership_id=rome, type="school_joined"))
    ]
    assert len(schools) == 5 and shown == schools[::-1]
    assert "5 wpisów pasuje do filtra" in page.inner_text("#log-found")
    accessible(page, "the filtered log")

    # the spreadsheet of what the filter shows
    with page.expect_download() as download:
        page.click("text=Wybrane wpisy jako arkusz (.xlsx)")
    assert download.value.suggested_filename == f"tracker-log-{queries.head(seeded.db)['position']}-filtered.xlsx"
    with open(download.value.path(), "rb") as f:  # saved without a suffix, which openpyxl's name check wants
        rows = list(load_workbook(f).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == schools[::-1] and {r[4] for r in rows[1:]} == {ROME}

    # a mistyped digest: not a digest of this log, said in Polish, the log itself intact
    head = queries.head(seeded.db)
    typo = head["hash"][:-1] + ("0" if head["hash"][-1] != "0" else "1")
    page.fill("#f-digest", f"{head['position']}:{typo}")
    page.click("#verify")
    report = page.inner_text(".report")
    assert "To nie jest skrót tego dziennika." in report and "Sam dziennik jest nienaruszony" in report
    assert "Naruszony" not in report
    accessible(page, "the check of a mistyped digest")
