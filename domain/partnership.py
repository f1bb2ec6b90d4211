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
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import rules
from domain.errors import InvalidField, InvalidRetraction, NotAllowedInStatus, ReminderNotOpen
from domain.rules import Fact, State
from domain.values import SYSTEM_USER

#: Fields every event carries outside its ``data``.
ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "occurred_on", "recorded_by"}
)


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Partnership(Aggregate):
    """A partnership between the county and one foreign partner."""

    class Event(Aggregate.Event):
        """Base of the partnership's events: what every recorded fact carries."""

        occurred_on: date | None
        recorded_by: str
        reference: str | None
        note: str | None

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

    class LetterOfIntentSigned(Event):
        signatories: list[str] | None

    class AgreementSigned(Event):
        agreement_kind: str
        parties: list[str] | None
        areas: list[str] | None

    class CouncilResolutionAdopted(Event):
        resolution_number: str
        body: str | None
        areas: list[str] | None

    class SchoolJoined(Event):
        school_name: str
        side: str
        town: str | None

    class YouthExchangePlanned(Event):
        planned_for: date
        description: str | None

    class YouthExchangeHeld(Event):
        ends_on: date
        participants: int
        host_town: str | None
        schools: list[str] | None

    class ActivityHeld(Event):
        activity_kind: str
        title: str

    class CooperationSuspended(Event):
        reason: str

    class CooperationResumed(Event):
        reason: str | None

    class PartnershipTerminated(Event):
        reason: str

    class NoteAdded(Event):
        text: str

    class EventRetracted(Event):
        retracts: int
        reason: str

    class InactivityFlagged(Event):
        kind: str
        last_activity_on: date | None
        planned_for: date | None
        plan_version: int | None

    class ReminderAcknowledged(Event):
        flagged_version: int

    # --- state -------------------------------------------------------------------------

    #: the facts recorded so far (plain dicts, JSON-able for snapshots)

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

    def fact_list(self) -> list[Fact]:
        return [Fact(**f) for f in self.facts]

    @property
    def state(self) -> State:
        return rules.fold(self.fact_list())

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
        occurred_on: date | None = None,
        reference: str | None = None,
        note: str | None = None,
    ) -> Partnership:
        if occurred_on is not None and occurred_on > today:
            raise InvalidField("occurred_on", "not_after_today")
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
        )

    def record(self, event_type: str, fields: dict[str, Any], *, recorded_by: str, today: date) -> None:
        """Record an officer-reported event of ``event_type`` after checking the rules."""
        from domain.event_types import RECORDABLE, event_class

        if event_type not in RECORDABLE:
            raise InvalidField("type", "not_recordable", event_type=event_type)
        occurred_on = fields.get("occurred_on")
        if occurred_on is None:
            raise InvalidField("occurred_on", "required")
        if occurred_on > today:
            raise InvalidField("occurred_on", "not_after_today")
        facts = self.fact_list()
        if event_type == rules.RETRACTED:
            self._check_retraction(facts, fields.get("retracts"))
        else:
            self._check_allowed(facts, event_type, occurred_on)
        if event_type == "youth_exchange_held" and fields.get("ends_on") and fields["ends_on"] < occurred_on:
            raise InvalidField("ends_on", "not_before_occurred_on")
        self._trigger(event_class(event_type), fields, recorded_by)

    def flag_inactivity(self, *, today: date, days: int) -> list[int]:
        """Flag this spell of inactivity and every overdue exchange plan, once each.

        Returns the versions of the flags recorded (empty when nothing was due).
        """
        state = self.state
        flagged = []
        common = {"occurred_on": today, "reference": None, "note": None}
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

    def acknowledge(self, flagged_version: int, *, note: str | None, recorded_by: str, today: date) -> None:
        if not self.is_reminder_open(flagged_version):
            raise ReminderNotOpen(flagged_version)
        self._trigger(
            self.ReminderAcknowledged,
            {"occurred_on": today, "flagged_version": flagged_version, "note": note, "reference": None},
            recorded_by,
        )

    def is_reminder_open(self, flagged_version: int) -> bool:
        facts = self.fact_list()
        gone = rules.retracted_versions(facts)
        flags = {f.version for f in facts if f.type == "inactivity_flagged" and f.version not in gone}
        acked = {
            f.data["flagged_version"] for f in facts if f.type == "reminder_acknowledged" and f.version not in gone
        }
        return flagged_version in flags and flagged_version not in acked

    # --- guards ---------------------------------------------------------------------------

    @staticmethod
    def _check_allowed(facts: list[Fact], event_type: str, occurred_on: date) -> None:
        state = rules.state_on(facts, occurred_on)
        if not rules.allowed_in(event_type, state.status):
            raise NotAllowedInStatus(event_type, state.status, occurred_on)

    @staticmethod
    def _check_retraction(facts: list[Fact], version: object) -> None:
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidField("retracts", "not_a_version")
        target = next((f for f in facts if f.version == version), None)
        if target is None:
            raise InvalidRetraction("no_such_event", version=version)
        if target.type == rules.REGISTERED:
            raise InvalidRetraction("registration_not_retractable")
        if target.type == rules.RETRACTED:
            raise InvalidRetraction("retraction_not_retractable")
        if version in rules.retracted_versions(facts):
            raise InvalidRetraction("already_retracted", version=version)

    def _trigger(self, cls: type[Partnership.Event], fields: dict[str, Any], recorded_by: str) -> None:
        names = {f.name for f in dataclasses.fields(cls)} - {
            "originator_id",
            "originator_version",
            "timestamp",
            "recorded_by",
        }
        unknown = set(fields) - names
        if unknown:
            raise InvalidField(sorted(unknown)[0], "unknown_field")
        kwargs = {name: fields.get(name) for name in names}
        self.trigger_event(cls, recorded_by=recorded_by, **kwargs)


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
