"""``tracker import``: an export's events appended to an empty store, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from uuid import UUID

from application.services import Services
from domain.dates import BusinessDate
from domain.errors import AlreadyExists, DomainError
from domain.partnership import Partnership
from domain.tracker import rebuild_event
from projections.audit import verify_export
from projections.outbox import Outbox


class ImportRefused(ValueError):
    """The file or the store does not allow an import; nothing was written."""


def import_export(services: Services, path: Path, progress: Callable[[str, int, int], None] | None = None) -> int:
    """Check the whole file's chain, then append every event in one transaction.

    ``progress(stage, done, total)`` is told how far the checking and appending got.
    """
    tell = progress or (lambda stage, done, total: None)
    if not services.tracker.is_empty():
        raise ImportRefused("the store is not empty: import needs an empty store")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()  # a bad byte fails its line's hash
    tell("checking the chain", 0, len(lines))
    report = verify_export(lines)
    if not report["ok"]:
        first = report["problems"][0]
        raise ImportRefused(f"{path.name} is damaged at position {first['position']}: {first['detail']}")
    events = []
    for number, line in enumerate((line for line in lines if line.strip()), start=1):
        if number % 1000 == 0:
            tell("reading events", number, len(lines))
        entry = json.loads(line)
        try:
            events.append(
                rebuild_event(
                    partnership_id=UUID(entry["partnership_id"]),
                    version=int(entry["version"]),
                    event_type=entry["type"],
                    occurred_on=BusinessDate.optional(entry["occurred_on"]),
                    recorded_at=datetime.fromisoformat(entry["recorded_at"]),
                    recorded_by=entry["recorded_by"],
                    data=entry["data"],
                )
            )
        except (KeyError, ValueError, TypeError, DomainError) as e:
            raise ImportRefused(f"line {number} cannot be imported: {e}") from None
    _check_histories(events)
    tell("appending and building the read models", len(events), len(events))
    try:
        count = services.import_events(events)
    except AlreadyExists as e:
        raise ImportRefused(str(e)) from None
    except Exception as e:  # a constraint of the store (duplicate version...): nothing was written
        raise ImportRefused(f"the store refused the events: {e}".splitlines()[0]) from None
    if count:
        # The imported reminders were mailed where they were first recorded: do not mail them again.
        Outbox(services.tracker, services.db).mark_sent(services.tracker.recorder.max_notification_id())
    return count


def _check_histories(events: list[Partnership.Event]) -> None:
    """Refuse a file whose partnerships the domain could not load: each history must start with its
    registration at version 1 and go on 2, 3, ... in the file's order, and must fold."""
    loaded: dict[UUID, Partnership] = {}
    for number, event in enumerate(events, start=1):
        pid, version = event.originator_id, event.originator_version
        current = loaded.get(pid)
        expected = current.version + 1 if current else 1
        if version != expected:
            raise ImportRefused(f"line {number}: partnership {pid} has version {version} where {expected} belongs")
        if isinstance(event, Partnership.PartnershipRegistered) != (version == 1):
            raise ImportRefused(f"line {number}: partnership {pid} must begin with its registration, and only once")
        try:
            loaded[pid] = event.mutate(current)
        except Exception as e:
            raise ImportRefused(f"line {number} cannot be loaded: {e}".splitlines()[0]) from None
    for pid, partnership in loaded.items():
        try:
            partnership.state  # noqa: B018 - the fold raises on a history it cannot make sense of
        except Exception as e:
            raise ImportRefused(f"partnership {pid} cannot be folded: {e}".splitlines()[0]) from None
