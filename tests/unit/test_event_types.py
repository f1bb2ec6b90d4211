"""The contract's event types are derived from the aggregate's nested event classes, and each has its schema."""

from __future__ import annotations

import dataclasses

import pytest

from domain.event_types import EVENT_CLASSES, EVENT_TYPES, RECORDABLE, event_class
from domain.partnership import Partnership, snake_case
from web.schemas import EVENT_SCHEMAS

#: the contract's list, written out by hand on purpose
CONTRACT_TYPES = [
    "partnership_registered",
    "letter_of_intent_signed",
    "agreement_signed",
    "council_resolution_adopted",
    "school_joined",
    "youth_exchange_planned",
    "youth_exchange_held",
    "activity_held",
    "cooperation_suspended",
    "cooperation_resumed",
    "partnership_terminated",
    "note_added",
    "event_retracted",
    "inactivity_flagged",
    "reminder_acknowledged",
]
SYSTEM_ONLY = {"partnership_registered", "inactivity_flagged", "reminder_acknowledged"}
ENVELOPE = {"originator_id", "originator_version", "timestamp", "recorded_by"}


def own_fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)} - ENVELOPE


def test_the_types_are_exactly_the_contracts_fifteen():
    """The types derived from the event classes are the contract's 15, no more, no fewer."""
    assert len(CONTRACT_TYPES) == 15
    assert set(EVENT_TYPES) == set(CONTRACT_TYPES)
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES))


@pytest.mark.parametrize("event_type", CONTRACT_TYPES)
def test_each_type_names_a_nested_past_tense_class(event_type):
    """Each type is the snake_case of a class nested in Partnership."""
    cls = event_class(event_type)
    assert getattr(Partnership, cls.__name__) is cls
    assert issubclass(cls, Partnership.Event)
    assert snake_case(cls.__name__) == event_type


def test_recordable_excludes_the_system_types():
    """Officers may record every type except the registration, flags and acknowledgements."""
    assert set(RECORDABLE) == set(CONTRACT_TYPES) - SYSTEM_ONLY


def test_unknown_type_has_no_class():
    """An unknown type name is not an event class."""
    with pytest.raises(KeyError):
        event_class("partnership_renamed")
    assert "Event" not in {cls.__name__ for cls in EVENT_CLASSES.values()}


def test_every_recordable_type_has_a_schema():
    """web.schemas has one command schema per recordable type, and none for the system types."""
    assert set(EVENT_SCHEMAS) == set(RECORDABLE)


@pytest.mark.parametrize("event_type", sorted(set(CONTRACT_TYPES) - SYSTEM_ONLY))
def test_schema_fields_equal_the_event_fields(event_type):
    """A type's schema accepts exactly the event class's own fields (occurred_on, reference, note included)."""
    schema_fields = set(EVENT_SCHEMAS[event_type]().fields)
    assert schema_fields == own_fields(event_class(event_type))


@pytest.mark.parametrize("event_type", CONTRACT_TYPES)
def test_every_event_carries_the_common_fields(event_type):
    """Every event has occurred_on, reference and note besides the envelope."""
    assert {"occurred_on", "reference", "note"} <= own_fields(event_class(event_type))
