"""The partnership's rules as pure functions over its facts.

A *fact* is one recorded event reduced to what the rules need. The aggregate,
the projections and the time-travel answers all fold facts with the functions
below, so "current", "as of D" and "known at T" can never disagree.

Nothing here reads a clock: ``today`` is always passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from domain.values import (
    ACTIVE,
    ACTIVITY_TYPES,
    INTENT,
    NON_EXISTENCE_TYPES,
    PROPOSED,
    SUSPENDED,
    TERMINATED,
)

REGISTERED = "partnership_registered"
RETRACTED = "event_retracted"


@dataclass(frozen=True)
class Fact:
    """One event of a partnership, as the rules see it."""

    version: int
    type: str
    occurred_on: date | None
    recorded_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class State:
    """A partnership's state: the fold of its facts."""

    status: str
    status_since: date
    areas: tuple[str, ...]
    schools: tuple[tuple[str, str, str | None], ...] = ()
    last_activity_on: date | None = None
    #: last_activity_on values of the inactivity spells already flagged
    flagged_spells: frozenset[date | None] = frozenset()
    #: versions of youth_exchange_planned events already flagged as overdue
    flagged_plans: frozenset[int] = frozenset()
    #: version -> (occurred_on, planned_for) of plans in effect
    plans: tuple[tuple[int, date, date], ...] = ()
    #: occurred_on of every youth exchange held
    exchanges_held: tuple[date, ...] = ()
    applied: tuple[int, ...] = ()


# --- which event may meet which status -------------------------------------------------


def allowed_in(event_type: str, status: str) -> bool:
    """Whether an event of this type may be recorded against a partnership in ``status``."""
    if event_type in (RETRACTED, "note_added"):
        return True
    if status == TERMINATED:
        return False
    if event_type == "cooperation_suspended":
        return status in (INTENT, ACTIVE)
    if event_type == "cooperation_resumed":
        return status == SUSPENDED
    return True


def _status_after(event_type: str, status: str) -> str:
    if event_type == "letter_of_intent_signed":
        return INTENT if status == PROPOSED else status
    if event_type in ("agreement_signed", "council_resolution_adopted", "cooperation_resumed"):
        return ACTIVE
    if event_type == "cooperation_suspended":
        return SUSPENDED
    if event_type == "partnership_terminated":
        return TERMINATED
    return status


def _merge_areas(current: tuple[str, ...], more: Iterable[str] | None) -> tuple[str, ...]:
    out = list(current)
    for area in more or ():
        if area not in out:
            out.append(area)
    return tuple(out)


def apply_fact(state: State, fact: Fact) -> State:
    """The state after one fact; a fact not allowed in the state it meets changes nothing."""
    if not allowed_in(fact.type, state.status):
        return state
    changes: dict[str, Any] = {"applied": (*state.applied, fact.version)}
    new_status = _status_after(fact.type, state.status)
    if new_status != state.status:
        changes["status"] = new_status
        changes["status_since"] = fact.occurred_on
    data = fact.data
    if fact.type in ("agreement_signed", "council_resolution_adopted"):
        changes["areas"] = _merge_areas(state.areas, data.get("areas"))
    elif fact.type == "school_joined":
        school = (data["school_name"], data["side"], data.get("town"))
        if school not in state.schools:
            changes["schools"] = (*state.schools, school)
    elif fact.type == "youth_exchange_planned":
        changes["plans"] = (*state.plans, (fact.version, fact.occurred_on, data["planned_for"]))
    elif fact.type == "youth_exchange_held":
        changes["exchanges_held"] = (*state.exchanges_held, fact.occurred_on)
    elif fact.type == "inactivity_flagged":
        if data.get("kind") == "exchange_overdue":
            changes["flagged_plans"] = state.flagged_plans | {data.get("plan_version")}
        else:
            changes["flagged_spells"] = state.flagged_spells | {data.get("last_activity_on")}
    if fact.type in ACTIVITY_TYPES and fact.occurred_on is not None:
        if state.last_activity_on is None or fact.occurred_on > state.last_activity_on:
            changes["last_activity_on"] = fact.occurred_on
    return replace(state, **changes)


# --- the fold ---------------------------------------------------------------------------


def retracted_versions(facts: Iterable[Fact]) -> dict[int, Fact]:
    """Map each retracted version to the retraction that retracted it."""
    return {f.data["retracts"]: f for f in facts if f.type == RETRACTED}


def business_order(facts: Iterable[Fact]) -> list[Fact]:
    """Non-retracted facts after the registration, in business order (occurred_on, version)."""
    facts = list(facts)
    gone = retracted_versions(facts)
    rest = [f for f in facts if f.type not in (REGISTERED, RETRACTED) and f.version not in gone]
    return sorted(rest, key=lambda f: (f.occurred_on or date.min, f.version))


def registration(facts: Sequence[Fact]) -> Fact:
    for f in facts:
        if f.type == REGISTERED:
            return f
    raise ValueError("a partnership's facts must include its registration")


def initial_state(reg: Fact) -> State:
    return State(
        status=PROPOSED,
        status_since=reg.occurred_on or reg.data["registered_on"],
        areas=_merge_areas((), reg.data.get("areas")),
        applied=(reg.version,),
    )


def fold(facts: Sequence[Fact]) -> State:
    """The partnership's state: its registration, then every non-retracted fact in business order."""
    state = initial_state(registration(facts))
    for fact in business_order(facts):
        state = apply_fact(state, fact)
    return state


def exists_from(facts: Sequence[Fact]) -> date:
    """The first day the partnership exists in business time."""
    reg = registration(facts)
    gone = retracted_versions(facts)
    dates = [reg.occurred_on] if reg.occurred_on else []
    dates += [
        f.occurred_on
        for f in facts
        if f.type not in NON_EXISTENCE_TYPES
        and f.type != REGISTERED
        and f.version not in gone
        and f.occurred_on is not None
    ]
    return min(dates) if dates else reg.data["registered_on"]


def known_at(facts: Iterable[Fact], moment: datetime | None) -> list[Fact]:
    """The facts recorded at or before ``moment`` (all of them when it is None)."""
    if moment is None:
        return list(facts)
    return [f for f in facts if f.recorded_at <= moment]


def as_of(facts: Iterable[Fact], day: date | None) -> list[Fact]:
    """The facts that happened on or before ``day``; retractions apply whenever they were made.

    A retraction says "this never happened", so it removes the retracted fact from
    every business date; what was known when is the job of :func:`known_at`.
    """
    facts = list(facts)
    if day is None:
        return facts
    return [
        f for f in facts if f.type in (REGISTERED, RETRACTED) or (f.occurred_on is not None and f.occurred_on <= day)
    ]


def state_on(facts: Sequence[Fact], day: date) -> State:
    """The state the rules check a new event against: everything that happened on or before ``day``."""
    return fold(as_of(facts, day))


# --- inactivity --------------------------------------------------------------------------


def is_inactive(state: State, today: date, days: int) -> bool:
    """Open (intent or active) and no activity for more than ``days`` days before ``today``."""
    if state.status not in (INTENT, ACTIVE) or state.last_activity_on is None:
        return False
    return (today - state.last_activity_on).days > days


def needs_inactivity_flag(state: State, today: date, days: int) -> bool:
    """Inactive, and this spell of inactivity has not been flagged yet."""
    return is_inactive(state, today, days) and state.last_activity_on not in state.flagged_spells


def pending_plans(state: State) -> list[tuple[int, date]]:
    """Plans (version, planned_for) not yet flagged and with no exchange held since the plan."""
    if state.status == TERMINATED:
        return []
    return [
        (version, planned_for)
        for version, planned_on, planned_for in state.plans
        if version not in state.flagged_plans and not any(held >= planned_on for held in state.exchanges_held)
    ]


def overdue_plans(state: State, today: date) -> list[tuple[int, date]]:
    """Pending plans whose date has passed (before ``today``)."""
    return [(version, planned_for) for version, planned_for in pending_plans(state) if planned_for < today]


def spell_flagged(state: State) -> bool:
    """Whether the current spell (since ``last_activity_on``) has already been flagged."""
    return state.last_activity_on in state.flagged_spells


def as_fact(version: int, type_: str, occurred_on: date | None, recorded_at: datetime, data: Mapping[str, Any]) -> Fact:
    return Fact(version=version, type=type_, occurred_on=occurred_on, recorded_at=recorded_at, data=dict(data))
