"""The council report from the UI: a year or a day, in Polish or English, shown, downloaded as HTML or as a PDF.

The story: Bar (Montenegro) held two youth exchanges in 2025 (24 participants in June, a number not given
in September) and planned a sailing camp for July 2026. The manager asks for the 2025 report.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from backend import ORGANISATION
from flask.testing import FlaskClient
from pypdf import PdfReader

from application.report import render_report, report_period
from application.services import Services

from .helpers import log_position, record, register

Client = Callable[..., FlaskClient]


@pytest.fixture
def bar(services: Services) -> str:
    pid = register(services, "Miasto Bar", "ME", occurred_on=date(2009, 3, 27))
    record(services, pid, "agreement_signed", date(2010, 5, 14), agreement_kind="partnership")
    record(
        services,
        pid,
        "youth_exchange_held",
        date(2025, 6, 10),
        ends_on=date(2025, 6, 17),
        participants=24,
        host_town="Bar",
    )
    record(services, pid, "youth_exchange_held", date(2025, 9, 5), host_town="Piaseczno")
    record(
        services, pid, "youth_exchange_planned", date(2025, 10, 1), planned_for="2026-07", description="Obóz żeglarski"
    )
    return pid


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("role", ["officer", "auditor", "manager", "admin"])
def test_every_role_that_reads_the_register_has_the_report_page(signed_in: Client, role: str) -> None:
    """Officer, auditor, manager and admin see the form, linked from the main navigation."""
    page = signed_in(role).get("/report")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<a href="/report" aria-current="page">Sprawozdanie dla rady</a>' in html
    assert '<label for="f-year">Rok</label>' in html and '<label for="f-day">Dzień</label>' in html
    assert f'value="{date.today().year}"' in html  # the current year is offered


def test_an_anonymous_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/report?period=year&year=2025&action=show")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_2025_report_in_polish_has_issuer_exchanges_plans_and_signature(
    signed_in: Client, bar: str, services: Services
) -> None:
    """Shown in the browser: the issuer, the year, the exchanges with participants and totals, the plan, a signature."""
    response = signed_in("manager").get("/report?period=year&year=2025&report_lang=pl&action=show")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Content-Disposition" not in response.headers
    text = text_of(html)
    assert '<html lang="pl">' in html
    assert f'<p class="issuer">{ORGANISATION}</p>' in html
    assert "Za rok 2025, według wszystkich wpisów w rejestrze." in text
    assert f"Sporządzono dnia {date.today().day} " in text  # prepared today (no "known at")
    assert "Wymiany młodzieży zrealizowane w 2025 r." in text
    assert "Miasto Bar (Czarnogóra) Bar 24" in text  # 10–17 June 2025, hosted in Bar, 24 participants
    assert "Piaseczno nie podano" in text
    assert "Wymian: 2; uczestników łącznie 24" in text
    assert "Wymiany zapisane bez liczby uczestników: 1." in text
    assert "lipiec 2026 Miasto Bar (Czarnogóra) Obóz żeglarski" in text  # the plan, as precise as recorded
    assert "Sporządził(a)" in text and "Imię i nazwisko" in text and "Stanowisko" in text and "Podpis" in text
    assert 'counter(page) " / " counter(pages)' in html and '"Strona "' in html
    assert '<time datetime="2026-07">lipiec 2026</time>' in html
    # the same bytes as the application (and so the CLI) gives for the same arguments, shown under a CSP
    # that allows its one inline style by hash and nothing else
    period = report_period("2025", None, today=services.today(), tz=services.config.tz)
    same = render_report(
        services.db, services.clock(), period=period, lang="pl", organisation=ORGANISATION, tz=services.config.tz
    )
    assert response.get_data() == same.encode("utf-8")
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    csp = response.headers["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp and "unsafe" not in csp


def test_the_report_in_english_uses_the_vocabulary_of_the_ui(signed_in: Client, bar: str) -> None:
    text = text_of(signed_in("auditor").get("/report?period=year&year=2025&report_lang=en&action=show").get_data(True))
    assert "For the year 2025" in text and "Montenegro" in text and "active, since May 14, 2010" in text
    assert "Host town" in text and "Number of participants" in text and "Planned for" in text
    assert "Prepared by" in text and "Signature" in text


def test_a_day_report_reads_the_register_on_that_day(signed_in: Client, bar: str) -> None:
    """As of 2025-07-01: the June exchange only, and the plan (made in October) not yet."""
    text = text_of(signed_in("manager").get("/report?period=day&day=2025-07-01&action=show").get_data(True))
    assert "Stan na 1 lipca 2025" in text
    assert "Wymian: 1; uczestników łącznie 24" in text
    assert "Obóz żeglarski" not in text and "Brak zaplanowanych" in text


def test_the_current_year_is_reported_as_of_today(signed_in: Client, bar: str) -> None:
    year = date.today().year
    text = text_of(signed_in("manager").get(f"/report?period=year&year={year}&action=show").get_data(True))
    assert f"Za rok {year} (rok jeszcze trwa: stan na {date.today().day} " in text


def test_download_as_html_is_the_same_page_as_an_attachment(signed_in: Client, bar: str) -> None:
    client = signed_in("manager")
    shown = client.get("/report?period=year&year=2025&report_lang=en&action=show")
    downloaded = client.get("/report?period=year&year=2025&report_lang=en&action=html")
    assert downloaded.status_code == 200 and downloaded.get_data() == shown.get_data()
    assert downloaded.headers["Content-Disposition"] == 'attachment; filename="council-report-2025-en.html"'


def test_download_as_pdf_prints_with_issuer_and_page_numbers(signed_in: Client, bar: str) -> None:
    """The PDF a clerk prints: A4 pages, each numbered "Strona N / M", the issuer and the totals in it."""
    response = signed_in("manager").get("/report?period=year&year=2025&report_lang=pl&action=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="council-report-2025-pl.pdf"'
    pdf = PdfReader(io.BytesIO(response.get_data()))
    pages = [page.extract_text() for page in pdf.pages]
    for n, page in enumerate(pages, start=1):
        assert f"Strona {n} / {len(pages)}" in page
    everything = "\n".join(pages)
    assert ORGANISATION in everything and "Sprawozdanie ze współpracy zagranicznej" in everything
    assert "uczestników łącznie" in everything and "Podpis" in everything
    width, height = (float(x) for x in pdf.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def _refused(client: FlaskClient, query: str) -> str:
    response = client.get(f"/report?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html
    assert response.mimetype == "text/html" and "Content-Disposition" not in response.headers
    assert '<div class="error-summary" role="alert"' in html
    return html


def test_a_future_year_is_refused_with_the_field_named_and_the_input_kept(
    signed_in: Client, bar: str, services: Services
) -> None:
    before = log_position(services)
    future = date.today().year + 1
    html = _refused(signed_in("manager"), f"period=year&year={future}&action=pdf")
    assert f'<a href="#f-year">Rok: Nie może być później niż dziś ({date.today().day} ' in html
    assert f'id="f-year" name="year" value="{future}"' in html
    assert 'aria-describedby="f-year-hint f-year-error" aria-invalid="true"' in html
    assert log_position(services) == before  # a refused report records nothing


def test_a_future_day_and_a_future_known_at_are_refused_together(signed_in: Client, bar: str) -> None:
    tomorrow = date.today() + timedelta(days=2)  # after today in any time zone
    html = _refused(
        signed_in("manager", lang="en"),
        f"period=day&day={tomorrow}&known_at={tomorrow}T10:00&action=show",
    )
    assert '<a href="#f-day">Day: Must not be after today' in html
    assert '<a href="#f-known_at">As known at (date and time, optional): Must not be in the future.</a>' in html
    assert f'id="f-day" name="day" value="{tomorrow}"' in html
    assert 'id="f-period-day" name="period" value="day" checked' in html


@pytest.mark.parametrize(
    ("query", "field", "echo"),
    [
        ("period=year&year=20x5", "year", "20x5"),
        ("period=year&year=2025-06", "year", "2025-06"),
        ("period=day&day=", "day", ""),
        ("period=day&day=2025-02-30", "day", "2025-02-30"),
        ("period=week&year=2025", "period", None),
        ("period=year&year=2025&known_at=yesterday", "known_at", "yesterday"),
        ("period=year&year=2025&report_lang=de", "report_lang", None),
    ],
)
def test_unreadable_input_is_refused_naming_the_field(
    signed_in: Client, query: str, field: str, echo: str | None
) -> None:
    html = _refused(signed_in("officer", lang="en"), f"{query}&action=show")
    anchors = {"period": "f-period-year", "report_lang": "f-report_lang-pl"}
    assert f'<a href="#{anchors.get(field, "f-" + field)}">' in html
    assert f'id="f-{field}-error"' in html
    if echo is not None:
        assert f'name="{field}" value="{echo}"' in html
