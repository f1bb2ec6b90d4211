"""Dates as the reader's region writes them (en-GB day before month, en-US month first, Polish its own), and the
dashboard's chart running through the office's current year, so the silent years since the last activity show."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from flask.testing import FlaskClient

from application.config import Config
from application.services import build_services
from web import create_app
from web.ui.chart import bar_chart

from .helpers import PASSWORD, login, record, register

BROWSERS = {
    "en-GB,en;q=0.9": ("1 Jun 2019", "14 May 2010", 'lang="en"'),
    "en-US,en;q=0.9": ("Jun 1, 2019", "May 14, 2010", 'lang="en"'),
    "pl-PL,pl;q=0.9,en-GB;q=0.5": ("1 cze 2019", "14 maja 2010", 'lang="pl"'),
    "en": ("Jun 1, 2019", "May 14, 2010", 'lang="en"'),  # English without a region: Babel's (American) order
    "de-AT,de;q=0.9,en-IE;q=0.4": ("1 Jun 2019", "14 May 2010", 'lang="en"'),
}


@pytest.mark.parametrize("accept_language", BROWSERS)
def test_dates_follow_the_browsers_region(
    signed_in: Callable[..., FlaskClient], bar: str, accept_language: str
) -> None:
    """Bar's suspension on the dashboard (medium) and its agreement on the partnership page (long), per browser."""
    medium, long, lang = BROWSERS[accept_language]
    client = signed_in("officer", lang=accept_language)
    dashboard = client.get("/?q=Bar").get_data(as_text=True)
    assert f'<time datetime="2019-06-01">{medium}</time>' in dashboard
    page = client.get(f"/partnerships/{bar}").get_data(as_text=True)
    assert f'<time datetime="2010-05-14">{long}</time>' in page and f"<html {lang}>" in page


def test_the_language_switch_keeps_the_browsers_region(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    """A US browser that picks English with the switch gets US dates; the switch back to Polish, Polish ones."""
    client = signed_in("officer", lang="pl-PL,en-US;q=0.5")
    assert "14 maja 2010" in client.get(f"/partnerships/{bar}").get_data(as_text=True)
    client.get("/language/en")
    assert "May 14, 2010" in client.get(f"/partnerships/{bar}").get_data(as_text=True)


def test_record_times_carry_whole_seconds(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    """Every <time datetime> is a value HTML allows: no microseconds on when an entry was recorded."""
    html = signed_in("officer", lang="en-GB").get(f"/partnerships/{bar}").get_data(as_text=True)
    stamps = re.findall(r'<time datetime="([^"]+T[^"]+)">', html)
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)?", s) for s in stamps), stamps


# --- the chart through the current year -------------------------------------------------------------


@pytest.fixture
def in_2024(config: Config, users: dict[str, str]) -> Iterator[FlaskClient]:
    """An officer signed in to a register whose office calendar says 1 March 2024; Bar was active 2010-2011."""
    services = build_services(
        Config(database=config.database, organisation=config.organisation, fixed_today=date(2024, 3, 1))
    )
    pid = register(services, "Miasto Bar", "ME", occurred_on=date(2010, 1, 10))
    record(services, pid, "agreement_signed", date(2010, 5, 14), agreement_kind="partnership")
    record(services, pid, "school_joined", date(2011, 9, 1), school_name="LO nr 1", side="local")
    client = create_app(services=services).test_client()
    login(client, "ala", PASSWORD)
    yield client
    services.close()


def test_the_chart_runs_through_the_current_year(in_2024: FlaskClient) -> None:
    """Activity in 2010 and 2011, the office's today in 2024: bars for 2010 to 2024, the silent ones empty, 2024
    named under the axis and in the table."""
    html = in_2024.get("/").get_data(as_text=True)
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    bars = re.findall(r"<title>(\d{4}): (\d+)</title>", svg)
    assert bars == [("2010", "1"), ("2011", "1")] + [(str(y), "0") for y in range(2012, 2025)]
    assert re.search(r'<text class="year"[^>]*>2024</text>', svg)
    table = html.split("<svg", 1)[1].split("</table>", 1)[0]
    assert '<tr><th scope="row">2024</th><td>0</td></tr>' in table


def test_chart_geometry_names_the_last_year() -> None:
    """Many years: every n-th is written under its bar, counted back from the last, which is always named."""
    chart = bar_chart([{"year": 1990, "count": 3}], through=2026)
    assert chart is not None and [b.year for b in chart.bars] == list(range(1990, 2027))
    labelled = [b.year for b in chart.bars if b.labelled]
    assert labelled[-1] == 2026 and len(labelled) <= 13
    assert all(b.height == 0 for b in chart.bars[1:]) and chart.bars[0].height > 0
    assert bar_chart([], through=2026) is None
    assert [b.year for b in bar_chart([{"year": 2026, "count": 1}], through=2026).bars] == [2026]


@pytest.mark.parametrize(("lang", "said"), [("pl", "od października 2019"), ("en", "since October 2019")])
def test_a_status_since_a_month_is_said_in_the_form_after_since(
    signed_in: Callable[..., FlaskClient], services, lang: str, said: str
) -> None:
    """Polish puts a month after "od" in the genitive ("od października", not "od październik")."""
    pid = register(services, "Gurdżaani", "GE")
    record(services, pid, "letter_of_intent_signed", "2018")
    record(services, pid, "cooperation_suspended", "2019-10", reason="Pandemia")
    page = signed_in("officer", lang=lang).get(f"/partnerships/{pid}").get_data(as_text=True)
    status_line = page.split('class="status-line"', 1)[1].split("</p>", 1)[0]
    assert re.sub(r"<[^>]+>", "", status_line).split(maxsplit=1)[1].strip().endswith(said)
