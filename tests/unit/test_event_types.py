"""One table of the contract's event types: it names exactly the aggregate's event classes, and each has its schema."""

from __future__ import annotations

import dataclasses

import pytest

from domain.event_types import (
    ACTIVITY_TYPES,
    EVENT_TYPES,
    NON_EXISTENCE_TYPES,
    RECORDABLE,
    RESOLUTION_EFFECTS,
    event_type,
)
from domain.partnership import EVENT_CLASSES, Partnership, event_class, snake_case
from domain.values import RESOLUTION_PURPOSES

#: the contract's lifecycle table, in its order, written out by hand on purpose
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
    "partner_renamed",
    "inactivity_period_set",
    "note_added",
    "event_retracted",
    "inactivity_flagged",
    "reminder_acknowledged",
]
SYSTEM_ONLY = {"partnership_registered", "inactivity_flagged", "reminder_acknowledged"}
#: the contract's "Activity, for inactivity" list
CONTRACT_ACTIVITY = {
    "letter_of_intent_signed",
    "agreement_signed",
    "council_resolution_adopted",
    "school_joined",
    "youth_exchange_held",
    "activity_held",
    "cooperation_resumed",
}
#: the contract's "Two kinds of time": these do not make a partnership exist
CONTRACT_NON_EXISTENCE = {"event_retracted", "note_added", "inactivity_flagged", "reminder_acknowledged"}
#: the own fields of each type that hold dates (the lifecycle table and the inactivity job's flag)
CONTRACT_DATE_FIELDS = {
    "youth_exchange_planned": ("planned_for",),
    "youth_exchange_held": ("ends_on",),
    "activity_held": ("ends_on",),
    "partnership_terminated": ("effective_on",),
    "inactivity_flagged": ("last_activity_on", "planned_for"),
}
ENVELOPE = {"originator_id", "originator_version", "timestamp", "recorded_by", "request_id"}


def own_fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)} - ENVELOPE


def test_the_types_are_exactly_the_contracts_seventeen_in_its_order():
    """The table names the contract's 17 types, no more, no fewer, in the contract's order."""
    assert len(CONTRACT_TYPES) == 17
    assert list(EVENT_TYPES) == CONTRACT_TYPES


def test_the_table_and_the_event_classes_name_the_same_types():
    """Every type of the table has its nested event class and every event class its row."""
    assert set(EVENT_CLASSES) == set(EVENT_TYPES)


@pytest.mark.parametrize("name", CONTRACT_TYPES)
def test_each_type_names_a_nested_past_tense_class(name):
    """Each type is the snake_case of a class nested in Partnership."""
    cls = event_class(name)
    assert getattr(Partnership, cls.__name__) is cls
    assert issubclass(cls, Partnership.Event)
    assert snake_case(cls.__name__) == name
    assert event_type(name).name == name


def test_recordable_excludes_the_system_types():
    """Officers may record every type except the registration, flags and acknowledgements."""
    assert set(RECORDABLE) == set(CONTRACT_TYPES) - SYSTEM_ONLY
    assert {name for name in CONTRACT_TYPES if event_type(name).system} == SYSTEM_ONLY


def test_unknown_type_has_no_class_and_no_row():
    """An unknown type name is neither an event class nor a row of the table."""
    with pytest.raises(KeyError):
        event_class("partnership_merged")
    with pytest.raises(KeyError):
        event_type("partnership_merged")
    assert "Event" not in {cls.__name__ for cls in EVENT_CLASSES.values()}


def test_the_activity_types_are_the_contracts_seven():
    """Exactly the seven types of the contract's Activity list count as activity."""
    assert ACTIVITY_TYPES == CONTRACT_ACTIVITY


def test_the_types_that_do_not_date_existence_are_the_contracts_four():
    """Retractions, notes, flags and acknowledgements do not make a partnership exist; every other type does."""
    assert NON_EXISTENCE_TYPES == CONTRACT_NON_EXISTENCE


@pytest.mark.parametrize("name", CONTRACT_TYPES)
def test_date_fields_are_the_contracts(name):
    """The business-date fields of each type are the contract's; only planned_for may lie in the future, and only a
    termination's effective_on places it in business order instead of occurred_on."""
    row = event_type(name)
    assert row.date_fields == CONTRACT_DATE_FIELDS.get(name, ())
    assert row.future_fields == (("planned_for",) if name == "youth_exchange_planned" else ())
    assert row.effective_field == ("effective_on" if name == "partnership_terminated" else None)


@pytest.mark.parametrize("name", sorted(set(CONTRACT_TYPES) - {"partnership_registered"}))
def test_each_date_field_is_a_field_of_the_event_class(name):
    """A date field named by the table is a field of the type's event class."""
    assert set(event_type(name).date_fields) <= own_fields(event_class(name))


def test_every_purpose_has_its_effect():
    """Each of the contract's seven purposes has a row in the resolution effects, and nothing else does."""
    assert set(RESOLUTION_EFFECTS) == set(RESOLUTION_PURPOSES)
    assert set(RESOLUTION_PURPOSES) == {
        "establish",
        "authorise_signing",
        "amend",
        "suspend",
        "resume",
        "terminate",
        "other",
    }


@pytest.mark.parametrize("name", CONTRACT_TYPES)
def test_every_event_carries_the_common_fields(name):
    """Every event has occurred_on, reference and note besides the envelope."""
    assert {"occurred_on", "reference", "note"} <= own_fields(event_class(name))


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("council_resolution_adopted", {"purpose", "resolution_number", "body", "areas"}),
        ("youth_exchange_held", {"ends_on", "participants", "host_town", "schools"}),
        ("activity_held", {"activity_kind", "title", "ends_on"}),
        ("partnership_terminated", {"reason", "effective_on"}),
        ("partner_renamed", {"partner_name"}),
        ("inactivity_period_set", {"days"}),
    ],
)
def test_the_new_and_changed_types_have_the_contracts_fields(name, fields):
    """The types issue 11 adds or extends carry the contract's own fields."""
    assert own_fields(event_class(name)) - {"occurred_on", "reference", "note"} == fields


# --- the web layer's schemas follow the same table ----------------------------------------------


@pytest.fixture
def event_schemas():
    from web.schemas import EVENT_SCHEMAS

    return EVENT_SCHEMAS


def test_every_recordable_type_has_a_schema(event_schemas):
    """web.schemas has one command schema per recordable type, and none for the system types."""
    assert set(event_schemas) == set(RECORDABLE)


@pytest.mark.parametrize("name", sorted(set(CONTRACT_TYPES) - SYSTEM_ONLY))
def test_schema_fields_equal_the_event_fields(name, event_schemas):
    """A type's schema accepts exactly the event class's own fields (occurred_on, reference, note included)."""
    schema_fields = set(event_schemas[name]().fields)
    assert schema_fields == own_fields(event_class(name))
