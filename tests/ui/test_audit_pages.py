"""The auditor's pages: the global log, the integrity check, the digest, and the downloads."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from application.export import export_chunks
from application.services import Services
from projections import queries

from .helpers import csrf_token, register

REPO = Path(__file__).resolve().parents[2]


def log_rows(html: str) -> list[tuple[str, str]]:
    """(position, hash) of each row of the log table."""
    body = html.split('class="list log"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row">(\d+)</th>.*?<code class="hash">([0-9a-f]{64})</code>', body, re.DOTALL)


def test_the_log_page_shows_position_hash_type_who_and_when(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    html = signed_in("auditor").get("/audit/").get_data(as_text=True)
    entries = queries.log_page(services.db)["items"]
    assert log_rows(html) == [(str(e["position"]), e["hash"]) for e in entries]
    assert "Zarejestrowano partnerstwo" in html and "Podjęto uchwałę rady" in html
    assert "<td>ala</td>" in html and "Miasto Bar</a>" in html
    head = queries.head(services.db)
    assert (
        f'readonly spellcheck="false" aria-describedby="digest-hint">{head["position"]}:{head["hash"]}</textarea>'
        in html
    )
    assert '<label for="digest-now">' in html


def test_the_log_is_paged(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    for i in range(60):
        services.tracker.register_partnership(
            {"partner_name": f"P{i}", "partner_country": "IT", "partner_kind": "city", "local_party": "P"},
            recorded_by="ala",
            today=services.today(),
        )
    services.projection.catch_up()
    client = signed_in("auditor")
    first = client.get("/audit/").get_data(as_text=True)
    assert [p for p, _ in log_rows(first)] == [str(i) for i in range(1, 51)]
    assert 'href="/audit/?after=50" rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/audit/?after=50").get_data(as_text=True)
    assert [p for p, _ in log_rows(second)] == [str(i) for i in range(51, 61)]
    assert 'href="/audit/?after=0" rel="prev"' in second and 'rel="next"' not in second


def test_the_integrity_check_runs_the_clis_verify(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    client = signed_in("auditor")
    page = client.get("/audit/").get_data(as_text=True)
    head = queries.head(services.db)
    response = client.post("/audit/verify", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nienaruszony." in html and "Sprawdzono wpisów: 6" in html
    assert f"<code>{head['position']}:{head['hash']}</code>" in html
    kept = client.post("/audit/verify", data={"csrf_token": csrf_token(page), "digest": f"3:{'0' * 64}"})
    assert "Naruszony na pozycji 3." in kept.get_data(as_text=True)
    bad = client.post("/audit/verify", data={"csrf_token": csrf_token(page), "digest": "nonsense"})
    assert bad.status_code == 422
    assert 'id="f-digest-error"' in bad.get_data(as_text=True) and 'value="nonsense"' in bad.get_data(as_text=True)


@pytest.mark.sqlite_only
def test_the_integrity_check_finds_a_rewritten_entry(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    with sqlite3.connect(services.config.database) as conn:
        state = conn.execute("SELECT state FROM stored_events WHERE rowid = 2").fetchone()[0]
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 2", (state.replace(b"XXV", b"XXX"),))
    client = signed_in("auditor")
    token = csrf_token(client.get("/audit/").get_data(as_text=True))
    html = client.post("/audit/verify", data={"csrf_token": token}).get_data(as_text=True)
    assert "Naruszony na pozycji 2." in html and 'class="report report-broken"' in html


def test_the_integrity_check_says_when_only_the_access_log_was_changed(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """A role raised behind the program's back: the page names the access log, not a position of the
    partnership log, and says the partnership log itself is intact."""
    from backend import Store

    client = signed_in("auditor")
    Store(services.config.database).execute("UPDATE tracker_users SET role = 'admin' WHERE name = 'ala'")
    token = csrf_token(client.get("/audit/").get_data(as_text=True))
    html = client.post("/audit/verify", data={"csrf_token": token}).get_data(as_text=True)
    assert "Dziennik dostępu jest naruszony." in html and 'class="report report-broken"' in html
    assert "Dziennik partnerstw jest nienaruszony" in html and "pozycji None" not in html


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_downloads_are_the_same_bytes_as_the_export_command(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str, fmt: str, database_url: str
) -> None:
    response = signed_in("auditor").get(f"/audit/export.{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="tracker-log-6.{fmt}"'
    assert response.mimetype == ("application/x-ndjson" if fmt == "jsonl" else "text/csv")
    body = response.get_data()
    assert body == "".join(export_chunks(services.tracker, fmt)).encode("utf-8")
    env = {**os.environ, "TRACKER_DATABASE": database_url}  # the same store, for a `tracker` process
    cli = subprocess.run(
        [str(REPO / ".venv" / "bin" / "tracker"), "export", "--format", fmt], env=env, capture_output=True, check=True
    )
    assert body == cli.stdout


def test_an_empty_logs_csv_has_its_header(signed_in: Callable[..., FlaskClient]) -> None:
    body = signed_in("auditor").get("/audit/export.csv").get_data(as_text=True)
    assert body == "position,partnership_id,version,type,occurred_on,recorded_at,recorded_by,data,hash\n"
    assert signed_in("auditor").get("/audit/export.xml").status_code == 404


@pytest.mark.parametrize("role", ["officer", "manager"])
def test_only_auditors_see_the_audit_pages(
    signed_in: Callable[..., FlaskClient], services: Services, role: str
) -> None:
    register(services)
    client = signed_in(role)
    token = csrf_token(client.get("/").get_data(as_text=True))
    for path in ("/audit/", "/audit/export.jsonl", "/audit/export.csv"):
        assert client.get(path).status_code == 403
    assert client.post("/audit/verify", data={"csrf_token": token}).status_code == 403
    assert signed_in("admin").get("/audit/").status_code == 200
