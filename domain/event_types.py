"""One table of what each event type is: the contract's lifecycle, read by everything else.

For each ``type``: which of its fields are business dates, whether it counts as
activity, whether it makes the partnership exist, whether only the system writes
it, which statuses it may meet (else 409 when recorded, and no effect in the fold)
and what status it leads to. The rules (:mod:`domain.rules`), the aggregate, the
schemas, the presenter, the import and the seed all read this table; nothing else
keeps a list of types.

The event classes themselves are nested in :class:`domain.partnership.Partnership`;
a test checks that the two name the same types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.values import ACTIVE, INTENT, PROPOSED, STATUSES, SUSPENDED, TERMINATED

EVERY_STATUS = frozenset(STATUSES)
NOT_ENDED = frozenset(STATUSES) - {TERMINATED}


@dataclass(frozen=True)
class Keep:
    """The status stays as it is, and why (a code the UI and the API's ``effect`` use)."""

    reason: str


#: The reasons an event changes no status (the ``none`` of an event's ``effect``).
KEEPS_STATUS = "keeps_status"  # the type never changes the status
ALREADY = "already_in_status"  # it leads to the status the partnership already has
ALREADY_FURTHER = "already_further"  # a letter of intent after the agreement
PURPOSE_KEEPS_STATUS = "purpose_keeps_status"  # a resolution that authorises, amends, ...
PURPOSE_NOT_APPLICABLE = "purpose_not_applicable"  # e.g. a resolution to resume what is not suspended
NOT_ALLOWED = "not_allowed_in_status"  # the status it met does not allow it (e.g. after a back-dated entry)
RETRACTED = "retracted"  # the entry was retracted

Transition = Callable[[str, Mapping[str, Any]], "str | Keep"]


def _keeps(status: str, data: Mapping[str, Any]) -> str | Keep:
    return Keep(KEEPS_STATUS)


def _to(target: str) -> Transition:
    def transition(status: str, data: Mapping[str, Any]) -> str | Keep:
        return Keep(ALREADY) if status == target else target

    return transition


def _letter_of_intent(status: str, data: Mapping[str, Any]) -> str | Keep:
    if status in (PROPOSED, TERMINATED):  # after termination: talks to renew
        return INTENT
    return Keep(ALREADY) if status == INTENT else Keep(ALREADY_FURTHER)


#: A council resolution's purpose -> (the statuses it can change, the status it leads to).
RESOLUTION_EFFECTS: dict[str, tuple[frozenset[str], str] | None] = {
    "establish": (frozenset({PROPOSED, INTENT, TERMINATED}), ACTIVE),
    "resume": (frozenset({SUSPENDED}), ACTIVE),
    "suspend": (frozenset({INTENT, ACTIVE}), SUSPENDED),
    "terminate": (frozenset({PROPOSED, INTENT, ACTIVE, SUSPENDED}), TERMINATED),
    "authorise_signing": None,
    "amend": None,
    "other": None,
}
#: What a resolution stored before ``purpose`` existed reads as.
DEFAULT_PURPOSE = "establish"


def resolution_purpose(data: Mapping[str, Any]) -> str:
    return data.get("purpose") or DEFAULT_PURPOSE


def _council_resolution(status: str, data: Mapping[str, Any]) -> str | Keep:
    effect = RESOLUTION_EFFECTS[resolution_purpose(data)]
    if effect is None:
        return Keep(PURPOSE_KEEPS_STATUS)
    changes, target = effect
    if status == target:
        return Keep(ALREADY)
    return target if status in changes else Keep(PURPOSE_NOT_APPLICABLE)


@dataclass(frozen=True)
class EventType:
    """What the contract says about one event type."""

    name: str
    #: the statuses it may meet (recording it against another is refused; in the fold it changes nothing)
    may_meet: frozenset[str] = NOT_ENDED
    #: the status it leads to, given the status it meets and its data (or why it keeps it)
    leads_to: Transition = _keeps
    #: fields of its data that hold business dates (day, month or year)
    date_fields: tuple[str, ...] = ()
    #: date fields that may lie in the future (a plan)
    future_fields: tuple[str, ...] = ()
    #: counts as activity for the inactivity rules
    activity: bool = False
    #: makes the partnership exist in business time from its date
    existence: bool = True
    #: written by the system only, never through the generic record door
    system: bool = False
    #: a field whose date, when given, places it in business order instead of ``occurred_on``
    effective_field: str | None = None


_TYPES = (
    EventType("partnership_registered", system=True),
    EventType("letter_of_intent_signed", EVERY_STATUS, _letter_of_intent, activity=True),
    EventType("agreement_signed", EVERY_STATUS, _to(ACTIVE), activity=True),
    EventType("council_resolution_adopted", EVERY_STATUS, _council_resolution, activity=True),
    EventType("school_joined", activity=True),
    EventType("youth_exchange_planned", date_fields=("planned_for",), future_fields=("planned_for",)),
    EventType("youth_exchange_held", date_fields=("ends_on",), activity=True),
    EventType("activity_held", date_fields=("ends_on",), activity=True),
    EventType("cooperation_suspended", frozenset({INTENT, ACTIVE}), _to(SUSPENDED)),
    EventType("cooperation_resumed", frozenset({SUSPENDED}), _to(ACTIVE), activity=True),
    EventType(
        "partnership_terminated",
        leads_to=_to(TERMINATED),
        date_fields=("effective_on",),
        effective_field="effective_on",
    ),
    EventType("partner_renamed", EVERY_STATUS),
    EventType("inactivity_period_set"),
    EventType("note_added", EVERY_STATUS, existence=False),
    EventType("event_retracted", EVERY_STATUS, existence=False),
    EventType("inactivity_flagged", date_fields=("last_activity_on", "planned_for"), existence=False, system=True),
    EventType("reminder_acknowledged", EVERY_STATUS, existence=False, system=True),
)

#: Every type of the contract, by name, in the contract's order.
EVENT_TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}
#: Types an officer records through the generic door.
RECORDABLE: tuple[str, ...] = tuple(t.name for t in _TYPES if not t.system)
#: Types that count as activity for the inactivity rules.
ACTIVITY_TYPES: frozenset[str] = frozenset(t.name for t in _TYPES if t.activity)
#: Types that do not make a partnership exist in business time.
NON_EXISTENCE_TYPES: frozenset[str] = frozenset(t.name for t in _TYPES if not t.existence)

REGISTERED = "partnership_registered"
RETRACTED_TYPE = "event_retracted"


def event_type(name: str) -> EventType:
    """The table's row for ``name`` (KeyError for a type the contract does not have)."""
    return EVENT_TYPES[name]
