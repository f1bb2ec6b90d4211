"""The partnership's rules as pure functions over its facts.

A *fact* is one recorded event reduced to what the rules need. The aggregate,
the projections and the time-travel answers all fold facts with the functions
below, so "current", "as of D" and "known at T" can never disagree. What each
event type may meet and leads to is read from one table,
:data:`domain.event_types.EVENT_TYPES`.

Nothing here reads a clock: ``today`` is always passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from domain.dates import BusinessDate
from domain.event_types import (
    ACTIVITY_TYPES,
    NON_EXISTENCE_TYPES,
    NOT_ALLOWED,
    REGISTERED,
    RETRACTED_TYPE,
    Keep,
    event_type,
)
from domain.values import ACTIVE, INTENT, PROPOSED, TERMINATED

RETRACTED = RETRACTED_TYPE


@dataclass(frozen=True)
class Fact:
    """One event of a partnership, as the rules see it (business dates as :class:`BusinessDate`)."""

    version: int
    type: str
    occurred_on: BusinessDate | None
    recorded_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Facts are built from events, snapshots, view rows and exports: business dates may come as
        # ``date`` (a day, as version 1 stored them) or text; they are BusinessDate from here on.
        if self.occurred_on is not None and not isinstance(self.occurred_on, BusinessDate):
            object.__setattr__(self, "occurred_on", BusinessDate.of(self.occurred_on))
        names = [n for n in event_type(self.type).date_fields if self.data.get(n) is not None]
        if any(not isinstance(self.data[n], BusinessDate) for n in names):
            object.__setattr__(self, "data", {**self.data, **{n: BusinessDate.of(self.data[n]) for n in names}})

    @property
    def when(self) -> BusinessDate | None:
        """Where the fact stands in business order: its ``occurred_on``, or the day it took effect (a notice)."""
        effective = event_type(self.type).effective_field
        if effective and self.data.get(effective) is not None:
            return self.data[effective]
        return self.occurred_on


@dataclass(frozen=True)
class Effect:
    """What one event did to the status in the fold: before and after, or why nothing."""

    status_before: str
    status_after: str
    #: why the status stayed (a code of :mod:`domain.event_types`), None when it changed
    none: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The contract's ``effect``: ``{"status_before", "status_after"}`` or ``{"none": why, "status"}``."""
        if self.none is None:
            return {"status_before": self.status_before, "status_after": self.status_after}
        return {"none": self.none, "status": self.status_before}


@dataclass(frozen=True)
class State:
    """A partnership's state: the fold of its facts."""

    status: str
    status_since: BusinessDate
    partner_name: str
    #: every name the partner has had, oldest first (for search)
    names: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    schools: tuple[tuple[str, str, str | None], ...] = ()
    last_activity_on: BusinessDate | None = None
    #: the partnership's own inactivity period (None: the register's default)
    inactivity_days: int | None = None
    #: last_activity_on values of the inactivity spells already flagged
    flagged_spells: frozenset[BusinessDate | None] = frozenset()
    #: versions of youth_exchange_planned events already flagged as overdue
    flagged_plans: frozenset[int] = frozenset()
    #: (version, occurred_on, planned_for) of plans in effect
    plans: tuple[tuple[int, BusinessDate, BusinessDate], ...] = ()
    #: occurred_on of every youth exchange held
    exchanges_held: tuple[BusinessDate, ...] = ()
    #: resolution numbers and references, for search
    references: tuple[str, ...] = ()
    applied: tuple[int, ...] = ()
    #: version -> what the event did to the status, in this fold
    effects: Mapping[int, Effect] = field(default_factory=dict)


# --- which event may meet which status, and what it leads to --------------------------------


def allowed_in(event_type_name: str, status: str) -> bool:
    """Whether an event of this type may be recorded against (and take effect in) ``status``."""
    return status in event_type(event_type_name).may_meet


def transition(fact_type: str, status: str, data: Mapping[str, Any]) -> Effect:
    """The effect of an event of ``fact_type`` with ``data`` meeting ``status``."""
    if not allowed_in(fact_type, status):
        return Effect(status, status, NOT_ALLOWED)
    outcome = event_type(fact_type).leads_to(status, data)
    if isinstance(outcome, Keep):
        return Effect(status, status, outcome.reason)
    return Effect(status, outcome)


def _merge(current: tuple[str, ...], more: Iterable[str] | None) -> tuple[str, ...]:
    out = list(current)
    for item in more or ():
        if item and item not in out:
            out.append(item)
    return tuple(out)


def _later(a: BusinessDate | None, b: BusinessDate) -> BusinessDate:
    """The later of two activity dates, by their last day (a month or a year counts to its end)."""
    return b if a is None or b.last > a.last else a


def _areas(state: State, fact: Fact) -> dict[str, Any]:
    return {"areas": _merge(state.areas, fact.data.get("areas"))}


def _school(state: State, fact: Fact) -> dict[str, Any]:
    school = (fact.data["school_name"], fact.data["side"], fact.data.get("town"))
    return {} if school in state.schools else {"schools": (*state.schools, school)}


def _plan(state: State, fact: Fact) -> dict[str, Any]:
    return {"plans": (*state.plans, (fact.version, fact.occurred_on, fact.data["planned_for"]))}


def _exchange(state: State, fact: Fact) -> dict[str, Any]:
    return {"exchanges_held": (*state.exchanges_held, fact.occurred_on)}


def _rename(state: State, fact: Fact) -> dict[str, Any]:
    name = fact.data["partner_name"]
    return {"partner_name": name, "names": _merge(state.names, [name])}


def _period(state: State, fact: Fact) -> dict[str, Any]:
    return {"inactivity_days": fact.data.get("days")}


def _flag(state: State, fact: Fact) -> dict[str, Any]:
    if fact.data.get("kind") == "exchange_overdue":
        return {"flagged_plans": state.flagged_plans | {fact.data.get("plan_version")}}
    return {"flagged_spells": state.flagged_spells | {fact.data.get("last_activity_on")}}


#: What the state remembers of a fact that took effect, by type (besides status, references and activity).
_REMEMBERED = {
    "agreement_signed": _areas,
    "council_resolution_adopted": _areas,
    "school_joined": _school,
    "youth_exchange_planned": _plan,
    "youth_exchange_held": _exchange,
    "partner_renamed": _rename,
    "inactivity_period_set": _period,
    "inactivity_flagged": _flag,
}


def step(state: State, fact: Fact) -> tuple[State, Effect]:
    """The state after one fact, and what the fact did to the status; ``effects`` and ``applied`` are left as
    they are (the fold keeps them, so that a long history is folded in linear time)."""
    effect = transition(fact.type, state.status, fact.data)
    if effect.none == NOT_ALLOWED:
        return state, effect
    changes: dict[str, Any] = {}
    if effect.none is None:
        changes["status"] = effect.status_after
        changes["status_since"] = fact.when
    data = fact.data
    remember = _REMEMBERED.get(fact.type)
    if remember is not None:
        changes.update(remember(state, fact))
    refs = [data.get("resolution_number"), data.get("reference")]
    if any(refs):
        changes["references"] = _merge(state.references, refs)
    if fact.type in ACTIVITY_TYPES and fact.occurred_on is not None:
        changes["last_activity_on"] = _later(state.last_activity_on, fact.occurred_on)
    return (_changed(state, changes) if changes else state), effect


def _changed(state: State, changes: dict[str, Any]) -> State:
    """``dataclasses.replace`` for the fold's hot path: the same new State, without re-running ``__init__``
    (the fold makes one per fact, and ``replace`` was a sixth of a rebuild's time)."""
    new = object.__new__(State)
    new.__dict__.update(state.__dict__)
    new.__dict__.update(changes)
    return new


def apply_fact(state: State, fact: Fact) -> State:
    """The state after one fact; a fact not allowed in the state it meets changes nothing."""
    after, effect = step(state, fact)
    applied = state.applied if effect.none == NOT_ALLOWED else (*state.applied, fact.version)
    return replace(after, effects={**state.effects, fact.version: effect}, applied=applied)


# --- the fold ---------------------------------------------------------------------------


def retracted_versions(facts: Iterable[Fact]) -> dict[int, Fact]:
    """Map each retracted version to the retraction that retracted it."""
    return {f.data["retracts"]: f for f in facts if f.type == RETRACTED}


def sort_key(fact: Fact) -> tuple[date, int]:
    """Business order: the first day of the fact's date (a month or a year counts from its first day), then version."""
    when = fact.when
    return (when.first if when is not None else date.min, fact.version)


def business_order(facts: Iterable[Fact]) -> list[Fact]:
    """Non-retracted facts after the registration, in business order (date, then version)."""
    facts = list(facts)
    gone = retracted_versions(facts)
    rest = [f for f in facts if f.type not in (REGISTERED, RETRACTED) and f.version not in gone]
    return sorted(rest, key=sort_key)


def registration(facts: Sequence[Fact]) -> Fact:
    for f in facts:
        if f.type == REGISTERED:
            return f
    raise ValueError("a partnership's facts must include its registration")


def initial_state(reg: Fact, exists: BusinessDate) -> State:
    name = reg.data.get("partner_name", "")
    return State(
        status=PROPOSED,
        status_since=exists,
        partner_name=name,
        names=(name,),
        areas=_merge((), reg.data.get("areas")),
        references=_merge((), [reg.data.get("reference")]),
        applied=(reg.version,),
    )


def fold(facts: Sequence[Fact], *, exists: BusinessDate | None = None) -> State:
    """The partnership's state: its registration, then every non-retracted fact in business order.

    The status starts as ``proposed`` from the day the partnership exists in business time
    (``exists``, when the caller folds only part of the history), so ``status_since`` is never
    after the day asked about.
    """
    state = initial_state(registration(facts), exists or exists_from(facts))
    effects: dict[int, Effect] = {}
    applied = list(state.applied)
    for fact in business_order(facts):
        state, effect = step(state, fact)
        effects[fact.version] = effect
        if effect.none != NOT_ALLOWED:
            applied.append(fact.version)
    return replace(state, effects=effects, applied=tuple(applied))


@dataclass(frozen=True)
class Folded:
    """The fold of a history kept to be advanced: a fact that comes after everything in it in business order
    (the common case) is one :func:`step`; any other needs a refold (:meth:`then` says so with None)."""

    #: the state (its ``effects`` and ``applied`` are not kept here)
    state: State
    #: the business-order key of the last fact folded (None: only the registration)
    last: tuple[date, int] | None
    #: the day the partnership exists from, and whether an event's date gave it (else the registration day)
    exists: BusinessDate
    exists_dated: bool
    #: every fact but the registration has a business date
    dated: bool

    @classmethod
    def of(cls, facts: Sequence[Fact]) -> Folded:
        folded = fold(facts)
        order = business_order(facts)
        reg = registration(facts)
        gone = retracted_versions(facts)
        exists_dated = reg.occurred_on is not None or any(
            f.type not in NON_EXISTENCE_TYPES
            and f.type != REGISTERED
            and f.version not in gone
            and f.occurred_on is not None
            for f in facts
        )
        return cls(
            replace(folded, effects={}, applied=()),
            sort_key(order[-1]) if order else None,
            exists_from(facts),
            exists_dated,
            all(f.when is not None for f in facts if f.type != REGISTERED),
        )

    def then(self, fact: Fact) -> Folded | None:
        """This fold advanced by ``fact`` recorded next, or None when it does not come last in business order
        (or changes the day the partnership exists from, or is a retraction): then only a refold is right."""
        advanced = self.advanced(fact)
        return advanced[0] if advanced is not None else None

    def advanced(self, fact: Fact) -> tuple[Folded, Effect] | None:
        """:meth:`then`, with what ``fact`` does to the status."""
        if fact.type in (REGISTERED, RETRACTED) or fact.when is None:
            return None
        key = sort_key(fact)
        if self.last is not None and key <= self.last:
            return None
        exists, exists_dated = self.exists, self.exists_dated
        if fact.type not in NON_EXISTENCE_TYPES and fact.occurred_on is not None:
            day = fact.occurred_on
            if not exists_dated or (day.first, day.last) < (exists.first, exists.last):
                return None
        state, effect = step(self.state, fact)
        return replace(self, state=state, last=key), effect

    def covers(self, day: date) -> bool:
        """Whether the state on ``day`` (:func:`state_on`) is this state: everything folded happened by then."""
        return self.dated and (self.last is None or self.last[0] <= day)


def exists_from(facts: Sequence[Fact]) -> BusinessDate:
    """The first day the partnership exists in business time (as the date that gives it)."""
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
    if not dates:
        return BusinessDate.of(reg.data["registered_on"])
    return min(dates, key=lambda d: (d.first, d.last))


def known_at(facts: Iterable[Fact], moment: datetime | None) -> list[Fact]:
    """The facts recorded at or before ``moment`` (all of them when it is None)."""
    if moment is None:
        return list(facts)
    return [f for f in facts if f.recorded_at <= moment]


def as_of(facts: Iterable[Fact], day: date | None) -> list[Fact]:
    """The facts that happened on or before ``day`` (from their first day); retractions apply whenever made.

    A retraction says "this never happened", so it removes the retracted fact from
    every business date; what was known when is the job of :func:`known_at`.
    """
    facts = list(facts)
    if day is None:
        return facts
    return [f for f in facts if f.type in (REGISTERED, RETRACTED) or (f.when is not None and f.when.first <= day)]


def state_on(facts: Sequence[Fact], day: date) -> State:
    """The state the rules check a new event against: everything that happened on or before ``day``."""
    return fold(as_of(facts, day), exists=exists_from(facts))


def approximate_on(facts: Sequence[Fact], day: date) -> bool:
    """Whether the answer for ``day`` rests on a month or a year that ``day`` falls inside (before its end)."""
    gone = retracted_versions(facts)
    for f in facts:
        if f.version in gone or f.type in NON_EXISTENCE_TYPES:
            continue
        when = f.when
        if when is not None and when.uncertain_on(day):
            return True
    return False


# --- effects, and entries a back-dated one made ineffective --------------------------------------


@dataclass(frozen=True)
class History:
    """A partnership's history replayed in recording order: the state now, what each entry does now, and the
    entries a later-recorded one made ineffective."""

    #: the status now
    status: str
    #: version -> what the entry does to the status now (see :func:`effects`)
    effects: Mapping[int, Effect]
    #: version -> the later-recorded entry that took its effect away (see :func:`made_ineffective`)
    made_ineffective: Mapping[int, int]


def history(facts: Sequence[Fact]) -> History:
    """:func:`effects` and :func:`made_ineffective` in one pass over the facts in recording order.

    Each prefix of the recording order is folded incrementally: an entry that falls after everything already
    in business order (the common case: things are recorded as they happen) is one :func:`step`; only an
    entry recorded out of order (back-dated) or a retraction refolds the prefix. So a history recorded in
    order costs linear time, and each back-dated entry one more fold. An entry's effect can only change at
    such a refold, which is where the entries it made ineffective are found.
    """
    by_version = sorted(facts, key=lambda f: f.version)
    reg = registration(by_version)
    state = initial_state(reg, exists_from(by_version))
    now: dict[int, Effect] = {}  # the effects of the prefix's fold
    then: dict[int, Effect] = {}  # each entry's effect right after it was recorded
    lost_by: dict[int, int] = {}  # the first later entry at which an entry had lost that effect
    retraction_effects: dict[int, Effect] = {}
    last: tuple[date, int] | None = None  # the business-order key of the prefix's last fact
    prefix: list[Fact] = []
    for g in by_version:
        prefix.append(g)
        if g.type == REGISTERED:
            continue
        if g.type != RETRACTED and (last is None or sort_key(g) > last):
            state, now[g.version] = step(state, g)
            last = sort_key(g)
        else:
            before = state.status
            folded = fold(prefix)
            state, now = replace(folded, effects={}, applied=()), dict(folded.effects)
            order = business_order(prefix)
            last = sort_key(order[-1]) if order else None
            if g.type == RETRACTED:
                after = state.status
                retraction_effects[g.version] = (
                    Effect(before, after) if before != after else Effect(before, after, "keeps_status")
                )
            for version, effect in then.items():
                current = now.get(version)
                if current is None or _lost(effect, current):
                    lost_by.setdefault(version, g.version)
                else:  # it has its effect again (the culprit was retracted, say): a later loss has its own culprit
                    lost_by.pop(version, None)
        if g.version in now:
            then[g.version] = now[g.version]
    out = dict(now)
    gone = retracted_versions(by_version)
    for f in by_version:
        if f.version in gone:
            out[f.version] = Effect(state.status, state.status, "retracted")
        elif f.type == RETRACTED:
            out[f.version] = retraction_effects[f.version]
        elif f.type == REGISTERED:
            out[f.version] = Effect(PROPOSED, PROPOSED, "keeps_status")
    ineffective = {  # by version, as the entries were recorded
        v: lost_by[v]
        for v, effect in sorted(now.items())
        if effect.none is not None and v in lost_by and _lost(then[v], effect)
    }
    return History(state.status, out, ineffective)


def effects(facts: Sequence[Fact]) -> dict[int, Effect]:
    """What each event did to the status, as the fold of the whole history applies it now.

    A retracted entry keeps nothing (``none: retracted``); a retraction's effect is the status
    before it and after it (the fold of what was recorded before it, with and without it).
    """
    return dict(history(facts).effects)


def _lost(then: Effect, now: Effect) -> bool:
    """Whether an entry lost its effect: it changed the status and no longer does, or it was allowed and is not."""
    return (then.none is None and now.none is not None) or (then.none != NOT_ALLOWED and now.none == NOT_ALLOWED)


def made_ineffective(facts: Sequence[Fact]) -> dict[int, int]:
    """Entries that took effect when recorded but no longer do, each with the later-recorded entry that did it.

    An entry is judged by the fold of what was known right after it was recorded; the culprit is the entry
    recorded after it whose recording left it without that effect since it last had it (only an entry dated no
    later than it, a back-dated one, or a retraction can): a culprit later retracted gave the effect back, and
    a later loss names its own culprit. See :func:`history`.
    """
    return dict(history(facts).made_ineffective)


def effect_of_recording(facts: Sequence[Fact], version: int) -> tuple[Effect, list[int]]:
    """What recording the fact at ``version`` does: its effect, and the entries it makes ineffective."""
    before = effects([f for f in facts if f.version != version])
    after = effects(facts)
    newly = [
        v
        for v, effect in after.items()
        if v != version and effect.none == NOT_ALLOWED and v in before and before[v].none != NOT_ALLOWED
    ]
    return after[version], sorted(newly)


# --- inactivity --------------------------------------------------------------------------


def period(state: State, default_days: int) -> int:
    """The days of silence after which this partnership counts as inactive."""
    return state.inactivity_days or default_days


def is_inactive(state: State, today: date, days: int) -> bool:
    """Open (intent or active) and no activity for more than its period (``days`` by default) before ``today``."""
    if state.status not in (INTENT, ACTIVE) or state.last_activity_on is None:
        return False
    return (today - state.last_activity_on.last).days > period(state, days)


def needs_inactivity_flag(state: State, today: date, days: int) -> bool:
    """Inactive, and this spell of inactivity has not been flagged yet."""
    return is_inactive(state, today, days) and not spell_flagged(state)


def pending_plans(state: State) -> list[tuple[int, BusinessDate]]:
    """Plans (version, planned_for) not yet flagged and with no exchange held since the plan."""
    if state.status == TERMINATED:
        return []
    return [
        (version, planned_for)
        for version, planned_on, planned_for in state.plans
        if version not in state.flagged_plans and not _held_since(state, planned_on)
    ]


def _held_since(state: State, planned_on: BusinessDate) -> bool:
    return any(held.last >= planned_on.first for held in state.exchanges_held)


def overdue_plans(state: State, today: date) -> list[tuple[int, BusinessDate]]:
    """Pending plans whose date has wholly passed (its last day before ``today``)."""
    return [(version, planned_for) for version, planned_for in pending_plans(state) if planned_for.last < today]


def spell_flagged(state: State) -> bool:
    """Whether the current spell (since ``last_activity_on``) has already been flagged."""
    return state.last_activity_on in state.flagged_spells


# --- reminders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """A reminder opened by the inactivity job's flag, and what became of it."""

    flag: Fact
    acknowledgement: Fact | None = None
    #: the activity (or the exchange held) that ended what the reminder was about
    closed_by: Fact | None = None

    @property
    def kind(self) -> str:
        return self.flag.data["kind"]

    @property
    def is_open(self) -> bool:
        return self.acknowledgement is None and self.closed_by is None


def reminders(facts: Sequence[Fact]) -> list[Reminder]:
    """Every reminder of the partnership (flags not retracted), oldest first.

    A reminder about a spell of inactivity closes by itself once activity dated after the
    spell's last activity is recorded; one about an overdue exchange once an exchange held
    since the plan is recorded (or the plan is retracted). A manager acknowledges one that stays.
    """
    gone = retracted_versions(facts)
    live = [f for f in facts if f.version not in gone]
    acks = {f.data["flagged_version"]: f for f in live if f.type == "reminder_acknowledged"}
    out = []
    for flag in live:
        if flag.type != "inactivity_flagged":
            continue
        closed_by = None
        if flag.data.get("kind") == "exchange_overdue":
            plan = next((f for f in facts if f.version == flag.data.get("plan_version")), None)
            if plan is not None and plan.version in gone:
                closed_by = gone[plan.version]
            elif plan is not None:
                closed_by = next(
                    (
                        f
                        for f in live
                        if f.type == "youth_exchange_held" and f.occurred_on and f.occurred_on.last >= plan.when.first
                    ),
                    None,
                )
        else:
            spell = flag.data.get("last_activity_on")
            closed_by = next(
                (
                    f
                    for f in live
                    if f.type in ACTIVITY_TYPES
                    and f.occurred_on is not None
                    and (spell is None or f.occurred_on.last > spell.last)
                ),
                None,
            )
        out.append(Reminder(flag, acks.get(flag.version), closed_by))
    return out


def open_reminder(facts: Sequence[Fact], flagged_version: int) -> bool:
    """Whether the flag at ``flagged_version`` opened a reminder that is still open."""
    return any(r.flag.version == flagged_version and r.is_open for r in reminders(facts))
