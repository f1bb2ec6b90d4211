"""`tracker report` through the real command: the issuer from TRACKER_ORGANISATION, a future period or moment
refused in one line with nothing written, the same bytes again with --known-at (its preparation date derived
from the moment), the same bytes as the web UI gives, and a printable PDF.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from backend import ORGANISATION
from pypdf import PdfReader

from .helpers import cli_env, database_of, open_services, record, register, stored_count, tracker


def _store(tmp_path: Path) -> str:
    """Gmina Testowa (DE): an agreement in 2015, a youth exchange of 30 in 2025 and one planned for 2026."""
    database = database_of(tmp_path)
    s = open_services(database)
    try:
        pid = register(s.tracker)
        record(s.tracker, pid, "agreement_signed", occurred_on=date(2015, 3, 1), agreement_kind="partnership")
        record(s.tracker, pid, "youth_exchange_held", occurred_on=date(2025, 5, 4), participants=30, host_town="Essen")
        record(s.tracker, pid, "youth_exchange_planned", occurred_on=date(2025, 11, 2), planned_for="2026-06")
        s.projection.catch_up()
    finally:
        s.close()
    return database


def _one_line_error(result: object, starts: str) -> None:
    assert result.returncode == 1 and result.stdout == b""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(starts), result.stderr


def test_the_issuer_is_the_configured_organisation_never_a_fixed_name(tmp_path: Path) -> None:
    _store(tmp_path)
    named = tracker(tmp_path, "report", "--as-of", "2025", env=cli_env(tmp_path, TRACKER_ORGANISATION="Gmina Wisła"))
    assert named.returncode == 0, named.stderr
    html = named.stdout.decode()
    assert '<p class="issuer">Gmina Wisła</p>' in html and ORGANISATION not in html.split("<body>")[1][:400]
    unnamed = tracker(tmp_path, "report", "--as-of", "2025", env=cli_env(tmp_path, TRACKER_ORGANISATION=""))
    assert unnamed.returncode == 0 and 'class="issuer"' not in unnamed.stdout.decode()


def test_a_future_year_day_or_known_at_is_refused_in_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    database = _store(tmp_path)
    before = stored_count(database)
    next_year = str(date.today().year + 1)
    later = (date.today() + timedelta(days=2)).isoformat()  # after today in any time zone
    out = tmp_path / "report.html"
    refused = tracker(tmp_path, "report", "--as-of", next_year, "--output", str(out))
    _one_line_error(refused, f"error: --as-of {next_year}: Must not be after today")
    _one_line_error(tracker(tmp_path, "report", "--as-of", later), f"error: --as-of {later}: Must not be after today")
    _one_line_error(
        tracker(tmp_path, "report", "--as-of", "2025", "--known-at", f"{later}T00:00:00Z"),
        f"error: --known-at {later}T00:00:00Z: Must not be in the future.",
    )
    _one_line_error(
        tracker(tmp_path, "report", "--as-of", "2025-06"),
        "error: --as-of 2025-06: Must be a year (YYYY) or a day (YYYY-MM-DD).",
    )
    assert not out.exists() and stored_count(database) == before


def test_known_at_gives_the_same_bytes_whatever_is_recorded_since(tmp_path: Path) -> None:
    """The report as known at a moment, again after more history: byte for byte the same; prepared that day."""
    database = _store(tmp_path)
    moment = datetime.now(UTC).isoformat()  # to the microsecond: after everything recorded so far
    args = ("report", "--as-of", "2025", "--known-at", moment, "--lang", "en")
    first = tracker(tmp_path, *args)
    assert first.returncode == 0, first.stderr
    s = open_services(database)
    try:
        pid = register(s.tracker, "Gmina Później", partner_country="FR")
        record(s.tracker, pid, "youth_exchange_held", occurred_on=date(2025, 8, 1), participants=12)
        s.projection.catch_up()
    finally:
        s.close()
    again = tracker(tmp_path, *args)
    now = tracker(tmp_path, "report", "--as-of", "2025", "--lang", "en")
    assert again.stdout == first.stdout
    assert "Gmina Później" not in first.stdout.decode() and "Gmina Później" in now.stdout.decode()
    assert 'participants in total</th><th class="number">42' in now.stdout.decode()
    assert 'participants in total</th><th class="number">30' in first.stdout.decode()


def test_the_preparation_date_derives_from_known_at_in_the_office_zone(tmp_path: Path) -> None:
    """23:30 UTC on 15 January is already the 16th in Warsaw: the report is prepared on the 16th."""
    _store(tmp_path)
    result = tracker(tmp_path, "report", "--as-of", "2025-12-31", "--known-at", "2026-01-15T23:30:00Z")
    html = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert 'Sporządzono dnia <time datetime="2026-01-16">16 stycznia 2026</time>.' in html
    assert '<time datetime="2026-01-15T23:30:00Z">16 stycznia 2026, 00:30:00</time>' in html


def test_the_web_ui_gives_the_same_bytes_as_the_command(tmp_path: Path) -> None:
    from application.config import Config
    from application.services import build_services
    from web import create_app

    database = _store(tmp_path)
    moment = datetime.now(UTC).replace(microsecond=0)
    office = moment.astimezone(Config(database=database).tz)  # the form takes office time
    cli = tracker(tmp_path, "report", "--as-of", "2025", "--known-at", moment.isoformat(), "--lang", "en")
    assert cli.returncode == 0, cli.stderr
    s = build_services(Config(database=database, organisation=ORGANISATION))
    try:
        s.users.add("jan", "manager", password="correct-horse-42")
        client = create_app(services=s).test_client()
        login = client.get("/login").get_data(as_text=True)
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"username": "jan", "password": "correct-horse-42", "csrf_token": token})
        known_at = office.strftime("%Y-%m-%dT%H:%M:%S")
        shown = client.get(f"/report?period=year&year=2025&known_at={known_at}&report_lang=en&action=html")
    finally:
        s.close()
    assert shown.status_code == 200
    assert shown.get_data() == cli.stdout


def test_the_pdf_has_numbered_a4_pages_with_the_issuer(tmp_path: Path) -> None:
    _store(tmp_path)
    result = tracker(tmp_path, "report", "--as-of", "2025", "--format", "pdf")
    assert result.returncode == 0, result.stderr
    pdf = PdfReader(io.BytesIO(result.stdout))
    texts = [page.extract_text() for page in pdf.pages]
    assert all(f"Strona {n} / {len(texts)}" in text for n, text in enumerate(texts, start=1))
    assert ORGANISATION in texts[0] and "Za rok 2025" in texts[0]
