"""A log written before business dates and resolution purposes keeps loading, verifying and exporting as it was.

``tests/fixtures/v1`` was written by the code of 24cf7a7 (``make_v1.py``): every event type of that
time, days stored as ``date``, a council resolution without a purpose, and one snapshot of the
aggregate. The events load through the library's upcasting (class version 2), the log keeps its
hashes (the digest an auditor kept then still verifies), an export made then imports, and the
same export comes out again, byte for byte.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from uuid import UUID

import pytest

from domain.dates import BusinessDate
from domain.partnership import Partnership

from .helpers import TRACKER, open_services

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v1"
BAR = UUID("00000000-0000-4000-8000-000000000001")
GURJAANI = UUID("00000000-0000-4000-8000-000000000002")


@pytest.fixture
def v1_store(tmp_path: Path) -> Path:
    """A copy of the store the old code wrote (events and a snapshot, no read models yet)."""
    path = tmp_path / "events.db"
    shutil.copy(FIXTURES / "events-v1.sqlite", path)
    return path


def kept_digest() -> str:
    return (FIXTURES / "digest-v1.txt").read_text(encoding="ascii").strip()


def tracker(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"TRACKER_DATABASE": str(database), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(TRACKER), *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.sqlite_only
def test_old_events_load_as_business_dates_through_upcasting(v1_store: Path) -> None:
    """Every old event loads; its days are business dates of day precision; the old resolution reads as establish."""
    services = open_services(v1_store)
    try:
        bar = services.tracker.get_partnership(BAR)  # from the v1 snapshot, then the events after it
        events = list(services.tracker.repository.event_store.get(BAR))
        assert {type(e).__name__ for e in events} >= {"CouncilResolutionAdopted", "YouthExchangeHeld"}
        for event in events:
            assert event.occurred_on is None or isinstance(event.occurred_on, BusinessDate)
        resolution = next(e for e in events if isinstance(e, Partnership.CouncilResolutionAdopted))
        assert resolution.purpose is None and resolution.resolution_number == "XXV/4/09"
        held = next(e for e in events if isinstance(e, Partnership.YouthExchangeHeld))
        assert held.ends_on == BusinessDate(2011, 7, 9) and held.participants == 24
        state = bar.state
        assert state.status == "active"  # established by the resolution, suspended, resumed
        assert state.status_since == BusinessDate(2016, 1, 1)
        assert state.last_activity_on == BusinessDate(2016, 1, 1)
        assert services.tracker.get_partnership(GURJAANI).state.status == "terminated"
    finally:
        services.close()


@pytest.mark.sqlite_only
def test_the_old_log_verifies_against_the_digest_kept_then(v1_store: Path) -> None:
    """The read models are rebuilt from the old events and the chain ends in the digest the old code printed."""
    result = tracker(v1_store, "audit", "verify", "--digest", kept_digest())
    assert result.returncode == 0, result.stdout + result.stderr
    assert kept_digest().split(":")[1] in result.stdout
    assert tracker(v1_store, "audit", "digest").stdout.strip() == kept_digest()


@pytest.mark.sqlite_only
def test_the_old_store_exports_the_same_bytes_as_then(v1_store: Path) -> None:
    """The export of the old store, read by the new code, is the export the old code made, byte for byte."""
    result = tracker(v1_store, "export")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (FIXTURES / "export-v1.jsonl").read_text(encoding="utf-8")


def test_an_old_export_imports_and_replays_to_the_same_hashes(database_url: str) -> None:
    """An export made before the change imports into an empty store (either kind) with the same head hash."""
    from application.config import Config
    from application.services import build_services
    from application.transfer import import_export
    from projections import queries

    services = build_services(Config(database=database_url))
    try:
        count = import_export(services, FIXTURES / "export-v1.jsonl")
        assert count == 17
        head = queries.head(services.db)
        assert f"{head['position']}:{head['hash']}" == kept_digest()
        assert services.verify()["ok"]
        resolution = next(
            e for e in queries.list_events(services.db, str(BAR)) if e["type"] == "council_resolution_adopted"
        )
        assert "purpose" not in resolution["data"]  # the log says what was recorded; the rules read it as establish
        assert resolution["effect"] == {"status_before": "proposed", "status_after": "active"}
    finally:
        services.close()
