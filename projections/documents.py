"""Answers built from a partnership's event rows with the domain's pure fold.

The projection (current state), the time-travel answers (``as_of`` /
``known_at``) and the register all go through :func:`partnership_document`,
so they can never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain import rules
from domain.rules import Fact

#: Keys inside ``data`` that hold dates (stored as ISO strings in the views).
DATE_KEYS = frozenset({"registered_on", "planned_for", "ends_on", "last_activity_on"})


def event_id(partnership_id: str | UUID, version: int) -> str:
    return str(uuid5(NAMESPACE_URL, f"/partnerships/{partnership_id}/events/{version}"))


def reminder_id(partnership_id: str | UUID, flagged_version: int) -> str:
    return str(uuid5(NAMESPACE_URL, f"/partnerships/{partnership_id}/reminders/{flagged_version}"))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def fact_of(row: Mapping[str, Any]) -> Fact:
    """A rules fact from a ``view_events`` row."""
    data = json.loads(row["data"]) if isinstance(row["data"], str) else dict(row["data"])
    for key in DATE_KEYS & data.keys():
        if data[key]:
            data[key] = date.fromisoformat(data[key])
    return Fact(
        version=row["version"],
        type=row["type"],
        occurred_on=date.fromisoformat(row["occurred_on"]) if row["occurred_on"] else None,
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        data=data,
    )


def partnership_document(partnership_id: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The contract's Partnership, folded from the given event rows (oldest first)."""
    return document_and_markers(partnership_id, rows)[0]


def document_and_markers(
    partnership_id: str, rows: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Partnership, and what the inactivity scan needs to find it without replaying it.

    The markers are ``spell_flagged`` (the current spell of inactivity was flagged
    already) and ``next_plan_due`` (the earliest date of a youth exchange plan not
    yet held nor flagged).
    """
    return document_of_facts(partnership_id, [fact_of(r) for r in rows])


def document_of_facts(partnership_id: str, facts: Sequence[Fact]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Partnership and its inactivity markers, folded from already parsed facts."""
    state = rules.fold(facts)
    reg = rules.registration(facts)
    doc = {
        "id": str(partnership_id),
        "partner_name": reg.data["partner_name"],
        "partner_country": reg.data["partner_country"],
        "partner_kind": reg.data["partner_kind"],
        "local_party": reg.data["local_party"],
        "description": reg.data.get("description"),
        "areas": list(state.areas),
        "status": state.status,
        "status_since": _iso(state.status_since),
        "last_activity_on": _iso(state.last_activity_on),
        "schools": [{"name": n, "side": s, "town": t} for n, s, t in state.schools],
        "version": max(f.version for f in facts),
        "registered_at": reg.recorded_at.isoformat(),
        "exists_from": _iso(rules.exists_from(facts)),
    }
    plans = rules.pending_plans(state)
    markers = {
        "spell_flagged": rules.spell_flagged(state),
        "next_plan_due": min(p for _, p in plans).isoformat() if plans else None,
    }
    return doc, markers


def reminders_of(partnership_id: str, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The reminders opened by the partnership's flags, with their acknowledgements."""
    facts = {r["version"]: r for r in rows}
    gone = {json.loads(r["data"])["retracts"] for r in rows if r["type"] == rules.RETRACTED}
    acks = {}
    for r in rows:
        if r["type"] == "reminder_acknowledged" and r["version"] not in gone:
            acks[json.loads(r["data"])["flagged_version"]] = r
    out = []
    for version, r in facts.items():
        if r["type"] != "inactivity_flagged" or version in gone:
            continue
        data = json.loads(r["data"])
        ack = acks.get(version)
        ack_data = json.loads(ack["data"]) if ack else {}
        out.append(
            {
                "id": reminder_id(partnership_id, version),
                "partnership_id": str(partnership_id),
                "flagged_version": version,
                "kind": data["kind"],
                "opened_on": r["occurred_on"],
                "open": ack is None,
                "acknowledged_by": ack["recorded_by"] if ack else None,
                "acknowledged_at": ack["recorded_at"] if ack else None,
                "note": ack_data.get("note"),
                "last_activity_on": data.get("last_activity_on"),
                "planned_for": data.get("planned_for"),
            }
        )
    return out


def rows_known_at(rows: Sequence[Mapping[str, Any]], moment: datetime | None) -> list[Mapping[str, Any]]:
    if moment is None:
        return list(rows)
    return [r for r in rows if datetime.fromisoformat(r["recorded_at"]) <= moment]


def rows_as_of(rows: Sequence[Mapping[str, Any]], day: date | None) -> list[Mapping[str, Any]]:
    if day is None:
        return list(rows)
    keep = {f.version for f in rules.as_of([fact_of(r) for r in rows], day)}
    return [r for r in rows if r["version"] in keep]


def document_at(
    partnership_id: str, rows: Sequence[Mapping[str, Any]], *, as_of: date | None, known_at: datetime | None
) -> dict[str, Any] | None:
    """The partnership as it stood (None when it did not exist yet at that point)."""
    rows = rows_known_at(rows, known_at)
    if not rows or rows[0]["type"] != rules.REGISTERED:
        return None
    facts = [fact_of(r) for r in rows]  # parsed once: the history is read, filtered and folded from these
    if as_of is not None and as_of < rules.exists_from(facts):
        return None
    return document_of_facts(partnership_id, rules.as_of(facts, as_of))[0]
