"""Answers built from a partnership's event rows with the domain's pure fold.

The projection (current state), the time-travel answers (``as_of`` /
``known_at``) and the register all go through :func:`document_of_facts`,
so they can never disagree.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain import rules
from domain.dates import BusinessDate
from domain.rules import Fact
from projections.log import entry_of


def event_id(partnership_id: str | UUID, version: int) -> str:
    return str(uuid5(NAMESPACE_URL, f"/partnerships/{partnership_id}/events/{version}"))


def reminder_id(partnership_id: str | UUID, flagged_version: int) -> str:
    return str(uuid5(NAMESPACE_URL, f"/partnerships/{partnership_id}/reminders/{flagged_version}"))


def _iso(value: BusinessDate | date | None) -> str | None:
    return value.isoformat() if value else None


def fact_of(row: Mapping[str, Any]) -> Fact:
    """A rules fact from a ``view_events`` row (business dates are read by :class:`Fact` itself)."""
    return Fact(
        version=row["version"],
        type=row["type"],
        occurred_on=row["occurred_on"],
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        data=json.loads(row["data"]) if isinstance(row["data"], str) else dict(row["data"]),
    )


def document_and_markers(
    partnership_id: str, rows: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Partnership, and what the inactivity scan needs to find it without replaying it.

    The markers are ``spell_flagged`` (the current spell of inactivity was flagged
    already) and ``next_plan_due`` (the earliest date of a youth exchange plan not
    yet held nor flagged).
    """
    return document_of_facts(partnership_id, [fact_of(r) for r in rows])


def document_of_facts(
    partnership_id: str, facts: Sequence[Fact], *, exists: BusinessDate | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Partnership and its inactivity markers, folded from already parsed facts (``exists``: the day the
    whole history exists from, when ``facts`` are only what happened by a day)."""
    state = rules.fold(facts, exists=exists)
    imprecise = [f.when.last for f in rules.business_order(facts) if f.when is not None and f.when.approximate]
    return document_of_state(
        partnership_id,
        state,
        registered_of(facts),
        version=max(f.version for f in facts),
        exists_from=exists or rules.exists_from(facts),
        approximate_until=max(imprecise) if imprecise else None,
    )


def registered_of(facts: Sequence[Fact]) -> dict[str, Any]:
    """What the document takes from the registration."""
    reg = rules.registration(facts)
    return {
        "partner_country": reg.data["partner_country"],
        "partner_kind": reg.data["partner_kind"],
        "local_party": reg.data["local_party"],
        "description": reg.data.get("description"),
        "registered_at": reg.recorded_at.isoformat(),
    }


def document_of_state(
    partnership_id: str,
    state: rules.State,
    registered: Mapping[str, Any],
    *,
    version: int,
    exists_from: BusinessDate,
    approximate_until: date | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Partnership and its markers from a fold's state and what the registration said (``registered``:
    partner_country, partner_kind, local_party, description, registered_at)."""
    last = state.last_activity_on
    doc = {
        "id": str(partnership_id),
        "partner_name": state.partner_name,
        "partner_country": registered["partner_country"],
        "partner_kind": registered["partner_kind"],
        "local_party": registered["local_party"],
        "description": registered["description"],
        "areas": list(state.areas),
        "status": state.status,
        "status_since": _iso(state.status_since),
        "last_activity_on": _iso(last),
        "schools": [{"name": n, "side": s, "town": t} for n, s, t in state.schools],
        "version": version,
        "registered_at": registered["registered_at"],
        "exists_from": _iso(exists_from),
        "former_names": [n for n in state.names if n != state.partner_name],
        "inactivity_days": state.inactivity_days,
        # answers for a day before this one rest on a month or a year that has not ended by then
        "approximate_until": approximate_until.isoformat() if approximate_until else None,
    }
    plans = rules.pending_plans(state)
    markers = {
        "spell_flagged": rules.spell_flagged(state),
        "next_plan_due": min(p.last for _, p in plans).isoformat() if plans else None,
        "last_activity_end": last.last.isoformat() if last else None,
        "own_days": state.inactivity_days,
        "due_on": (last.last + timedelta(days=state.inactivity_days)).isoformat()
        if last and state.inactivity_days
        else None,
        "search": search_text(
            [
                *state.names,
                registered["local_party"],
                registered["description"],
                registered["partner_country"],
            ]
            + [name for name, _, _ in state.schools]
            + list(state.references)
        ),
    }
    return doc, markers


def search_text(parts: Sequence[str | None]) -> str:
    """What the list's text search looks in: lower case, Polish (and other) diacritics folded away."""
    return fold_text(" ".join(p for p in parts if p))


def fold_text(text: str) -> str:
    """``Nowogród Wołyński`` -> ``nowogrod wolynski``: lower case without diacritics (ł, đ, ø included)."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


#: letters with a stroke, which Unicode does not decompose into a base letter and a mark
_LETTERS = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ħ": "h", "ŧ": "t", "ß": "ss", "æ": "ae", "œ": "oe"})


def reminders_of(partnership_id: str, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The reminders opened by the partnership's flags, with their acknowledgements (computed by the rules)."""
    return reminder_documents(partnership_id, [fact_of(r) for r in rows], {r["version"]: r for r in rows})


def reminder_documents(
    partnership_id: str, facts: Sequence[Fact], rows: Mapping[int, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    for reminder in rules.reminders(facts):
        flag, ack = reminder.flag, reminder.acknowledgement
        ack_row = rows[ack.version] if ack else None
        out.append(
            {
                "id": reminder_id(partnership_id, flag.version),
                "partnership_id": str(partnership_id),
                "flagged_version": flag.version,
                "kind": reminder.kind,
                "opened_on": _iso(flag.occurred_on),
                "open": reminder.is_open,
                "acknowledged_by": ack_row["recorded_by"] if ack_row else None,
                "acknowledged_at": ack_row["recorded_at"] if ack_row else None,
                "note": ack.data.get("note") if ack else None,
                "closed_by_version": reminder.closed_by.version if reminder.closed_by else None,
                "closed_on": _iso(reminder.closed_by.occurred_on) if reminder.closed_by else None,
                "last_activity_on": _iso(flag.data.get("last_activity_on")),
                "planned_for": _iso(flag.data.get("planned_for")),
            }
        )
    return out


def event_effects(facts: Sequence[Fact]) -> dict[int, dict[str, Any]]:
    """Each event's ``effect`` as the fold applies it now, with ``made_ineffective_by`` where a back-dated
    entry recorded later took its effect away."""
    out = {v: e.as_dict() for v, e in rules.effects(facts).items()}
    for version, culprit in rules.made_ineffective(facts).items():
        out[version]["made_ineffective_by"] = culprit
        out[culprit].setdefault("makes_ineffective", []).append(version)
    return out


def preview_document(facts: Sequence[Fact], event: Any) -> dict[str, Any]:
    """The Event a write would append (``dry_run``): ``facts`` are the partnership's history with it."""
    entry = entry_of(event, 0)
    return event_document(entry["partnership_id"], entry, event_effects(facts).get(entry["version"]))


def event_document(
    partnership_id: str,
    entry: Mapping[str, Any],
    effect: dict[str, Any] | None,
    *,
    retracted_by: int | None = None,
    retraction_reason: str | None = None,
) -> dict[str, Any]:
    """The contract's Event from a log entry's fields (a ``view_events`` row, or an event not yet appended)."""
    data = entry["data"]
    return {
        "id": event_id(partnership_id, entry["version"]),
        "partnership_id": str(partnership_id),
        "version": entry["version"],
        "type": entry["type"],
        "occurred_on": entry["occurred_on"],
        "recorded_at": entry["recorded_at"],
        "recorded_by": entry["recorded_by"],
        "data": json.loads(data) if isinstance(data, str) else data,
        "retracted": retracted_by is not None,
        "retracted_by": retracted_by,
        "retraction_reason": retraction_reason,
        "effect": effect,
    }


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
    if as_of is not None and as_of < rules.exists_from(facts).first:
        return None
    kept = rules.as_of(facts, as_of)
    doc = document_of_facts(partnership_id, kept, exists=rules.exists_from(facts))[0]
    if as_of is not None:
        doc["approximate"] = rules.approximate_on(kept, as_of)
    return doc
