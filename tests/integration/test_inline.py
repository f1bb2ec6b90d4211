"""A write applies its read models in its own transaction (projections.inline), on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from projections import queries
from projections.inline import attach, detach
from projections.projection import Projection

TODAY = date(2026, 11, 26)
REGISTRATION = {"partner_name": "Bar", "partner_country": "ME", "partner_kind": "city", "local_party": "Powiat"}


def _register(services: Any) -> UUID:
    return services.tracker.register_partnership(REGISTRATION, recorded_by="ala", today=TODAY).partnership_id


def _note(services: Any, pid: UUID, text: str) -> int:
    fields = {"occurred_on": date(2026, 1, 1), "text": text}
    return services.tracker.record_event(pid, "note_added", fields, recorded_by="ala", today=TODAY).notification_id


def test_a_write_is_in_the_read_models_when_it_returns(services: Any) -> None:
    """Right after a write returns, the views hold it and a catch-up has nothing left to do."""
    pid = _register(services)
    position = _note(services, pid, "inline")
    assert services.projection.position == position
    assert queries.get_partnership(services.db, str(pid), services.clock())["version"] == 2
    assert queries.head(services.db)["position"] == 2
    assert services.projection.catch_up() == 0


def test_a_failing_projection_does_not_refuse_the_write(services: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the views cannot follow inline, the event is still kept and the catch-up applies it later."""
    pid = _register(services)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("projection bug")

    monkeypatch.setattr(Projection, "apply_entries", broken)
    position = _note(services, pid, "kept")
    assert services.tracker.recorder.max_notification_id() == position
    assert services.projection.position == position - 1  # the views rolled back to their savepoint
    monkeypatch.undo()
    assert services.projection.catch_up() == 1
    assert [e["data"]["text"] for e in queries.list_events(services.db, str(pid))[1:]] == ["kept"]


def test_views_behind_are_caught_up_in_order_not_skipped(services: Any) -> None:
    """A write whose views are behind leaves them to the catch-up, which applies everything in order."""
    pid = _register(services)
    detach(services.projection)
    _note(services, pid, "while detached")
    attach(services.projection)
    _note(services, pid, "after")  # the views are one behind: not applied inline
    assert services.projection.position == 1
    assert services.projection.catch_up() == 2
    page = queries.log_page(services.db, after=0, limit=10)
    assert [e["position"] for e in page["items"]] == [1, 2, 3]
    assert [e["version"] for e in page["items"]] == [1, 2, 3]


def test_a_command_whose_write_the_views_did_not_follow_still_reads_its_own_write(services: Any) -> None:
    """Through the front door (``Services``), a write the views could not follow inline (they were behind) is
    caught up before the command returns: the register shows it and everything before it."""
    pid = _register(services)
    detach(services.projection)
    _note(services, pid, "while detached")
    attach(services.projection)
    fields = {"occurred_on": date(2026, 1, 2), "text": "through the front door"}
    recorded = services.record_event(pid, "note_added", fields, user="ala")
    assert services.projection.position == recorded.notification_id == 3
    texts = [e["data"]["text"] for e in queries.list_events(services.db, str(pid))[1:]]
    assert texts == ["while detached", "through the front door"]
    # and a write the views follow inline leaves nothing behind either
    again = services.record_event(pid, "note_added", {**fields, "text": "inline"}, user="ala")
    assert services.projection.position == again.notification_id == 4
    assert queries.get_partnership(services.db, str(pid), services.clock())["version"] == 4
