"""Reminders out of the box: the scheduled jobs inside `tracker serve` on the embedded store, and
`tracker scan-inactivity --dry-run` / a future `--today`, all through real processes.

A store with one partnership quiet since 2020 and a manager: `tracker serve` (no manual scan) answers
with its open reminder and says on the dashboard when the check ran; `--no-jobs` does not; a second
serve while another holds the scheduler lock starts without jobs.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from backend import POSTGRES

from application.config import Config
from infrastructure.locks import held

from .helpers import Server, cli_env, database_of, open_services, record, register, stored_count, tracker

pytestmark = pytest.mark.skipif(POSTGRES, reason="jobs run inside serve on the embedded store only")


@pytest.fixture
def quiet(tmp_path: Path) -> dict[str, Any]:
    """One partnership quiet since 2020, a manager with an address (token), no SMTP; its CLI environment."""
    database = database_of(tmp_path)
    s = open_services(database)
    try:
        pid = register(s.tracker, "Gmina Cicha")
        record(s.tracker, pid, "agreement_signed", occurred_on=date(2020, 1, 1), agreement_kind="partnership")
        token = s.users.add("jan", "manager", email="jan@powiat.example")
    finally:
        s.close()
    return {"database": database, "pid": str(pid), "token": token, "env": cli_env(tmp_path)}


def get(server: Server, path: str, token: str, lang: str = "en-GB") -> tuple[int, str]:
    import urllib.request

    request = urllib.request.Request(f"{server.base}{path}")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept-Language", lang)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode("utf-8")


def open_reminders(server: Server, token: str) -> list[dict[str, Any]]:
    import json

    status, body = get(server, "/api/v1/reminders?open=true", token)
    assert status == 200
    return json.loads(body)["items"]


def test_serve_runs_the_check_at_start_and_the_dashboard_says_when(tmp_path: Path, quiet: dict[str, Any]) -> None:
    server = Server(tmp_path, quiet["env"], "serve", jobs=True)
    try:
        reminders = open_reminders(server, quiet["token"])
        assert [(r["partnership_id"], r["kind"]) for r in reminders] == [(quiet["pid"], "inactive")]
        _, html = get(server, "/", quiet["token"])
        assert "The inactivity check last ran <time datetime=" in html
        assert "after 365 days without activity" in html and "Gmina Cicha</a></h3>" in html
        _, html_pl = get(server, "/", quiet["token"], lang="pl")
        assert "Sprawdzenie bezczynności" in html_pl
        assert "Inactivity check at start: 1 flagged." in server.output()
        assert "Scheduled jobs running in this process" in server.output()
    finally:
        server.stop()
    position = stored_count(quiet["database"])
    again = Server(tmp_path, quiet["env"], "serve-again", jobs=True)  # the same office day: not run again
    try:
        assert "Inactivity check at start" not in again.output()
        assert len(open_reminders(again, quiet["token"])) == 1
    finally:
        again.stop()
    assert stored_count(quiet["database"]) == position


def test_serve_with_no_jobs_runs_no_check(tmp_path: Path, quiet: dict[str, Any]) -> None:
    position = stored_count(quiet["database"])
    server = Server(tmp_path, quiet["env"], "serve", "--no-jobs", jobs=True)
    try:
        assert open_reminders(server, quiet["token"]) == []
        _, html = get(server, "/", quiet["token"])
        assert "The inactivity check has not run yet." in html
        assert "Scheduled jobs: off (--no-jobs)." in server.output()
    finally:
        server.stop()
    assert stored_count(quiet["database"]) == position


def test_a_serve_while_a_scheduler_holds_the_lock_starts_without_jobs(tmp_path: Path, quiet: dict[str, Any]) -> None:
    position = stored_count(quiet["database"])
    with held(Config(database=quiet["database"]).store, "scheduler") as got:
        assert got
        server = Server(tmp_path, quiet["env"], "serve", jobs=True)
        try:
            assert open_reminders(server, quiet["token"]) == []
            assert "another tracker scheduler holds the lock" in server.output()
        finally:
            server.stop()
    assert stored_count(quiet["database"]) == position


def test_tracker_scheduler_refuses_while_serve_runs_the_jobs(tmp_path: Path, quiet: dict[str, Any]) -> None:
    server = Server(tmp_path, quiet["env"], "serve", jobs=True)
    try:
        result = tracker(tmp_path, "scheduler", env=quiet["env"], timeout=60)
        assert result.returncode == 1
        assert "another tracker scheduler is already running" in result.stderr
    finally:
        server.stop()


def test_dry_run_prints_what_it_would_flag_and_records_nothing(tmp_path: Path, quiet: dict[str, Any]) -> None:
    position = stored_count(quiet["database"])
    result = tracker(tmp_path, "scan-inactivity", "--dry-run", env=quiet["env"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines == [
        f"would flag inactive: Gmina Cicha ({quiet['pid']}, 2020-01-01)",
        "dry run: nothing recorded, nothing mailed",
    ]
    assert stored_count(quiet["database"]) == position
    s = open_services(quiet["database"])
    try:
        from application import jobs

        assert jobs.last_run(s, jobs.INACTIVITY_SCAN) is None  # a dry run is not the check
    finally:
        s.close()

    real = tracker(tmp_path, "scan-inactivity", env=quiet["env"])
    assert real.returncode == 0, real.stderr
    out = real.stdout.decode().splitlines()
    assert out == [
        f"flagged inactive: Gmina Cicha ({quiet['pid']})",
        "mail logged, not sent (no TRACKER_SMTP_URL) to jan@powiat.example: Gmina Cicha",
    ]
    assert "Gmina Cicha" in real.stderr  # the mail itself, in the log
    assert stored_count(quiet["database"]) == position + 1
    again = tracker(tmp_path, "scan-inactivity", "--dry-run", env=quiet["env"])
    assert again.stdout.decode().splitlines()[0].startswith("nothing to flag on ")


def test_a_future_today_is_refused_and_records_nothing(tmp_path: Path, quiet: dict[str, Any]) -> None:
    position = stored_count(quiet["database"])
    tomorrow = (date.today() + timedelta(days=2)).isoformat()  # after the real today in any time zone
    for args in (["--today", tomorrow], ["--today", tomorrow, "--dry-run"]):
        result = tracker(tmp_path, "scan-inactivity", *args, env=quiet["env"])
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: --today {tomorrow} is after today"), result.stderr
    assert stored_count(quiet["database"]) == position
