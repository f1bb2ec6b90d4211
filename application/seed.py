"""The county's partner list, shipped as a data file and loaded as events (``tracker seed``).

``seed_data/piaseczno.json`` is the county's page "Nasi partnerzy" turned into
registrations and dated events. Ids are derived from each partnership's ``key``,
so loading twice adds nothing: a partnership already in the store is skipped.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.dates import BusinessDate
from domain.errors import PartnershipNotFound
from domain.event_types import EVENT_TYPES, RECORDABLE
from domain.partnership import Partnership
from domain.tracker import Tracker
from domain.values import AGREEMENT_KINDS, AREAS, PARTNER_KINDS, SIDES

SEED_NAMESPACE = UUID("6c0f5b1e-3d1a-5e7b-9a4c-1f2e3d4c5b6a")
"""Namespace of the seed's partnership ids (never change it: ids are stored in the log)."""

SEED_FILE = Path(__file__).parent / "seed_data" / "piaseczno.json"

#: Keys whose values the file holds as business dates (a day, a month or a year, as the page gives them).
DATE_KEYS = frozenset({"occurred_on", *(name for t in EVENT_TYPES.values() for name in t.date_fields)})


def partnership_id_for(key: str) -> UUID:
    """The fixed id of the seed partnership named ``key``."""
    return uuid.uuid5(SEED_NAMESPACE, key)


def _dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _date(k, v) if isinstance(v, str) else _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    return value


def _date(key: str, text: str) -> Any:
    if key == "taken_on":
        return date.fromisoformat(text)
    return BusinessDate.parse(text) if key in DATE_KEYS else text


def load_seed_file(path: Path | None = None) -> dict[str, Any]:
    """Read the seed file (the shipped one by default), with dates as :class:`datetime.date`."""
    with (path or SEED_FILE).open(encoding="utf-8") as f:
        return _dates(json.load(f))


def _check(seed: dict[str, Any], today: date) -> None:
    """Refuse the whole seed before writing anything if a value or a date is not allowed."""
    for p in seed["partnerships"]:
        key, reg = p["key"], p["registration"]
        if reg["partner_kind"] not in PARTNER_KINDS:
            raise ValueError(f"seed {key}: unknown partner_kind {reg['partner_kind']!r}")
        for i, event in enumerate([reg, *p["events"]]):
            name = f"seed {key}, " + (f"event {i} ({event['type']})" if i else "registration")
            if i and event["type"] not in RECORDABLE:
                raise ValueError(f"{name}: type cannot be recorded")
            if not set(event.get("areas") or ()) <= set(AREAS):
                raise ValueError(f"{name}: unknown area in {event['areas']}")
            if event.get("agreement_kind", AGREEMENT_KINDS[0]) not in AGREEMENT_KINDS:
                raise ValueError(f"{name}: unknown agreement_kind {event['agreement_kind']!r}")
            if event.get("side", SIDES[0]) not in SIDES:
                raise ValueError(f"{name}: unknown side {event['side']!r}")
            if event.get("occurred_on") and BusinessDate.of(event["occurred_on"]).first > today:
                raise ValueError(f"{name}: occurred on {event['occurred_on']}, after today ({today})")


def load_seed(tracker: Tracker, *, today: date, recorded_by: str = "seed", seed: dict[str, Any] | None = None) -> int:
    """Register the seed's partnerships not yet in ``tracker`` and record their events.

    Returns the number of events written (registrations included); a second run writes 0.
    All of it is written in one transaction: :class:`ValueError` (a value or a date after ``today``)
    or a domain refusal of any event means nothing is written.
    """
    seed = seed if seed is not None else load_seed_file()
    _check(seed, today)
    pending = []
    for p in seed["partnerships"]:
        pid = partnership_id_for(p["key"])
        try:
            tracker.get_partnership(pid)
            continue
        except PartnershipNotFound:
            pass
        # built in memory and saved below in one transaction: a refused event leaves nothing behind
        partnership = Partnership.register(pid, recorded_by=recorded_by, today=today, **p["registration"])
        for event in p["events"]:
            fields = {k: v for k, v in event.items() if k != "type"}
            partnership.record(event["type"], fields, recorded_by=recorded_by, today=today)
        pending.append(partnership)
    if pending:
        tracker.save(*pending)
    return sum(p.version for p in pending)
