"""The bulk rebuild (projections/bulk.py) makes exactly the read models the event-by-event path makes.

On the real store: a history of random days of work (every type, back-dated entries, retractions, flags and
acknowledgements), the demo's seed, and the store the version-1 code wrote (upcast events and a snapshot).
Each stored event's entry decoded straight from its JSON is the one the library's domain event gives; a
rebuild that stops between its passes is finished by the next start.
"""

from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from application.config import Config
from application.services import Services, build_services
from projections import bulk
from projections.log import entry_of

from .helpers import open_services
from .test_incremental_views import a_day_of_work, views

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v1"


def worked(services: Services, seed: int = 7) -> None:
    """Three partnerships with a few years of random work (the same generator as the incremental views' test)."""
    rng = random.Random(seed)
    pids = [
        services.register_partnership(
            {"partner_name": f"Gmina {n}", "partner_country": "GE", "partner_kind": "municipality"}, user="ala"
        ).partnership_id
        for n in range(3)
    ]
    day = date(2018, 1, 1)
    while day < date(2026, 11, 30):
        a_day_of_work(services, rng, pids, day)
        day += timedelta(days=rng.choice([60, 300]))
    services.load_seed()


def stored(services: Services) -> list[Any]:
    return services.tracker.recorder.select_notifications(start=0, limit=1_000_000, inclusive_of_start=False)


def test_each_stored_event_decodes_to_the_entry_of_its_domain_event(services: Services) -> None:
    worked(services)
    notifications = stored(services)
    assert len(notifications) > 100
    for n in notifications:
        assert bulk.entry_of_stored(services.tracker, n) == entry_of(services.tracker.mapper.to_domain_event(n), 0)


def test_the_bulk_rebuild_equals_the_views_made_event_by_event(services: Services) -> None:
    worked(services)
    before = views(services)
    assert services.projection.rebuild() == len(stored(services))
    assert views(services) == before
    assert services.verify()["ok"]


def test_a_replay_event_by_event_equals_the_bulk_rebuild(services: Services) -> None:
    worked(services, seed=11)
    services.projection.rebuild()
    bulk_views = views(services)
    services.projection.replay()
    assert views(services) == bulk_views


@pytest.mark.sqlite_only
def test_the_version_1_store_rebuilds_in_bulk_as_event_by_event(tmp_path: Path) -> None:
    """Old events (class version 1) go through the library's upcasters; the views are the same either way."""
    path = tmp_path / "events.db"
    shutil.copy(FIXTURES / "events-v1.sqlite", path)
    services = open_services(path)
    try:
        for n in stored(services):
            assert bulk.entry_of_stored(services.tracker, n) == entry_of(services.tracker.mapper.to_domain_event(n), 0)
        replayed = views(services)
        services.projection.rebuild()
        assert views(services) == replayed
    finally:
        services.close()


def test_a_rebuild_stopped_between_its_passes_is_finished_by_the_next_start(
    config: Config, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    worked(services, seed=3)
    before = views(services)

    def stop(projection: Any) -> int:
        raise KeyboardInterrupt  # the process stops after appending, before folding

    monkeypatch.setattr(bulk, "fold_all", stop)
    with pytest.raises(KeyboardInterrupt):
        services.projection.rebuild()
    assert views(services)["partnerships"] == {}  # the rows wait for the fold
    monkeypatch.undo()
    again = build_services(config)
    try:
        assert views(again) == before
    finally:
        again.close()
