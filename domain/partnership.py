"""The Partnership aggregate: one foreign partnership and everything recorded about it.

Every event type of the contract is a nested, past-tense event class. The
contract's ``type`` is the snake_case of the class name (see
:mod:`domain.event_types`). Commands guard first (with the pure rules of
:mod:`domain.rules`) and only then trigger an event; the events' ``apply``
only remembers the fact, so a rule that changes never makes old history
unloadable.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, Snapshot

from domain import rules
from domain.dates import BusinessDate
from domain.errors import InvalidField, InvalidRetraction, NotAllowedInStatus, ReminderNotOpen
from domain.event_types import RECORDABLE, REGISTERED, event_type
from domain.rules import Fact, State
from domain.values import MAX_INACTIVITY_DAYS, MIN_INACTIVITY_DAYS, RESOLUTION_PURPOSES, SYSTEM_USER

#: Fields every event carries outside its ``data``.
ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "occurred_on", "recorded_by", "request_id"}
)


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _upcast_dates(state: dict[str, Any], *fields: str) -> None:
    """Version 1 stored business dates as ``date`` (days); they are :class:`BusinessDate` now, as given."""
    for name in ("occurred_on", *fields):
        if state.get(name) is not None:
            state[name] = BusinessDate.of(state[name])


def _upcast_adding(*new_fields: str, dates: tuple[str, ...] = ()) -> Any:
    """An upcaster from version 1: dates as business dates, fields added since then as None (absent)."""

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        _upcast_dates(state, *dates)
        for name in new_fields:
            state.setdefault(name, None)

    return staticmethod(upcast_v1_v2)


def _upcast_v2_v3(state: dict[str, Any]) -> None:
    """Version 3 carries the identity of the request that recorded the event; older events have none."""
    state.setdefault("request_id", None)


class Partnership(Aggregate):
    """A partnership between the local government and one foreign partner."""

    #: 2: facts hold business dates (day, month or year) instead of days
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Snapshots of version 1 remembered facts with ``date`` values."""
        for fact in state.get("facts", []):
            fact["occurred_on"] = BusinessDate.optional(fact["occurred_on"])
            data = fact["data"]
            for name in event_type(fact["type"]).date_fields:
                if data.get(name) is not None:
                    data[name] = BusinessDate.of(data[name])

    class Event(Aggregate.Event):
        """Base of the partnership's events: what every recorded fact carries.

        Version 2 of every event: business dates are :class:`BusinessDate` (a day, a month or a
        year, as given); version 1 stored days as ``date``, upcast on load. Version 3: ``request_id``,
        the identity of the request that recorded it (from the client's ``Idempotency-Key``, or made by
        the server for the request; None for the program's own writes and for older events). It is kept
        with the event so that a retry whose first attempt's outcome is unknown finds that attempt's write
        exactly; it is not part of the event's canonical content (exports, hashes, the API's entries).
        """

        occurred_on: BusinessDate | None
        recorded_by: str
        reference: str | None
        note: str | None
        request_id: str | None

        class_version = 3
        upcast_v1_v2 = _upcast_adding()
        upcast_v2_v3 = staticmethod(_upcast_v2_v3)

        def apply(self, aggregate: Partnership) -> None:
            aggregate.remember(self)

    class PartnershipRegistered(Event, Aggregate.Created):
        partner_name: str
        partner_country: str
        partner_kind: str
        local_party: str
        areas: list[str]
        description: str | None
        registered_on: date

        class_version = 3
        upcast_v1_v2 = _upcast_adding()
        upcast_v2_v3 = staticmethod(_upcast_v2_v3)

    class LetterOfIntentSigned(Event):
        signatories: list[str] | None

    class AgreementSigned(Event):
        agreement_kind: str
        parties: list[str] | None
        areas: list[str] | None

    class CouncilResolutionAdopted(Event):
        #: absent in version 1, where every resolution read as ``establish`` (and still does)
        purpose: str | None
        resolution_number: str | None
        body: str | None
        areas: list[str] | None

        upcast_v1_v2 = _upcast_adding("purpose")

    class SchoolJoined(Event):
        school_name: str
        side: str
        town: str | None

    class YouthExchangePlanned(Event):
        planned_for: BusinessDate
        description: str | None

        upcast_v1_v2 = _upcast_adding(dates=("planned_for",))

    class YouthExchangeHeld(Event):
        ends_on: BusinessDate | None
        participants: int | None
        host_town: str | None
        schools: list[str] | None

        upcast_v1_v2 = _upcast_adding(dates=("ends_on",))

    class ActivityHeld(Event):
        activity_kind: str
        title: str
        ends_on: BusinessDate | None

        upcast_v1_v2 = _upcast_adding("ends_on")

    class CooperationSuspended(Event):
        reason: str

    class CooperationResumed(Event):
        reason: str | None

    class PartnershipTerminated(Event):
        reason: str
        effective_on: BusinessDate | None

        upcast_v1_v2 = _upcast_adding("effective_on")

    class PartnerRenamed(Event):
        partner_name: str

    class InactivityPeriodSet(Event):
        days: int | None

    class NoteAdded(Event):
        text: str

    class EventRetracted(Event):
        retracts: int
        reason: str

    class InactivityFlagged(Event):
        kind: str
        last_activity_on: BusinessDate | None
        planned_for: BusinessDate | None
        plan_version: int | None

        upcast_v1_v2 = _upcast_adding(dates=("last_activity_on", "planned_for"))

    class ReminderAcknowledged(Event):
        flagged_version: int

    # --- state -------------------------------------------------------------------------

    #: the facts recorded so far (plain dicts, JSON-able for snapshots); besides them, kept in memory only (not in
    #: snapshots, see :class:`PartnershipSnapshot`): the same facts as :class:`Fact` objects and the fold of them
    #: so far, advanced by each fact recorded in business order, so a command on a long history does not refold it

    def remember(self, event: Partnership.Event) -> None:
        self.__dict__.setdefault("facts", []).append(
            {
                "version": event.originator_version,
                "type": event_type_of(event),
                "occurred_on": event.occurred_on,
                "recorded_at": event.timestamp,
                "data": event_data(event),
            }
        )

    def _memo(self) -> _Memo:
        memo = self.__dict__.get("_derived")
        if memo is None:
            memo = self.__dict__["_derived"] = _Memo()
        return memo

    def fact_list(self) -> list[Fact]:
        return self._memo().objects_for(self.facts)

    def _fold(self) -> rules.Folded:
        """The fold of every fact so far (made once, then advanced fact by fact while they come in order)."""
        return self._memo().folded_for(self.facts)

    @property
    def state(self) -> State:
        """The partnership's state now (``effects`` and ``applied`` are those of :func:`rules.fold`)."""
        return rules.fold(self.fact_list())

    def current(self) -> State:
        """The partnership's status, names, areas, activity and flags now, without ``effects``/``applied``."""
        return self._fold().state

    def state_on(self, day: date) -> State:
        """What a new event dated ``day`` meets: the fold of everything that happened on or before ``day``."""
        folded = self._fold()
        if folded.covers(day):
            return folded.state
        return rules.state_on(self.fact_list(), day)

    def __deepcopy__(self, memo: dict[int, Any]) -> Partnership:
        """A copy for one command (the library copies a cached aggregate before each): recorded facts and events
        are immutable, so the lists are copied and what they hold is shared (linear in pointers, not in data)."""
        copy = object.__new__(type(self))
        self._memo()  # shared with the copy: what either works out about the facts they share serves both
        state = dict(self.__dict__)
        for name in ("facts", "_fact_objects", "_pending_events"):
            if state.get(name) is not None:
                state[name] = list(state[name])
        object.__setattr__(copy, "__dict__", state)
        return copy

    # --- commands ------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        partnership_id: UUID,
        *,
        recorded_by: str,
        today: date,
        partner_name: str,
        partner_country: str,
        partner_kind: str,
        local_party: str,
        areas: list[str] | None = None,
        description: str | None = None,
        occurred_on: BusinessDate | None = None,
        reference: str | None = None,
        note: str | None = None,
        request_id: str | None = None,
    ) -> Partnership:
        occurred_on = _business_date("occurred_on", occurred_on)
        if occurred_on is not None and occurred_on.first > today:
            raise InvalidField("occurred_on", "not_after_today")
        if not local_party:
            raise InvalidField("local_party", "required")
        return cls._create(
            cls.PartnershipRegistered,
            id=partnership_id,
            partner_name=partner_name,
            partner_country=partner_country,
            partner_kind=partner_kind,
            local_party=local_party,
            areas=list(areas or []),
            description=description,
            registered_on=today,
            occurred_on=occurred_on,
            reference=reference,
            note=note,
            recorded_by=recorded_by,
            request_id=request_id,
        )

    def record(
        self,
        event_type_name: str,
        fields: dict[str, Any],
        *,
        recorded_by: str,
        today: date,
        request_id: str | None = None,
    ) -> None:
        """Record an officer-reported event after checking its fields and the rules (as of its own date)."""
        if event_type_name not in RECORDABLE:
            raise InvalidField("type", "not_recordable", event_type=event_type_name)
        kind = event_type(event_type_name)
        fields = dict(fields)
        for name in ("occurred_on", *kind.date_fields):
            fields[name] = _business_date(name, fields.get(name))
        occurred_on = fields["occurred_on"]
        if occurred_on is None:
            raise InvalidField("occurred_on", "required")
        for name in ("occurred_on", *kind.date_fields):
            when = fields.get(name)
            if when is not None and name not in kind.future_fields and when.first > today:
                raise InvalidField(name, "not_after_today")
            if when is not None and name != "occurred_on" and name not in kind.future_fields:
                if when.last < occurred_on.first:
                    raise InvalidField(name, "not_before_occurred_on")
        _check_fields(event_type_name, fields)
        if event_type_name == rules.RETRACTED:
            self._check_retraction(self.fact_list(), fields.get("retracts"))
        else:
            state = self.state_on(occurred_on.first)
            if not rules.allowed_in(event_type_name, state.status):
                raise NotAllowedInStatus(event_type_name, state.status, occurred_on)
        self._trigger(EVENT_CLASSES[event_type_name], fields, recorded_by, request_id)

    def flag_inactivity(self, *, today: date, days: int) -> list[int]:
        """Flag this spell of inactivity and every overdue exchange plan, once each.

        Returns the versions of the flags recorded (empty when nothing was due).
        """
        state = self.current()
        flagged = []
        common = {"occurred_on": BusinessDate.of(today), "reference": None, "note": None}
        if rules.needs_inactivity_flag(state, today, days):
            self._trigger(
                self.InactivityFlagged,
                {**common, "kind": "inactive", "last_activity_on": state.last_activity_on},
                SYSTEM_USER,
            )
            flagged.append(self.version)
        for plan_version, planned_for in rules.overdue_plans(state, today):
            self._trigger(
                self.InactivityFlagged,
                {
                    **common,
                    "kind": "exchange_overdue",
                    "planned_for": planned_for,
                    "plan_version": plan_version,
                },
                SYSTEM_USER,
            )
            flagged.append(self.version)
        return flagged

    def acknowledge(
        self,
        flagged_version: int,
        *,
        note: str | None,
        recorded_by: str,
        today: date,
        request_id: str | None = None,
    ) -> None:
        if not self.is_reminder_open(flagged_version):
            raise ReminderNotOpen(flagged_version)
        self._trigger(
            self.ReminderAcknowledged,
            {
                "occurred_on": BusinessDate.of(today),
                "flagged_version": flagged_version,
                "note": note,
                "reference": None,
            },
            recorded_by,
            request_id,
        )

    def is_reminder_open(self, flagged_version: int) -> bool:
        return rules.open_reminder(self.fact_list(), flagged_version)

    # --- guards ---------------------------------------------------------------------------

    @staticmethod
    def _check_retraction(facts: list[Fact], version: object) -> None:
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidField("retracts", "not_a_version")
        target = next((f for f in facts if f.version == version), None)
        if target is None:
            raise InvalidRetraction("no_such_event", version=version)
        if target.type == REGISTERED:
            raise InvalidRetraction("registration_not_retractable")
        if target.type == rules.RETRACTED:
            raise InvalidRetraction("retraction_not_retractable")
        if version in rules.retracted_versions(facts):
            raise InvalidRetraction("already_retracted", version=version)

    def _trigger(
        self, cls: type[Partnership.Event], fields: dict[str, Any], recorded_by: str, request_id: str | None = None
    ) -> None:
        names = {f.name for f in dataclasses.fields(cls)} - {
            "originator_id",
            "originator_version",
            "timestamp",
            "recorded_by",
            "request_id",
        }
        unknown = set(fields) - names
        if unknown:
            raise InvalidField(sorted(unknown)[0], "unknown_field")
        kwargs = {name: fields.get(name) for name in names}
        self.trigger_event(cls, recorded_by=recorded_by, request_id=request_id, **kwargs)


def event_type_of(event: Partnership.Event) -> str:
    return snake_case(type(event).__name__)


def event_data(event: Partnership.Event) -> dict[str, Any]:
    """The type's own fields (reference and note included), without empty values."""
    out = {}
    for f in dataclasses.fields(event):
        if f.name in ENVELOPE_FIELDS:
            continue
        value = getattr(event, f.name)
        if value is not None:
            out[f.name] = value
    return out


#: The event class of each type, derived from the nested classes (the type is the class name in snake_case).
EVENT_CLASSES: dict[str, type[Partnership.Event]] = {
    snake_case(cls.__name__): cls
    for cls in vars(Partnership).values()
    if isinstance(cls, type)
    and issubclass(cls, Partnership.Event)
    and cls.__name__ not in ("Event", "Created")  # the library's own bases
}


def event_class(event_type_name: str) -> type[Partnership.Event]:
    return EVENT_CLASSES[event_type_name]


def _business_date(name: str, value: Any) -> BusinessDate | None:
    """A business date from what a caller passed (a ``BusinessDate``, a ``date`` or the text as given)."""
    if value is None:
        return None
    try:
        return BusinessDate.of(value)
    except (ValueError, TypeError):
        raise InvalidField(name, "not_a_business_date") from None


def _check_fields(event_type_name: str, fields: Mapping[str, Any]) -> None:
    """The checks on a type's own fields that no schema can be trusted to have made."""
    if event_type_name == "council_resolution_adopted":
        if not fields.get("purpose"):
            raise InvalidField("purpose", "required")
        if fields["purpose"] not in RESOLUTION_PURPOSES:
            raise InvalidField("purpose", "not_one_of", choices=", ".join(RESOLUTION_PURPOSES))
    if event_type_name == "inactivity_period_set" and fields.get("days") is not None:
        days = fields["days"]
        if (
            isinstance(days, bool)
            or not isinstance(days, int)
            or not MIN_INACTIVITY_DAYS <= days <= MAX_INACTIVITY_DAYS
        ):
            raise InvalidField("days", "out_of_range", low=MIN_INACTIVITY_DAYS, high=MAX_INACTIVITY_DAYS)
    if event_type_name == "partner_renamed" and not fields.get("partner_name"):
        raise InvalidField("partner_name", "required")
    if event_type_name == "youth_exchange_held" and fields.get("participants") is not None:
        participants = fields["participants"]
        if isinstance(participants, bool) or not isinstance(participants, int) or participants < 1:
            raise InvalidField("participants", "out_of_range", low=1, high="∞")


class _Memo:
    """What is worked out from a partnership's recorded facts, kept in memory and shared by the partnership and
    the copies the library makes of it for commands: the facts as :class:`Fact` objects and the fold of them.

    Recorded facts are dicts that are never changed, and a copy shares the ones it was made with, so a dict's
    identity says which facts an entry stands for: a copy's own new (maybe never saved) fact is a dict the
    original never holds, so what was worked out with it is not used for the original.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sources: list[dict[str, Any]] = []
        self.objects: list[Fact] = []
        #: folds made, by the identity of the last fact dict they include (a few of the latest)
        self.folds: dict[int, tuple[dict[str, Any], int, rules.Folded]] = {}

    def objects_for(self, facts: list[dict[str, Any]]) -> list[Fact]:
        with self.lock:
            valid = min(len(self.sources), len(facts))
            while valid and self.sources[valid - 1] is not facts[valid - 1]:
                valid -= 1
            del self.sources[valid:], self.objects[valid:]
            for fact in facts[valid:]:
                self.sources.append(fact)
                self.objects.append(Fact(**fact))
            return list(self.objects)

    def folded_for(self, facts: list[dict[str, Any]]) -> rules.Folded:
        objects = self.objects_for(facts)
        with self.lock:
            start = None
            for index in range(len(facts) - 1, max(len(facts) - 64, 0) - 1, -1):
                kept = self.folds.get(id(facts[index]))
                if kept is not None and kept[0] is facts[index]:
                    start = (index + 1, kept[2])
                    break
        folded = None
        if start is not None:
            folded = start[1]
            for fact in objects[start[0] :]:
                folded = folded.then(fact)
                if folded is None:
                    break
        if folded is None:
            folded = rules.Folded.of(objects)
        with self.lock:
            self.folds[id(facts[-1])] = (facts[-1], len(facts), folded)
            while len(self.folds) > 8:
                del self.folds[next(iter(self.folds))]
        return folded


class PartnershipSnapshot(Snapshot):
    """A snapshot of a partnership's recorded facts, without what is kept in memory only to speed commands up."""

    @classmethod
    def take(cls, aggregate: Any) -> PartnershipSnapshot:
        snapshot = super().take(aggregate)
        snapshot.state.pop("_derived", None)
        return snapshot


Partnership.Snapshot = PartnershipSnapshot  # type: ignore[attr-defined] # the library takes a nested one first
