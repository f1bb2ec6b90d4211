"""The Partnership aggregate's commands, without a store: which events they produce and what they refuse."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import InvalidField, InvalidRetraction, NotAllowedInStatus, ReminderNotOpen
from domain.partnership import Partnership

TODAY = date(2026, 3, 1)

#: the smallest valid fields of each recordable type
FIELDS: dict[str, dict] = {
    "letter_of_intent_signed": {"signatories": ["Starosta", "Mayor"]},
    "agreement_signed": {"agreement_kind": "partnership"},
    "council_resolution_adopted": {"resolution_number": "XXI/150/2009"},
    "school_joined": {"school_name": "Liceum im. Kopernika", "side": "local"},
    "youth_exchange_planned": {"planned_for": date(2026, 9, 1)},
    "youth_exchange_held": {"ends_on": date(2025, 5, 10), "participants": 24},
    "activity_held": {"activity_kind": "visit", "title": "Study visit"},
    "cooperation_suspended": {"reason": "war"},
    "cooperation_resumed": {"reason": "peace"},
    "partnership_terminated": {"reason": "no interest"},
    "note_added": {"text": "phone call"},
    "event_retracted": {"retracts": 2, "reason": "entered by mistake"},
}


def d(text: str) -> date:
    return date.fromisoformat(text)


def new_partnership(**extra) -> Partnership:
    return Partnership.register(
        uuid4(),
        recorded_by="ala",
        today=TODAY,
        partner_name="Gurjaani",
        partner_country="GE",
        partner_kind="municipality",
        local_party="Powiat Piaseczyński",
        **extra,
    )


def record(p: Partnership, event_type: str, on: str | date | None, **fields) -> None:
    payload = {**FIELDS.get(event_type, {}), **fields}
    if on is not None:
        payload["occurred_on"] = d(on) if isinstance(on, str) else on
    p.record(event_type, payload, recorded_by="ala", today=TODAY)


def with_history(*events: tuple) -> Partnership:
    """A registered partnership with ``events`` recorded and collected (nothing pending)."""
    p = new_partnership()
    for event_type, on, *rest in events:
        record(p, event_type, on, **(rest[0] if rest else {}))
    p.collect_events()
    return p


def names(p: Partnership) -> list[str]:
    return [type(e).__name__ for e in p.collect_events()]


# --- registration -------------------------------------------------------------------------------


def test_register_produces_the_registration_event():
    """register triggers exactly one PartnershipRegistered, and the partnership is proposed since today."""
    p = new_partnership(areas=["culture", "education"])
    state = p.state
    assert (state.status, state.status_since, state.areas) == ("proposed", TODAY, ("culture", "education"))
    assert names(p) == ["PartnershipRegistered"]
    assert p.version == 1


def test_register_with_a_past_date():
    """A registration dated in the past makes the partnership proposed since that day, registered today."""
    p = new_partnership(occurred_on=d("2003-05-01"))
    (event,) = p.collect_events()
    assert event.occurred_on == d("2003-05-01")
    assert event.registered_on == TODAY
    assert p.state.status_since == d("2003-05-01")


def test_register_refuses_a_date_after_today():
    """A registration dated tomorrow is refused, naming occurred_on."""
    with pytest.raises(InvalidField) as err:
        new_partnership(occurred_on=d("2026-03-02"))
    assert err.value.field == "occurred_on"


# --- recording ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "event_type", "class_name"),
    [
        ([], "letter_of_intent_signed", "LetterOfIntentSigned"),
        ([], "agreement_signed", "AgreementSigned"),
        ([], "council_resolution_adopted", "CouncilResolutionAdopted"),
        ([], "school_joined", "SchoolJoined"),
        ([], "youth_exchange_planned", "YouthExchangePlanned"),
        ([], "youth_exchange_held", "YouthExchangeHeld"),
        ([], "activity_held", "ActivityHeld"),
        ([("agreement_signed", "2020-01-01")], "cooperation_suspended", "CooperationSuspended"),
        (
            [("agreement_signed", "2020-01-01"), ("cooperation_suspended", "2021-01-01")],
            "cooperation_resumed",
            "CooperationResumed",
        ),
        ([], "partnership_terminated", "PartnershipTerminated"),
        ([], "note_added", "NoteAdded"),
        ([("agreement_signed", "2020-01-01")], "event_retracted", "EventRetracted"),
    ],
)
def test_record_produces_the_event_class_of_the_type(before, event_type, class_name):
    """Recording each type triggers exactly one event of its nested class, with the given fields."""
    p = with_history(*before)
    version = p.version
    record(p, event_type, "2025-05-05")
    events = p.collect_events()
    assert [type(e).__name__ for e in events] == [class_name]
    (event,) = events
    assert event.originator_version == version + 1
    assert event.occurred_on == d("2025-05-05")
    assert event.recorded_by == "ala"
    for name, value in FIELDS[event_type].items():
        assert getattr(event, name) == value


def test_register_and_a_history_produce_the_events_in_order():
    """A registration followed by a history yields its events in the order they were recorded."""
    p = new_partnership()
    record(p, "letter_of_intent_signed", "2009-01-01")
    record(p, "council_resolution_adopted", "2009-06-25")
    record(p, "school_joined", "2010-01-01")
    record(p, "cooperation_suspended", "2020-03-01")
    assert names(p) == [
        "PartnershipRegistered",
        "LetterOfIntentSigned",
        "CouncilResolutionAdopted",
        "SchoolJoined",
        "CooperationSuspended",
    ]
    assert (p.state.status, p.state.status_since) == ("suspended", d("2020-03-01"))


def test_an_event_dated_today_is_accepted():
    """occurred_on may be today."""
    p = with_history()
    record(p, "agreement_signed", TODAY)
    assert p.state.status == "active"


def test_late_history_is_accepted_against_the_state_of_its_own_day():
    """A 2009 resolution recorded after a 2020 suspension is checked as of 2009, and lands in place."""
    p = with_history(("agreement_signed", "2012-01-01"), ("cooperation_suspended", "2020-03-01"))
    record(p, "council_resolution_adopted", "2009-06-25")
    assert names(p) == ["CouncilResolutionAdopted"]
    assert (p.state.status, p.state.status_since) == ("suspended", d("2020-03-01"))


def test_an_event_dated_before_the_termination_is_accepted():
    """After a 2020 termination, a school that joined in 2015 may still be recorded."""
    p = with_history(("agreement_signed", "2012-01-01"), ("partnership_terminated", "2020-01-01"))
    record(p, "school_joined", "2015-01-01")
    assert names(p) == ["SchoolJoined"]
    assert p.state.schools == (("Liceum im. Kopernika", "local", None),)


@pytest.mark.parametrize("event_type", ["note_added", "event_retracted"])
def test_notes_and_retractions_after_termination_are_accepted(event_type):
    """A terminated partnership still takes notes and retractions."""
    p = with_history(("agreement_signed", "2012-01-01"), ("partnership_terminated", "2020-01-01"))
    record(p, event_type, "2021-01-01")
    assert len(p.collect_events()) == 1


def test_a_correction_is_a_retraction_followed_by_the_right_event():
    """Retracting a wrongly dated agreement and recording it again gives the right status_since."""
    p = with_history(("agreement_signed", "2012-01-01"))
    record(p, "event_retracted", "2026-02-01", retracts=2)
    record(p, "agreement_signed", "2011-01-01")
    assert names(p) == ["EventRetracted", "AgreementSigned"]
    assert (p.state.status, p.state.status_since) == ("active", d("2011-01-01"))


# --- refusals -------------------------------------------------------------------------------------

ACTIVE_2010 = ("agreement_signed", "2010-01-01")
SUSPENDED_2020 = ("cooperation_suspended", "2020-01-01")
TERMINATED_2020 = ("partnership_terminated", "2020-01-01")


@pytest.mark.parametrize(
    ("before", "event_type", "on", "status"),
    [
        ([], "cooperation_suspended", "2025-01-01", "proposed"),
        ([ACTIVE_2010, SUSPENDED_2020], "cooperation_suspended", "2021-01-01", "suspended"),
        ([TERMINATED_2020], "cooperation_suspended", "2021-01-01", "terminated"),
        ([ACTIVE_2010], "cooperation_suspended", "2009-12-31", "proposed"),  # dated before the agreement
        ([], "cooperation_resumed", "2025-01-01", "proposed"),
        ([ACTIVE_2010], "cooperation_resumed", "2025-01-01", "active"),
        ([("letter_of_intent_signed", "2010-01-01")], "cooperation_resumed", "2025-01-01", "intent"),
        ([ACTIVE_2010, SUSPENDED_2020], "cooperation_resumed", "2019-12-31", "active"),  # dated before the suspension
        ([ACTIVE_2010, TERMINATED_2020], "agreement_signed", "2021-01-01", "terminated"),
        ([ACTIVE_2010, TERMINATED_2020], "school_joined", "2020-01-01", "terminated"),  # same day, after it
        ([ACTIVE_2010, TERMINATED_2020], "activity_held", "2021-01-01", "terminated"),
        ([ACTIVE_2010, TERMINATED_2020], "youth_exchange_planned", "2021-01-01", "terminated"),
        ([ACTIVE_2010, TERMINATED_2020], "partnership_terminated", "2021-01-01", "terminated"),
        ([ACTIVE_2010, SUSPENDED_2020, TERMINATED_2020], "cooperation_resumed", "2021-01-01", "terminated"),
    ],
)
def test_events_not_allowed_in_the_status_as_of_their_day_are_refused(before, event_type, on, status):
    """The rules are checked against the state as of the new event's occurred_on; a refusal records nothing."""
    p = with_history(*before)
    version, state = p.version, p.state
    with pytest.raises(NotAllowedInStatus) as err:
        record(p, event_type, on)
    assert (err.value.event_type, err.value.status) == (event_type, status)
    assert p.pending_events == []
    assert (p.version, p.state) == (version, state)


@pytest.mark.parametrize(
    ("before", "retracts"),
    [
        ([ACTIVE_2010], 1),  # the registration
        ([ACTIVE_2010, ("event_retracted", "2026-01-01", {"retracts": 2})], 3),  # a retraction
        ([ACTIVE_2010, ("event_retracted", "2026-01-01", {"retracts": 2})], 2),  # already retracted
        ([ACTIVE_2010], 3),  # no such version yet
        ([ACTIVE_2010], 99),
        ([ACTIVE_2010], 0),
        ([ACTIVE_2010], -1),
    ],
)
def test_invalid_retractions_are_refused(before, retracts):
    """Never the registration, never a retraction, never twice, only an existing version; nothing recorded."""
    p = with_history(*before)
    version = p.version
    with pytest.raises(InvalidRetraction):
        record(p, "event_retracted", "2026-02-01", retracts=retracts)
    assert p.pending_events == []
    assert p.version == version


@pytest.mark.parametrize(
    ("event_type", "fields", "field"),
    [
        ("agreement_signed", {"occurred_on": date(2026, 3, 2)}, "occurred_on"),
        ("note_added", {"occurred_on": date(2030, 1, 1)}, "occurred_on"),
        ("agreement_signed", {"occurred_on": None}, "occurred_on"),
        ("agreement_signed", {"occurred_on": "missing"}, "occurred_on"),
        ("youth_exchange_held", {"occurred_on": date(2025, 5, 10), "ends_on": date(2025, 5, 9)}, "ends_on"),
        ("event_retracted", {"occurred_on": date(2026, 1, 1), "retracts": "2"}, "retracts"),
        ("event_retracted", {"occurred_on": date(2026, 1, 1), "retracts": True}, "retracts"),
        ("event_retracted", {"occurred_on": date(2026, 1, 1), "retracts": None}, "retracts"),
        ("note_added", {"occurred_on": date(2025, 1, 1), "colour": "red"}, "colour"),
        ("partnership_registered", {"occurred_on": date(2025, 1, 1)}, "type"),
        ("inactivity_flagged", {"occurred_on": date(2025, 1, 1)}, "type"),
        ("reminder_acknowledged", {"occurred_on": date(2025, 1, 1)}, "type"),
        ("no_such_type", {"occurred_on": date(2025, 1, 1)}, "type"),
    ],
)
def test_invalid_fields_are_refused_by_name(event_type, fields, field):
    """A date after today, a missing date, ends_on before occurred_on, a bad retracts, an unknown field or type."""
    p = with_history(ACTIVE_2010)
    payload = {**FIELDS.get(event_type, {}), **fields}
    if payload.get("occurred_on") == "missing":
        del payload["occurred_on"]
    with pytest.raises(InvalidField) as err:
        p.record(event_type, payload, recorded_by="ala", today=TODAY)
    assert err.value.field == field
    assert p.pending_events == []
    assert p.version == 2


def test_ends_on_equal_to_occurred_on_is_accepted():
    """A one-day exchange (ends_on == occurred_on) is fine."""
    p = with_history()
    record(p, "youth_exchange_held", "2025-05-10", ends_on=d("2025-05-10"))
    assert names(p) == ["YouthExchangeHeld"]


# --- inactivity flags ------------------------------------------------------------------------------


def flag(p: Partnership, today: str, days: int = 365) -> list[int]:
    return p.flag_inactivity(today=d(today), days=days)


def test_flag_inactivity_flags_an_inactive_partnership_once_per_spell():
    """The first scan flags the spell; later scans of the same spell flag nothing."""
    p = with_history(("agreement_signed", "2024-01-01"))
    assert flag(p, "2024-12-31") == []  # 365 days: not yet
    assert p.pending_events == []
    assert flag(p, "2025-01-01") == [3]
    (event,) = p.collect_events()
    assert type(event).__name__ == "InactivityFlagged"
    assert (event.kind, event.last_activity_on, event.occurred_on, event.recorded_by) == (
        "inactive",
        d("2024-01-01"),
        d("2025-01-01"),
        "system",
    )
    assert flag(p, "2025-01-02") == []
    assert flag(p, "2026-01-01") == []
    assert p.pending_events == []


def test_new_activity_starts_a_new_spell():
    """After new activity and another long silence, the partnership is flagged again."""
    p = with_history(("agreement_signed", "2022-01-01"))
    assert flag(p, "2023-06-01") == [3]
    assert [e.last_activity_on for e in p.collect_events()] == [d("2022-01-01")]
    record(p, "activity_held", "2023-07-01")
    p.collect_events()
    assert flag(p, "2024-06-01") == []  # the new activity is recent
    assert flag(p, "2024-07-02") == [5]
    assert [e.last_activity_on for e in p.collect_events()] == [d("2023-07-01")]


@pytest.mark.parametrize(
    "before",
    [
        [("school_joined", "2010-01-01")],
        [ACTIVE_2010, SUSPENDED_2020],
        [ACTIVE_2010, TERMINATED_2020],
    ],
    ids=["proposed", "suspended", "terminated"],
)
def test_proposed_suspended_and_terminated_are_never_flagged(before):
    """Only intent and active partnerships are flagged as inactive."""
    p = with_history(*before)
    assert flag(p, "2026-03-01") == []
    assert p.pending_events == []


def test_an_overdue_plan_is_flagged_once():
    """A plan whose day passed without an exchange is flagged once, with its planned_for."""
    p = with_history(
        ("agreement_signed", "2025-01-01"),
        ("youth_exchange_planned", "2025-02-01", {"planned_for": d("2025-06-01")}),
    )
    assert flag(p, "2025-06-01") == []
    assert flag(p, "2025-06-02") == [4]
    (event,) = p.collect_events()
    assert (event.kind, event.planned_for, event.plan_version) == ("exchange_overdue", d("2025-06-01"), 3)
    assert flag(p, "2025-06-03") == []
    assert p.pending_events == []


def test_a_held_exchange_settles_the_plan():
    """A plan followed by an exchange is never flagged."""
    p = with_history(
        ("agreement_signed", "2025-01-01"),
        ("youth_exchange_planned", "2025-02-01", {"planned_for": d("2025-06-01")}),
        ("youth_exchange_held", "2025-06-10", {"ends_on": d("2025-06-12")}),
    )
    assert flag(p, "2025-07-01") == []


def test_one_scan_flags_inactivity_and_each_overdue_plan():
    """An inactive partnership with two overdue plans gets three flags in one scan, then none."""
    p = with_history(
        ("agreement_signed", "2023-01-01"),
        ("youth_exchange_planned", "2023-02-01", {"planned_for": d("2023-06-01")}),
        ("youth_exchange_planned", "2023-02-02", {"planned_for": d("2023-07-01")}),
    )
    assert flag(p, "2024-03-01") == [5, 6, 7]
    assert [(e.kind, e.plan_version) for e in p.collect_events()] == [
        ("inactive", None),
        ("exchange_overdue", 3),
        ("exchange_overdue", 4),
    ]
    assert flag(p, "2024-03-02") == []


# --- acknowledging reminders ---------------------------------------------------------------------


def test_acknowledge_an_open_reminder():
    """Acknowledging a flag records ReminderAcknowledged and closes the reminder."""
    p = with_history(("agreement_signed", "2024-01-01"))
    (flagged,) = flag(p, "2025-06-01")
    p.collect_events()
    assert p.is_reminder_open(flagged)
    p.acknowledge(flagged, note="called the mayor", recorded_by="jan", today=d("2025-06-02"))
    (event,) = p.collect_events()
    assert type(event).__name__ == "ReminderAcknowledged"
    assert (event.flagged_version, event.note, event.recorded_by, event.occurred_on) == (
        flagged,
        "called the mayor",
        "jan",
        d("2025-06-02"),
    )
    assert not p.is_reminder_open(flagged)


@pytest.mark.parametrize("target", ["acknowledged", "unknown", "not_a_flag", "retracted_flag"])
def test_acknowledge_refuses_a_reminder_that_is_not_open(target):
    """An unknown version, a non-flag event, a retracted flag or an acknowledged reminder cannot be acknowledged."""
    p = with_history(("agreement_signed", "2024-01-01"))
    (flagged,) = flag(p, "2025-06-01")
    p.collect_events()
    version = {"acknowledged": flagged, "unknown": 42, "not_a_flag": 2, "retracted_flag": flagged}[target]
    if target == "acknowledged":
        p.acknowledge(flagged, note=None, recorded_by="jan", today=d("2025-06-02"))
    if target == "retracted_flag":
        record(p, "event_retracted", "2025-06-02", retracts=flagged)
    p.collect_events()
    with pytest.raises(ReminderNotOpen):
        p.acknowledge(version, note=None, recorded_by="jan", today=d("2025-06-03"))
    assert p.pending_events == []
