"""``tracker import``: an export's events appended to an empty store, all or nothing."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

from domain.application import rebuild_event
from domain.errors import AlreadyExists, DomainError
from projections.audit import verify_export
from web.services import Services


class ImportRefused(ValueError):
    """The file or the store does not allow an import; nothing was written."""


def import_export(services: Services, path: Path) -> int:
    """Check the whole file's chain, then append every event in one transaction."""
    if not services.tracker.is_empty():
        raise ImportRefused("the store is not empty: import needs an empty store")
    lines = path.read_text(encoding="utf-8").splitlines()
    report = verify_export(lines)
    if not report["ok"]:
        first = report["problems"][0]
        raise ImportRefused(f"{path.name} is damaged at position {first['position']}: {first['detail']}")
    events = []
    for number, line in enumerate((line for line in lines if line.strip()), start=1):
        entry = json.loads(line)
        try:
            events.append(
                rebuild_event(
                    partnership_id=UUID(entry["partnership_id"]),
                    version=int(entry["version"]),
                    event_type=entry["type"],
                    occurred_on=date.fromisoformat(entry["occurred_on"]) if entry["occurred_on"] else None,
                    recorded_at=datetime.fromisoformat(entry["recorded_at"]),
                    recorded_by=entry["recorded_by"],
                    data=entry["data"],
                )
            )
        except (KeyError, ValueError, TypeError, DomainError) as e:
            raise ImportRefused(f"line {number} cannot be imported: {e}") from None
    try:
        count = services.tracker.import_events(events)
    except AlreadyExists as e:
        raise ImportRefused(str(e)) from None
    except Exception as e:  # a constraint of the store (duplicate version...): nothing was written
        raise ImportRefused(f"the store refused the events: {e}".splitlines()[0]) from None
    services.after_command()
    return count
