"""The data of the council report: the register on a day, grouped by country, with the year's activity,
the youth exchanges held that year (with their participants) and the exchanges planned but not yet held.

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


def _plans(facts: list[rules.Fact], *, as_of: date) -> list[dict[str, Any]]:
    """The youth exchanges planned by ``as_of`` and not held since the plan (as the inactivity rules see it)."""
    exists = rules.exists_from(facts)
    state = rules.fold(rules.as_of(facts, as_of), exists=exists)
    described = {f.version: f.data.get("description") for f in facts}
    out = []
    for version, planned_on, planned_for in state.plans:
        if any(held.last >= planned_on.first for held in state.exchanges_held):
            continue  # held on or after the day it was planned: the plan is settled
        out.append(
            {
                "planned_for": planned_for.isoformat(),
                "planned_on": planned_on.isoformat(),
                "description": described.get(version),
                "passed": planned_for.last < as_of,
            }
        )
    return sorted(out, key=lambda p: (BusinessDate.parse(p["planned_for"]).first, p["planned_on"]))


def _exchanges(countries: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The year's youth exchanges held, register-wide, with their participants (and how many gave no number)."""
    held, planned = [], []
    for code, docs in countries.items():
        for doc in docs:
            who = {"partner_name": doc["partner_name"], "partner_country": code}
            for a in doc["activities"]:
                if a["type"] == "youth_exchange_held":
                    data = a["data"]
                    held.append(
                        {
                            **who,
                            "occurred_on": a["occurred_on"],
                            "ends_on": data.get("ends_on"),
                            "host_town": data.get("host_town"),
                            "participants": data.get("participants"),
                        }
                    )
            planned.extend({**who, **plan} for plan in doc["plans"])
    held.sort(key=lambda e: (BusinessDate.parse(e["occurred_on"]).first, e["partner_name"].lower()))
    planned.sort(key=lambda p: (BusinessDate.parse(p["planned_for"]).first, p["partner_name"].lower()))
    counted = [e["participants"] for e in held if isinstance(e["participants"], int)]
    return {
        "held": held,
        "participants": sum(counted),
        "without_number": len(held) - len(counted),
        "planned": planned,
    }


def council_report(db: Db, clock: Clock, *, as_of: date, known_at: datetime | None) -> dict[str, Any]:
    """Partners by country (status, since when, schools, the year's activity, plans), the year's youth exchanges
    and planned ones, and what the report rests on."""
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
        doc["plans"] = _plans([fact_of(r) for r in known], as_of=as_of)
        countries[doc["partner_country"]].append(doc)
    for docs in countries.values():
        docs.sort(key=lambda d: (d["partner_name"].lower(), d["id"]))
    # What the report rests on: the last log entry recorded at or before known_at.
    basis = {"position": 0, "hash": GENESIS_HASH}
    for r in log_rows:
        if known_at is None or datetime.fromisoformat(r["recorded_at"]) <= known_at:
            basis = {"position": r["position"], "hash": r["hash"]}
    countries = dict(sorted(countries.items()))
    return {
        "as_of": as_of.isoformat(),
        "known_at": known_at.isoformat() if known_at else None,
        "year": as_of.year,
        "countries": countries,
        "exchanges": _exchanges(countries),
        "basis": basis,
        "inactivity_days": clock.inactivity_days,
    }
