"""A partnership's fold kept beside its list row, so that a new event changes the read models by itself.

Most events are recorded as they happen: each comes after everything already recorded in business order.
Such an event is one step of the fold (:class:`rules.Folded`), and the partnership's document, markers and
reminders change by that step alone, whatever the length of the history. Anything else (a back-dated entry,
a retraction, a registration, an exchange-overdue flag, or a reminder that only the whole history can
settle) is left to the full refold of :meth:`projections.projection.Projection.refold`, which stays the
definition: ``tests/integration/test_incremental_views.py`` checks that both give the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from domain import rules
from domain.dates import BusinessDate
from domain.event_types import ACTIVITY_TYPES, NON_EXISTENCE_TYPES
from domain.rules import Fact, Folded, State
from projections.documents import document_of_state, reminder_id

FLAGGED = "inactivity_flagged"
ACKNOWLEDGED = "reminder_acknowledged"
HELD = "youth_exchange_held"


@dataclass(frozen=True)
class Kept:
    """What is kept with a partnership's row to advance its read models by one event."""

    folded: Folded
    #: the latest last day of any activity recorded (allowed or not, not retracted): a reminder about a spell
    #: of inactivity is closed by an activity after the spell's last one
    activity_until: date | None
    #: how many facts are folded (in business order, the registration and retractions not counted)
    count: int = 0
    #: the latest last day of a month or a year among the facts folded (the document's ``approximate_until``)
    approximate_until: date | None = None
    #: the same among those that tell the partnership existed (for ``approximate`` in an answer as of a day)
    uncertain_until: date | None = None

    def counted(self, fact: Fact) -> Kept:
        """The counts above with ``fact`` folded next."""
        approximate, uncertain = self.approximate_until, self.uncertain_until
        when = fact.when
        if when is not None and when.approximate:
            approximate = max(approximate, when.last) if approximate else when.last
            if fact.type not in NON_EXISTENCE_TYPES:
                uncertain = max(uncertain, when.last) if uncertain else when.last
        return replace(self, count=self.count + 1, approximate_until=approximate, uncertain_until=uncertain)


#: a checkpoint of the fold every so many facts in business order, for answers as of a day
CHECKPOINT_EVERY = 32


def fact_of_entry(entry: Mapping[str, Any]) -> Fact:
    """The rules' fact of a log entry (the same as :func:`projections.documents.fact_of` of its row)."""
    return Fact(
        version=entry["version"],
        type=entry["type"],
        occurred_on=entry["occurred_on"],
        recorded_at=datetime.fromisoformat(entry["recorded_at"]),
        data=dict(entry["data"]),
    )


def kept_of(facts: Sequence[Fact]) -> Kept:
    """What to keep after a full refold of ``facts``."""
    gone = rules.retracted_versions(facts)
    ends = [
        f.occurred_on.last
        for f in facts
        if f.type in ACTIVITY_TYPES and f.occurred_on is not None and f.version not in gone
    ]
    kept = Kept(Folded.of(facts), max(ends) if ends else None)
    for fact in rules.business_order(facts):
        kept = kept.counted(fact)
    return kept


def checkpoint_of(kept: Kept) -> Kept:
    """What a checkpoint keeps: the state and the counts (what only the current row needs is left out, so a
    checkpoint is the same whichever way it was made)."""
    return replace(kept, activity_until=None, folded=replace(kept.folded, exists_dated=True, dated=True))


def checkpoints(facts: Sequence[Fact], every: int | None = None) -> list[Kept]:
    """The fold after every ``every``-th fact in business order (from the day the whole history exists);
    :data:`CHECKPOINT_EVERY` by default."""
    every = every or CHECKPOINT_EVERY
    if len(facts) < every:  # too short a history for one (most partnerships): no fold needed
        return []
    order = rules.business_order(facts)
    folded = Folded.of([rules.registration(facts)])
    exists = rules.exists_from(facts)
    state = rules.initial_state(rules.registration(facts), exists)
    kept = Kept(replace(folded, state=state, exists=exists), None)
    out = []
    for fact in order:
        state, _ = rules.step(state, fact)
        kept = replace(kept.counted(fact), folded=replace(kept.folded, state=state, last=rules.sort_key(fact)))
        if kept.count % every == 0:
            out.append(kept)
    return out


def advance(
    kept: Kept,
    doc: Mapping[str, Any],
    reminders: Sequence[dict[str, Any]],
    fact: Fact,
    entry: Mapping[str, Any],
) -> tuple[Kept, dict[str, Any], dict[str, Any], list[dict[str, Any]], dict[str, str]] | None:
    """The read models after one more event, worked out from what was kept: (kept, document, markers, the
    reminders that changed or opened, the event's effect); None when only a full refold can say."""
    advanced = kept.folded.advanced(fact)
    if advanced is None:
        return None
    folded, effect = advanced
    changed = _reminders_after(kept, reminders, fact, entry)
    if changed is None:
        return None
    activity_until = kept.activity_until
    if fact.type in ACTIVITY_TYPES and fact.occurred_on is not None:
        activity_until = max(activity_until, fact.occurred_on.last) if activity_until else fact.occurred_on.last
    after = replace(kept.counted(fact), folded=folded, activity_until=activity_until)
    new_doc, markers = document_of_state(
        doc["id"],
        folded.state,
        doc,
        version=fact.version,
        exists_from=folded.exists,
        approximate_until=after.approximate_until,
    )
    return after, new_doc, markers, changed, effect.as_dict()


def _reminders_after(
    kept: Kept, reminders: Sequence[dict[str, Any]], fact: Fact, entry: Mapping[str, Any]
) -> list[dict[str, Any]] | None:
    """The reminders the fact opens or changes (as :func:`rules.reminders` would make them), or None."""
    if fact.type == FLAGGED:
        if fact.data.get("kind") != "inactive":
            return None  # an overdue exchange: whether it is closed already depends on the plan's history
        spell = fact.data.get("last_activity_on")
        if kept.activity_until is not None and (spell is None or kept.activity_until > spell.last):
            return None  # an activity after the spell was recorded already: the history says which
        return [
            {
                "id": reminder_id(entry["partnership_id"], fact.version),
                "partnership_id": str(entry["partnership_id"]),
                "flagged_version": fact.version,
                "kind": "inactive",
                "opened_on": fact.occurred_on.isoformat() if fact.occurred_on else None,
                "open": True,
                "acknowledged_by": None,
                "acknowledged_at": None,
                "note": None,
                "closed_by_version": None,
                "closed_on": None,
                "last_activity_on": spell.isoformat() if spell else None,
                "planned_for": _iso(fact.data.get("planned_for")),
            }
        ]
    changed = []
    if fact.type == ACKNOWLEDGED:
        for reminder in reminders:
            if reminder["flagged_version"] == fact.data.get("flagged_version"):
                changed.append(
                    {
                        **reminder,
                        "acknowledged_by": entry["recorded_by"],
                        "acknowledged_at": entry["recorded_at"],
                        "note": fact.data.get("note"),
                        "open": False,
                    }
                )
    if fact.type == HELD and any(r["kind"] != "inactive" and r["closed_by_version"] is None for r in reminders):
        return None  # it may close an overdue exchange, which depends on the plan's date
    if fact.type in ACTIVITY_TYPES and fact.occurred_on is not None:
        for reminder in reminders:
            if reminder["kind"] != "inactive" or reminder["closed_by_version"] is not None:
                continue
            spell = BusinessDate.optional(reminder["last_activity_on"])
            if spell is None or fact.occurred_on.last > spell.last:
                changed.append(
                    {
                        **reminder,
                        "closed_by_version": fact.version,
                        "closed_on": fact.occurred_on.isoformat(),
                        "open": False,
                    }
                )
    return changed


def _iso(value: BusinessDate | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- keeping it as JSON ----------------------------------------------------------------------------


def dumps(kept: Kept) -> str:
    folded, state = kept.folded, kept.folded.state
    return json.dumps(
        {
            "status": state.status,
            "status_since": state.status_since.isoformat(),
            "partner_name": state.partner_name,
            "names": state.names,
            "areas": state.areas,
            "schools": state.schools,
            "last_activity_on": _iso(state.last_activity_on),
            "inactivity_days": state.inactivity_days,
            "flagged_spells": sorted((_iso(d) for d in state.flagged_spells), key=lambda d: (d is not None, d)),
            "flagged_plans": sorted(state.flagged_plans, key=lambda v: (v is not None, v)),
            "plans": [[v, on.isoformat(), planned.isoformat()] for v, on, planned in state.plans],
            "exchanges_held": [d.isoformat() for d in state.exchanges_held],
            "references": state.references,
            "last": [folded.last[0].isoformat(), folded.last[1]] if folded.last else None,
            "exists": folded.exists.isoformat(),
            "exists_dated": folded.exists_dated,
            "dated": folded.dated,
            "activity_until": _day(kept.activity_until),
            "count": kept.count,
            "approximate_until": _day(kept.approximate_until),
            "uncertain_until": _day(kept.uncertain_until),
        },
        ensure_ascii=False,
    )


def loads(text: str) -> Kept:
    k = json.loads(text)
    state = State(
        status=k["status"],
        status_since=BusinessDate.parse(k["status_since"]),
        partner_name=k["partner_name"],
        names=tuple(k["names"]),
        areas=tuple(k["areas"]),
        schools=tuple(tuple(s) for s in k["schools"]),  # type: ignore[misc]
        last_activity_on=BusinessDate.optional(k["last_activity_on"]),
        inactivity_days=k["inactivity_days"],
        flagged_spells=frozenset(BusinessDate.optional(d) for d in k["flagged_spells"]),
        flagged_plans=frozenset(k["flagged_plans"]),
        plans=tuple((v, BusinessDate.parse(on), BusinessDate.parse(p)) for v, on, p in k["plans"]),
        exchanges_held=tuple(BusinessDate.parse(d) for d in k["exchanges_held"]),
        references=tuple(k["references"]),
    )
    last = (date.fromisoformat(k["last"][0]), k["last"][1]) if k["last"] else None
    folded = Folded(state, last, BusinessDate.parse(k["exists"]), k["exists_dated"], k["dated"])
    return Kept(
        folded,
        _date(k["activity_until"]),
        k["count"],
        _date(k["approximate_until"]),
        _date(k["uncertain_until"]),
    )


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
