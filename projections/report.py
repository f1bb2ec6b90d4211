"""The data of the council report: the register on a day, grouped by country, with the year's activity.

Everything is folded from the event rows with the same functions as every other
answer, filtered by business date (``as_of``) and record time (``known_at``), so
the same arguments give the same report whatever was recorded since.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from domain import rules
from domain.dates import BusinessDate
from domain.event_types import ACTIVITY_TYPES
from infrastructure.store import Db
from projections.documents import document_at, fact_of, rows_known_at
from projections.log import GENESIS_HASH
from projections.queries import Clock


def _activities(rows: list[dict[str, Any]], *, year: int, as_of: date) -> list[dict[str, Any]]:
    """The non-retracted activity events of ``year`` up to ``as_of`` (retractions as known in ``rows``)."""
    gone = rules.retracted_versions(fact_of(r) for r in rows)
    out = []
    for r in rows:
        if r["type"] not in ACTIVITY_TYPES or r["version"] in gone or not r["occurred_on"]:
            continue
        when = BusinessDate.parse(r["occurred_on"])  # a month or a year counts from its first day
        if when.year == year and when.first <= as_of:
            out.append({"occurred_on": r["occurred_on"], "type": r["type"], "data": json.loads(r["data"])})
    return sorted(out, key=lambda a: (a["occurred_on"], a["type"]))


def council_report(db: Db, clock: Clock, *, as_of: date, known_at: datetime | None) -> dict[str, Any]:
    """Partners by country (status, since when, schools, the year's activity) and what the report rests on."""
    t = db.table
    with db.transaction(write=False) as tx:
        rows = tx.execute(
            f"SELECT partnership_id, version, type, occurred_on, recorded_at, recorded_by, data"
            f" FROM {t('view_events')} ORDER BY partnership_id, version"
        ).fetchall()
        log_rows = tx.execute(
            f"SELECT l.position, l.hash, e.recorded_at FROM {t('view_log')} l JOIN {t('view_events')} e"
            " ON e.partnership_id = l.partnership_id AND e.version = l.version ORDER BY l.position"
        ).fetchall()
    by_pid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_pid[r["partnership_id"]].append(r)
    countries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pid, events in by_pid.items():
        known = rows_known_at(events, known_at)
        doc = document_at(pid, known, as_of=as_of, known_at=None)
        if doc is None:
            continue
        doc["inactive"] = Clock(as_of, clock.inactivity_days).is_inactive(doc)
        doc["activities"] = _activities(known, year=as_of.year, as_of=as_of)
        countries[doc["partner_country"]].append(doc)
    for docs in countries.values():
        docs.sort(key=lambda d: (d["partner_name"].lower(), d["id"]))
    # What the report rests on: the last log entry recorded at or before known_at.
    basis = {"position": 0, "hash": GENESIS_HASH}
    for r in log_rows:
        if known_at is None or datetime.fromisoformat(r["recorded_at"]) <= known_at:
            basis = {"position": r["position"], "hash": r["hash"]}
    return {
        "as_of": as_of.isoformat(),
        "known_at": known_at.isoformat() if known_at else None,
        "year": as_of.year,
        "countries": dict(sorted(countries.items())),
        "basis": basis,
        "inactivity_days": clock.inactivity_days,
    }
