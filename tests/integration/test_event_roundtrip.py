"""Every event type saved to a real store (SQLite file or PostgreSQL schema) reloads, in a new Tracker, with the
same fields and the same state."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest
from backend import database_for

from application.config import Config
from domain.dates import BusinessDate
from domain.event_types import EVENT_TYPES
from domain.partnership import Partnership, event_type_of
from domain.tracker import Tracker

TODAY = date(2026, 3, 1)

REGISTRATION = {
    "partner_name": "Gmina Bar",
    "partner_country": "ME",
    "partner_kind": "municipality",
    "local_party": "Powiat Piaseczyński",
    "areas": ["culture", "tourism"],
    "description": "Partnerstwo z gminą Bar (Czarnogóra)",
    "occurred_on": date(2008, 11, 11),
    "reference": "ZP.0001/2008",
    "note": "Zażółć gęślą jaźń",
}

#: (type, fields) recorded in this order after the registration
HISTORY: list[tuple[str, dict]] = [
    ("letter_of_intent_signed", {"occurred_on": date(2009, 1, 15), "signatories": ["Starosta", "Predsjednik"]}),
    (
        "agreement_signed",
        {
            "occurred_on": date(2010, 5, 20),
            "agreement_kind": "partnership",
            "parties": ["Powiat Piaseczyński", "Opština Bar"],
            "areas": ["education"],
            "reference": "Or.0123/2010",
        },
    ),
    (
        "council_resolution_adopted",
        {
            "occurred_on": date(2009, 6, 25),
            "purpose": "establish",
            "resolution_number": "XXI/150/2009",
            "body": "Rada Powiatu",
        },
    ),
    ("school_joined", {"occurred_on": date(2011, 9, 1), "school_name": "LO im. Kopernika", "side": "local"}),
    (
        "youth_exchange_planned",
        {"occurred_on": date(2012, 1, 10), "planned_for": date(2012, 7, 1), "description": "Obóz letni"},
    ),
    (
        "youth_exchange_held",
        {
            "occurred_on": date(2012, 7, 1),
            "ends_on": date(2012, 7, 8),
            "participants": 24,
            "host_town": "Bar",
            "schools": ["LO im. Kopernika"],
        },
    ),
    ("activity_held", {"occurred_on": date(2013, 3, 3), "activity_kind": "visit", "title": "Wizyta studyjna"}),
    ("cooperation_suspended", {"occurred_on": date(2014, 1, 1), "reason": "Brak środków"}),
    ("cooperation_resumed", {"occurred_on": date(2015, 6, 1), "reason": "Nowy budżet"}),
    ("note_added", {"occurred_on": date(2016, 2, 2), "text": "Telefon od partnera\nbez ustaleń"}),
    ("activity_held", {"occurred_on": date(2017, 4, 4), "activity_kind": "other", "title": "Wpis błędny"}),
    ("event_retracted", {"occurred_on": date(2026, 2, 1), "retracts": 12, "reason": "Wpisano omyłkowo"}),
    ("partner_renamed", {"occurred_on": "2020", "partner_name": "Opština Bar"}),
    ("inactivity_period_set", {"occurred_on": "2021-03", "days": 400}),
]


def tracker_on(database: str) -> Tracker:
    return Tracker(env=Config(database=database).eventsourcing_env())


BUSINESS_DATES = ("occurred_on", "planned_for", "ends_on", "last_activity_on", "effective_on")


def given(name: str, value: object) -> object:
    """What a field reads back as: a business date is a BusinessDate, as precise as it was given."""
    return BusinessDate.of(value) if name in BUSINESS_DATES and value is not None else value


def own_fields(event: Partnership.Event) -> dict:
    return {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}


def assert_no_date_strings(event: Partnership.Event) -> None:
    for name, value in own_fields(event).items():
        if name == "registered_on":
            assert type(value) is date, (event_type_of(event), name, value)
        if name in ("occurred_on", "planned_for", "ends_on", "last_activity_on", "effective_on"):
            assert value is None or type(value) is BusinessDate, (event_type_of(event), name, value)
        assert not (isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-"), (
            event_type_of(event),
            name,
            value,
        )


@pytest.fixture
def db(tmp_path: str) -> str:
    """The test's store: an SQLite file under tmp_path, or a fresh PostgreSQL schema."""
    return database_for(tmp_path, init=False)


def write_every_type(path: str) -> UUID:
    """Register a partnership and record all 15 event types; return its id."""
    tracker = tracker_on(path)
    try:
        pid = tracker.register_partnership(REGISTRATION, recorded_by="ala", today=TODAY).partnership_id
        for event_type, fields in HISTORY:
            tracker.record_event(pid, event_type, fields, recorded_by="ala", today=TODAY)
        flagged = tracker.flag_inactivity(pid, today=TODAY, days=365)
        assert flagged is not None and flagged.result == [16]
        tracker.acknowledge_reminder(pid, 16, note="Zadzwonię", recorded_by="jan", today=TODAY)
        tracker.record_event(
            pid,
            "partnership_terminated",
            {"occurred_on": TODAY, "reason": "Uchwała rady"},
            recorded_by="ala",
            today=TODAY,
        )
    finally:
        tracker.close()
    return pid


def test_every_event_type_reloads_with_identical_fields(db: str):
    """All 17 types written by one Tracker reload from the file, in a new Tracker, field for field."""
    pid = write_every_type(db)
    reader = tracker_on(db)
    try:
        events = list(reader.events.get(pid))
    finally:
        reader.close()

    assert sorted({event_type_of(e) for e in events}) == sorted(EVENT_TYPES)
    assert [e.originator_version for e in events] == list(range(1, 19))

    registered = events[0]
    assert isinstance(registered, Partnership.PartnershipRegistered)
    for name, value in REGISTRATION.items():
        assert getattr(registered, name) == given(name, value), name
    assert (registered.registered_on, registered.recorded_by) == (TODAY, "ala")

    for (event_type, fields), event in zip(HISTORY, events[1:], strict=False):
        assert event_type_of(event) == event_type
        for name, value in fields.items():
            assert getattr(event, name) == given(name, value), (event_type, name)
        assert event.recorded_by == "ala"

    flag, ack, termination = events[15:]
    assert (flag.kind, flag.last_activity_on, flag.occurred_on, flag.recorded_by) == (
        "inactive",
        BusinessDate(2015, 6, 1),
        BusinessDate.of(TODAY),
        "system",
    )
    assert (ack.flagged_version, ack.note, ack.recorded_by, ack.occurred_on) == (
        16,
        "Zadzwonię",
        "jan",
        BusinessDate.of(TODAY),
    )
    assert (termination.reason, termination.occurred_on) == ("Uchwała rady", BusinessDate.of(TODAY))

    for event in events:
        assert_no_date_strings(event)
        assert isinstance(event.timestamp, datetime)
        assert event.originator_id == pid


def test_reloaded_events_equal_the_first_reading(db: str):
    """Two Trackers on the same file read equal events and fold them to the same state."""
    pid = write_every_type(db)
    first = tracker_on(db)
    try:
        first_events = list(first.events.get(pid))
        first_state = first.get_partnership(pid).state
        first_facts = first.get_partnership(pid).fact_list()
    finally:
        first.close()
    second = tracker_on(db)
    try:
        partnership = second.get_partnership(pid)
        assert list(second.events.get(pid)) == first_events
        assert partnership.state == first_state
        assert partnership.fact_list() == first_facts
        assert partnership.version == 18
    finally:
        second.close()


def test_the_reloaded_state_is_the_expected_one(db: str):
    """The reloaded partnership has the status, dates, schools and areas its history says."""
    pid = write_every_type(db)
    reader = tracker_on(db)
    try:
        partnership = reader.get_partnership(pid)
    finally:
        reader.close()
    state = partnership.state
    assert (state.status, state.status_since) == ("terminated", BusinessDate.of(TODAY))
    assert state.last_activity_on == BusinessDate(2015, 6, 1)  # the 2017 activity is retracted
    assert state.schools == (("LO im. Kopernika", "local", None),)
    assert state.areas == ("culture", "tourism", "education")
    assert (state.partner_name, state.inactivity_days) == ("Opština Bar", 400)
    assert not partnership.is_reminder_open(16)
    assert all(type(f.occurred_on) is BusinessDate for f in partnership.fact_list())


# --- snapshots ----------------------------------------------------------------------------------------


CYCLE: list[tuple[str, dict]] = [
    ("activity_held", {"activity_kind": "training", "title": "Szkolenie"}),
    ("school_joined", {"school_name": "SP nr 1", "side": "partner", "town": "Bar"}),
    ("youth_exchange_planned", {"planned_for": date(2030, 1, 1)}),
    ("youth_exchange_held", {"participants": 10}),
    ("note_added", {"text": "Notatka"}),
]


def write_long_history(path: str, count: int) -> UUID:
    """Register a partnership, sign an agreement, then record ``count`` varied events, one day apart."""
    tracker = tracker_on(path)
    try:
        pid = tracker.register_partnership(REGISTRATION, recorded_by="ala", today=TODAY).partnership_id
        agreement = {"occurred_on": date(2010, 1, 1), "agreement_kind": "other"}
        tracker.record_event(pid, "agreement_signed", agreement, recorded_by="ala", today=TODAY)
        for i in range(count):
            event_type, fields = CYCLE[i % len(CYCLE)]
            on = date(2011, 1, 1) + timedelta(days=i)
            payload = {**fields, "occurred_on": on}
            if event_type == "youth_exchange_held":
                payload["ends_on"] = on + timedelta(days=2)
            tracker.record_event(pid, event_type, payload, recorded_by="ala", today=TODAY)
    finally:
        tracker.close()
    return pid


def replay_without_snapshot(tracker: Tracker, pid: UUID, lte: int | None = None) -> Partnership:
    aggregate = None
    for event in tracker.events.get(pid, lte=lte):
        aggregate = event.mutate(aggregate)
    assert aggregate is not None
    return aggregate


def test_snapshot_every_hundred_events_reloads_to_the_same_state(db: str):
    """Past 100 events a snapshot is taken; a new Tracker loads from it to the same state as a full replay."""
    pid = write_long_history(db, 118)  # versions 1..120
    reader = tracker_on(db)
    try:
        assert reader.snapshots is not None
        snapshots = list(reader.snapshots.get(pid))
        assert [s.originator_version for s in snapshots] == [100]

        from_snapshot = snapshots[0].mutate(None)
        replayed_to_100 = replay_without_snapshot(reader, pid, lte=100)
        assert from_snapshot.fact_list() == replayed_to_100.fact_list()
        assert from_snapshot.state == replayed_to_100.state
        assert all(type(f.occurred_on) is BusinessDate for f in from_snapshot.fact_list())
        plans = [f for f in from_snapshot.fact_list() if f.type == "youth_exchange_planned"]
        assert plans and all(type(f.data["planned_for"]) is BusinessDate for f in plans)

        partnership = reader.get_partnership(pid)
        full = replay_without_snapshot(reader, pid)
        assert partnership.version == full.version == 120
        assert partnership.fact_list() == full.fact_list()
        assert partnership.state == full.state
        assert partnership.state.status == "active"
        # the last event (i = 117) is a plan, not activity; the one before (i = 116) joined a school
        assert partnership.state.last_activity_on == BusinessDate.of(date(2011, 1, 1) + timedelta(days=116))
    finally:
        reader.close()


def test_a_snapshotted_partnership_takes_new_events(db: str):
    """After a reload from a snapshot, recording goes on with the right version and rules."""
    pid = write_long_history(db, 98)  # version 100: the snapshot itself is the head
    writer = tracker_on(db)
    try:
        assert [s.originator_version for s in writer.snapshots.get(pid)] == [100]
        recorded = writer.record_event(
            pid, "cooperation_suspended", {"occurred_on": TODAY, "reason": "Wybory"}, recorded_by="ala", today=TODAY
        )
        assert recorded.version == 101
    finally:
        writer.close()
    reader = tracker_on(db)
    try:
        state = reader.get_partnership(pid).state
        assert (state.status, state.status_since) == ("suspended", BusinessDate.of(TODAY))
        assert state == replay_without_snapshot(reader, pid).state
    finally:
        reader.close()
