"""In a real browser: the manager makes the council report for a year, reads it in Polish, prints it with
page numbers, downloads it as HTML and as a PDF, and is told clearly when asking for a year still to come;
axe-core checks the form, its error state and the report itself."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from backend import ORGANISATION
from flask import Flask
from pypdf import PdfReader

from application.seed import load_seed
from application.services import Services

from .browser import axe_source, axe_violations, describe, have_chromium, served
from .helpers import PASSWORD, log_position, record

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not have_chromium(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture
def base_url(app: Flask, services: Services, users: dict[str, str]) -> Iterator[str]:
    """The county's partner list, and a youth exchange of 18 held with the first partner in 2025."""
    load_seed(services.tracker, today=services.today())
    services.projection.catch_up()
    from projections import queries

    first = queries.list_partnerships(services.db, services.clock())["items"][0]
    record(services, first["id"], "youth_exchange_held", date(2025, 4, 7), participants=18, host_town="Piaseczno")
    with served(app) as url:
        yield url


def _clean(page: Any, what: str) -> None:
    violations = axe_violations(page, axe_source())
    assert violations == [], f"axe-core on {what} ({page.url}):\n{describe(violations)}"


def test_the_manager_makes_prints_and_downloads_the_council_report(
    browser: Any, base_url: str, services: Services, users: dict[str, str]
) -> None:
    context = browser.new_context(locale="pl-PL", accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(base_url + "/login")
        page.fill("#username", users["manager"])
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.get_by_role("link", name="Sprawozdanie dla rady").click()
        assert page.locator("h1").inner_text() == "Sprawozdanie dla rady"
        _clean(page, "the report form")

        # a year still to come: refused, the field named and linked, the input kept, nothing recorded
        before = log_position(services)
        future = str(date.today().year + 1)
        page.fill("#f-year", future)
        page.get_by_role("button", name="Pokaż sprawozdanie").click()
        summary = page.locator(".error-summary")
        assert "Rok: Nie może być później niż dziś" in summary.inner_text()
        assert page.input_value("#f-year") == future
        _clean(page, "the report form with an error")
        summary.get_by_role("link").click()
        assert page.evaluate("() => location.hash") == "#f-year"
        assert log_position(services) == before

        # the year 2025, in Polish
        page.check("#f-period-year")
        page.fill("#f-year", "2025")
        page.check("#f-report_lang-pl")
        page.get_by_role("button", name="Pokaż sprawozdanie").click()
        assert page.locator("html").get_attribute("lang") == "pl"
        assert page.locator("h1").inner_text() == "Sprawozdanie ze współpracy zagranicznej"
        assert page.locator(".issuer").inner_text() == ORGANISATION
        body = page.locator("body").inner_text()
        assert "Za rok 2025" in body and "Wymian: 1; uczestników łącznie" in body and "Podpis" in body
        _clean(page, "the council report")
        shown = page.content()

        # printed from the browser: the page-margin boxes number the pages
        printed = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
        texts = [p.extract_text() for p in printed.pages]
        assert all(f"Strona {n} / {len(texts)}" in t for n, t in enumerate(texts, start=1)), texts[0][-200:]

        # downloads: the same page as HTML, and a PDF to print
        page.goto(base_url + "/report")
        page.fill("#f-year", "2025")
        with page.expect_download() as html_download:
            page.get_by_role("button", name="Pobierz jako HTML").click()
        assert html_download.value.suggested_filename == "council-report-2025-pl.html"
        downloaded = open(html_download.value.path(), encoding="utf-8").read()
        assert "<h1>Sprawozdanie ze współpracy zagranicznej</h1>" in downloaded and "Za rok 2025" in shown
        with page.expect_download() as pdf_download:
            page.get_by_role("button", name="Pobierz jako PDF").click()
        assert pdf_download.value.suggested_filename == "council-report-2025-pl.pdf"
        pdf = PdfReader(pdf_download.value.path())
        first = pdf.pages[0].extract_text()
        assert ORGANISATION in first and f"Strona 1 / {len(pdf.pages)}" in first
    finally:
        context.close()
