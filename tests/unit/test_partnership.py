"""The Partnership aggregate's commands, without a store: which events they produce and what they refuse."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from domain import rules
from domain.dates import BusinessDate
from domain.errors import InvalidField, InvalidRetraction, NotAllowedInStatus, ReminderNotOpen
from domain.partnership import EVENT_CLASSES, Partnership
from domain.rules import Fact

TODAY = date(2026, 3, 1)


def d(text: str) -> date:
    """A calendar day (``today`` arguments)."""
    return date.fromisoformat(text)


def bd(text: str) -> BusinessDate:
    """A business date as given: a day, a month or a year."""
    return BusinessDate.parse(text)


#: the smallest valid fields of each recordable type
FIELDS: dict[str, dict] = {
    "letter_of_intent_signed": {"signatories": ["Starosta", "Mayor"]},
    "agreement_signed": {"agreement_kind": "partnership"},
    "council_resolution_adopted": {"purpose": "establish", "resolution_number": "XXI/150/2009"},
    "school_joined": {"school_name": "Liceum im. Kopernika", "side": "local"},
    "youth_exchange_planned": {"planned_for": bd("2026-09")},
    "youth_exchange_held": {"ends_on": bd("2025-05-10"), "participants": 24},
    "activity_held": {"activity_kind": "visit", "title": "Study visit"},
    "cooperation_suspended": {"reason": "war"},
    "cooperation_resumed": {"reason": "peace"},
    "partnership_terminated": {"reason": "no interest"},
    "partner_renamed": {"partner_name": "Gmina Nowa"},
    "inactivity_period_set": {"days": 1095},
    "note_added": {"text": "phone call"},
    "event_retracted": {"retracts": 2, "reason": "entered by mistake"},
}


def new_partnership(**extra) -> Partnership:
    return Partnership.register(
        uuid4(),
        recorded_by="ala",
        today=TODAY,
        partner_name="Gurjaani",
        partner_country="GE",
        partner_kind="municipality",
        local_party="Gmina Przykładowa",
        **extra,
    )


def record(p: Partnership, event_type: str, on: str | date | None, **fields) -> None:
    payload = {**FIELDS.get(event_type, {}), **fields}
    if on is not None:
        payload["occurred_on"] = on  # the text as given, or a day
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
    assert (state.status, state.status_since, state.areas) == (
        "proposed",
        BusinessDate.of(TODAY),
        ("culture", "education"),
    )
    assert names(p) == ["PartnershipRegistered"]
    assert p.version == 1


def test_register_with_a_past_date():
    """A registration dated in the past makes the partnership proposed since that day, registered today."""
    p = new_partnership(occurred_on=d("2003-05-01"))
    (event,) = p.collect_events()
    assert event.occurred_on == bd("2003-05-01")
    assert event.registered_on == TODAY
    assert p.state.status_since == bd("2003-05-01")


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
        ([], "partner_renamed", "PartnerRenamed"),
        ([], "inactivity_period_set", "InactivityPeriodSet"),
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
    assert event.occurred_on == bd("2025-05-05")
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
    assert (p.state.status, p.state.status_since) == ("suspended", bd("2020-03-01"))


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
    assert (p.state.status, p.state.status_since) == ("suspended", bd("2020-03-01"))


def test_an_event_dated_before_the_termination_is_accepted():
    """After a 2020 termination, a school that joined in 2015 may still be recorded."""
    p = with_history(("agreement_signed", "2012-01-01"), ("partnership_terminated", "2020-01-01"))
    record(p, "school_joined", "2015-01-01")
    assert names(p) == ["SchoolJoined"]
    assert p.state.schools == (("Liceum im. Kopernika", "local", None),)


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("note_added", "terminated"),
        ("event_retracted", "active"),  # retracting the termination (version 3)
        ("partner_renamed", "terminated"),
        ("council_resolution_adopted", "active"),  # purpose establish: renewed
        ("letter_of_intent_signed", "intent"),  # talks to renew
        ("agreement_signed", "active"),  # a renewal
    ],
)
def test_the_contracts_six_are_accepted_after_termination(event_type, status):
    """A terminated partnership still takes notes, retractions, renames, council resolutions, letters of intent
    and agreements; a letter of intent reopens talks (intent) and an agreement renews it (active)."""
    p = with_history(("agreement_signed", "2012-01-01"), ("partnership_terminated", "2020-01-01"))
    record(p, event_type, "2021-01-01", **({"retracts": 3} if event_type == "event_retracted" else {}))
    assert len(p.collect_events()) == 1
    assert p.state.status == status


def test_a_correction_is_a_retraction_followed_by_the_right_event():
    """Retracting a wrongly dated agreement and recording it again gives the right status_since."""
    p = with_history(("agreement_signed", "2012-01-01"))
    record(p, "event_retracted", "2026-02-01", retracts=2)
    record(p, "agreement_signed", "2011-01-01")
    assert names(p) == ["EventRetracted", "AgreementSigned"]
    assert (p.state.status, p.state.status_since) == ("active", bd("2011-01-01"))


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
        ([ACTIVE_2010, TERMINATED_2020], "inactivity_period_set", "2021-01-01", "terminated"),
        ([ACTIVE_2010, TERMINATED_2020], "youth_exchange_held", "2021-01-01", "terminated"),
        ([ACTIVE_2010, TERMINATED_2020], "cooperation_suspended", "2021-01-01", "terminated"),
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
        bd("2024-01-01"),
        bd("2025-01-01"),
        "system",
    )
    assert flag(p, "2025-01-02") == []
    assert flag(p, "2026-01-01") == []
    assert p.pending_events == []


def test_new_activity_starts_a_new_spell():
    """After new activity and another long silence, the partnership is flagged again."""
    p = with_history(("agreement_signed", "2022-01-01"))
    assert flag(p, "2023-06-01") == [3]
    assert [e.last_activity_on for e in p.collect_events()] == [bd("2022-01-01")]
    record(p, "activity_held", "2023-07-01")
    p.collect_events()
    assert flag(p, "2024-06-01") == []  # the new activity is recent
    assert flag(p, "2024-07-02") == [5]
    assert [e.last_activity_on for e in p.collect_events()] == [bd("2023-07-01")]


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
    assert (event.kind, event.planned_for, event.plan_version) == ("exchange_overdue", bd("2025-06-01"), 3)
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
        bd("2025-06-02"),
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


# --- dates as precise as the record ------------------------------------------------------------------


@pytest.mark.parametrize("given", ["2019-10-18", "2008-01", "1992"])
def test_a_day_a_month_or_a_year_is_recorded_as_given(given):
    """An officer records what the records say ("umowa podpisana w 1992 r."): nothing pads it to a day."""
    p = with_history()
    record(p, "agreement_signed", given)
    (event,) = p.collect_events()
    assert event.occurred_on == bd(given)
    assert event.occurred_on.isoformat() == given
    assert (p.state.status, p.state.status_since) == ("active", bd(given))


def test_a_day_given_as_a_date_is_a_day():
    """A caller passing a ``date`` records that day."""
    p = with_history()
    record(p, "agreement_signed", date(2019, 10, 18))
    (event,) = p.collect_events()
    assert event.occurred_on == BusinessDate(2019, 10, 18)


def test_a_registration_dated_by_year_only():
    """A partnership registered as existing since "1992" is proposed since 1992."""
    p = new_partnership(occurred_on="1992")
    (event,) = p.collect_events()
    assert event.occurred_on == bd("1992")
    assert p.state.status_since == bd("1992")


@pytest.mark.parametrize(
    ("given", "accepted"),
    [
        ("2026", True),  # this year: it has begun
        ("2026-03", True),  # this month
        ("2026-03-01", True),  # today
        ("2026-03-02", False),
        ("2026-04", False),
        ("2027", False),
    ],
)
def test_not_after_today_means_the_period_has_begun(given, accepted):
    """A month or a year that has begun by today may be recorded; one that starts after today is refused."""
    p = with_history()
    if accepted:
        record(p, "agreement_signed", given)
        assert p.state.status == "active"
    else:
        with pytest.raises(InvalidField) as err:
            record(p, "agreement_signed", given)
        assert (err.value.field, err.value.code) == ("occurred_on", "not_after_today")
        assert p.pending_events == []


@pytest.mark.parametrize("given", ["2019-13", "2019-02-30", "19", "2019-1", "20190101", "styczeń 2008", 2019])
def test_what_is_not_a_business_date_is_refused_by_name(given):
    """A date that is not a day, a month or a year is refused, naming the field and saying why."""
    p = with_history()
    with pytest.raises(InvalidField) as err:
        record(p, "agreement_signed", given)
    assert (err.value.field, err.value.code) == ("occurred_on", "not_a_business_date")
    assert p.pending_events == []


@pytest.mark.parametrize("given", ["2019-00", "2019-05-00"])
def test_month_or_day_zero_is_refused_and_leaves_the_partnership_readable(given):
    """ "2019-00" or "2019-05-00" is refused as not a business date; the partnership stays readable."""
    p = with_history()
    try:
        with pytest.raises(InvalidField) as err:
            record(p, "agreement_signed", given)
        assert (err.value.field, err.value.code) == ("occurred_on", "not_a_business_date")
    finally:
        assert p.state.status == "proposed"


@pytest.mark.parametrize("planned_for", ["2027", "2026-09", "2026-12-24"])
def test_a_plan_may_be_for_a_month_or_a_year_in_the_future(planned_for):
    """planned_for may lie in the future and be as precise as the plan ("2027", "2026-09")."""
    p = with_history()
    record(p, "youth_exchange_planned", "2026-02", planned_for=planned_for)
    (event,) = p.collect_events()
    assert event.planned_for == bd(planned_for)


@pytest.mark.parametrize(
    ("event_type", "on", "extra", "field", "code"),
    [
        ("youth_exchange_held", "2019-05", {"ends_on": "2019-04"}, "ends_on", "not_before_occurred_on"),
        ("youth_exchange_held", "2019-05-10", {"ends_on": "2019-05-09"}, "ends_on", "not_before_occurred_on"),
        ("activity_held", "2019", {"ends_on": "2018-12-31"}, "ends_on", "not_before_occurred_on"),
        ("activity_held", "2026-02-27", {"ends_on": "2026-03-02"}, "ends_on", "not_after_today"),
        ("activity_held", "2026-02-27", {"ends_on": "2026-02-31"}, "ends_on", "not_a_business_date"),
        (
            "partnership_terminated",
            "2022-03-10",
            {"effective_on": "2022-03-09"},
            "effective_on",
            "not_before_occurred_on",
        ),
        ("youth_exchange_planned", "2025-01-01", {"planned_for": "2025-13"}, "planned_for", "not_a_business_date"),
    ],
)
def test_date_fields_are_checked_against_occurred_on_and_today(event_type, on, extra, field, code):
    """ends_on and effective_on may not end before occurred_on nor begin after today; each date field is a business
    date."""
    p = with_history(ACTIVE_2010)
    with pytest.raises(InvalidField) as err:
        record(p, event_type, on, **extra)
    assert (err.value.field, err.value.code) == (field, code)
    assert p.pending_events == []


@pytest.mark.parametrize(
    ("on", "ends_on"),
    [("2019-05", "2019-05-03"), ("2019-05-10", "2019-05"), ("2019", "2019-03-05"), ("2019-05-10", "2019-05-10")],
)
def test_an_end_inside_the_period_of_the_start_is_accepted(on, ends_on):
    """A six-day visit in "May 2019" may end on 3 May: only an end wholly before the start is refused."""
    p = with_history(ACTIVE_2010)
    record(p, "activity_held", on, ends_on=ends_on)
    (event,) = p.collect_events()
    assert event.ends_on == bd(ends_on)


# --- the fields each new type checks ---------------------------------------------------------------


@pytest.mark.parametrize("purpose", [None, ""])
def test_a_resolution_needs_a_purpose(purpose):
    """A council resolution is recorded with its purpose; without one it is refused by name."""
    p = with_history()
    with pytest.raises(InvalidField) as err:
        record(p, "council_resolution_adopted", "2020-01-01", purpose=purpose)
    assert (err.value.field, err.value.code) == ("purpose", "required")
    assert p.pending_events == []


def test_an_unknown_purpose_is_refused_and_leaves_the_partnership_readable():
    """A purpose outside the contract's seven is refused by name, and the partnership stays readable."""
    p = with_history(ACTIVE_2010)
    try:
        with pytest.raises(InvalidField) as err:
            record(p, "council_resolution_adopted", "2020-01-01", purpose="dissolve")
        assert err.value.field == "purpose"
    finally:
        assert p.state.status == "active"


@pytest.mark.parametrize("days", [30, 365, 3650, None])
def test_an_inactivity_period_within_bounds_is_accepted(days):
    """30 to 3650 days, or null for the register's default."""
    p = with_history(ACTIVE_2010)
    record(p, "inactivity_period_set", "2020-01-01", days=days)
    assert p.state.inactivity_days == days


@pytest.mark.parametrize("days", [29, 0, -1, 3651, True, "365", 365.0])
def test_an_inactivity_period_out_of_bounds_is_refused(days):
    """Fewer than 30 or more than 3650 days, or not a whole number, is refused naming days and the bounds."""
    p = with_history(ACTIVE_2010)
    with pytest.raises(InvalidField) as err:
        record(p, "inactivity_period_set", "2020-01-01", days=days)
    assert (err.value.field, err.value.code, err.value.params) == ("days", "out_of_range", {"low": 30, "high": 3650})
    assert p.pending_events == []


@pytest.mark.parametrize("participants", [None, 1, 250])
def test_participants_are_optional(participants):
    """A youth camp whose participant count nobody wrote down is recorded without one."""
    p = with_history(ACTIVE_2010)
    record(p, "youth_exchange_held", "2019-07", ends_on=None, participants=participants)
    (event,) = p.collect_events()
    assert event.participants == participants


@pytest.mark.parametrize("participants", [0, -3, True, "12"])
def test_participants_when_given_are_at_least_one(participants):
    """A participant count, when given, is a whole number of at least one."""
    p = with_history(ACTIVE_2010)
    with pytest.raises(InvalidField) as err:
        record(p, "youth_exchange_held", "2019-07", ends_on=None, participants=participants)
    assert (err.value.field, err.value.code) == ("participants", "out_of_range")


@pytest.mark.parametrize("name", [None, ""])
def test_a_rename_needs_the_new_name(name):
    """partner_renamed without partner_name is refused by name."""
    p = with_history(ACTIVE_2010)
    with pytest.raises(InvalidField) as err:
        record(p, "partner_renamed", "2020-01-01", partner_name=name)
    assert (err.value.field, err.value.code) == ("partner_name", "required")


def test_a_rename_shows_the_new_name_and_keeps_the_old():
    """After a merger the partner's new name shows; the old one is still among its names."""
    p = with_history(ACTIVE_2010)
    record(p, "partner_renamed", "2018-01", partner_name="Gmina Gurjaani-Nowa")
    assert p.state.partner_name == "Gmina Gurjaani-Nowa"
    assert p.state.names == ("Gurjaani", "Gmina Gurjaani-Nowa")


# --- renewal and notice ------------------------------------------------------------------------------


def test_a_renewal_after_termination():
    """A partnership ended in 2014 and renewed by an agreement in 2019 is active since 2019; as of 2016 it was
    terminated."""
    p = with_history(ACTIVE_2010, ("partnership_terminated", "2014-05"), ("letter_of_intent_signed", "2018"))
    record(p, "agreement_signed", "2019-09-01")
    assert (p.state.status, p.state.status_since) == ("active", bd("2019-09-01"))
    assert rules.state_on(p.fact_list(), d("2016-01-01")).status == "terminated"
    assert rules.state_on(p.fact_list(), d("2018-06-01")).status == "intent"


def test_a_termination_with_a_notice_period():
    """A termination noticed on 10 March and effective on 30 June: activity in between is still accepted, the
    partnership is terminated since 30 June, and nothing but the six may be recorded after that day."""
    p = with_history(ACTIVE_2010)
    record(p, "partnership_terminated", "2022-03-10", effective_on="2022-06-30")
    record(p, "activity_held", "2022-05-01")
    assert (p.state.status, p.state.status_since, p.state.last_activity_on) == (
        "terminated",
        bd("2022-06-30"),
        bd("2022-05-01"),
    )
    with pytest.raises(NotAllowedInStatus):
        record(p, "activity_held", "2022-07-01")


def test_a_reminder_opened_before_a_termination_can_still_be_acknowledged():
    """A manager acknowledges a reminder of a partnership terminated after it was opened."""
    p = with_history(("agreement_signed", "2024-01-01"))
    (flagged,) = flag(p, "2025-06-01")
    record(p, "partnership_terminated", "2025-07-01")
    p.collect_events()
    p.acknowledge(flagged, note=None, recorded_by="jan", today=d("2025-07-02"))
    assert [type(e).__name__ for e in p.collect_events()] == ["ReminderAcknowledged"]
    assert not p.is_reminder_open(flagged)


def test_acknowledging_a_reminder_that_closed_by_itself_is_refused():
    """Activity recorded after the flag closes the reminder; there is nothing left to acknowledge."""
    p = with_history(("agreement_signed", "2024-01-01"))
    (flagged,) = flag(p, "2025-06-01")
    record(p, "activity_held", "2025-06-10")
    p.collect_events()
    assert not p.is_reminder_open(flagged)
    with pytest.raises(ReminderNotOpen):
        p.acknowledge(flagged, note=None, recorded_by="jan", today=d("2025-06-11"))


# --- old events keep loading (class version 2) --------------------------------------------------------------


def test_every_event_class_is_at_version_3_and_the_aggregate_at_version_2():
    """Every event class declares class_version 3 (the request's identity) and upcasters from versions 1 and 2;
    the aggregate (its snapshots, which keep no request identities) stays at 2."""
    assert Partnership.class_version == 2
    assert callable(Partnership.upcast_v1_v2)
    for name, cls in sorted(EVENT_CLASSES.items()):
        assert cls.class_version == 3, name
        assert callable(cls.upcast_v1_v2), name
        assert callable(cls.upcast_v2_v3), name


def test_a_version_2_event_loads_without_a_request_identity():
    """An event stored before version 3 carries no request identity once loaded."""
    state = {**_v1_state(text="Stara notatka"), "occurred_on": BusinessDate.of("2009-03-27")}
    Partnership.NoteAdded.upcast_v2_v3(state)
    assert state["request_id"] is None
    event = Partnership.NoteAdded(**state)
    assert event.request_id is None and event.text == "Stara notatka"


def _v1_state(**own) -> dict:
    """The state of an event as the version-1 code stored it (days as ``date``, envelope included)."""
    return {
        "originator_id": uuid4(),
        "originator_version": 2,
        "timestamp": None,
        "occurred_on": date(2009, 3, 27),
        "recorded_by": "ala",
        "reference": None,
        "note": None,
        **own,
    }


def test_a_version_1_resolution_loads_without_a_purpose_and_reads_as_establish():
    """A stored resolution of version 1 gets purpose None (absent), its day as a business date, and still makes
    a proposed partnership active."""
    state = _v1_state(resolution_number="XXV/4/09", body="Rada Powiatu", areas=["sport"])
    Partnership.CouncilResolutionAdopted.upcast_v1_v2(state)
    assert state["purpose"] is None
    assert state["occurred_on"] == bd("2009-03-27")
    assert state["resolution_number"] == "XXV/4/09"
    reg = Fact(1, "partnership_registered", None, datetime(2026, 1, 1, tzinfo=UTC), {"registered_on": TODAY})
    data = {k: v for k, v in state.items() if k in ("purpose", "resolution_number", "body", "areas") and v is not None}
    resolution = Fact(2, "council_resolution_adopted", state["occurred_on"], datetime(2026, 1, 2, tzinfo=UTC), data)
    assert rules.fold([reg, resolution]).status == "active"


@pytest.mark.parametrize(
    ("cls_name", "own", "dates", "added"),
    [
        ("YouthExchangePlanned", {"planned_for": date(2011, 7, 1), "description": None}, ["planned_for"], []),
        (
            "YouthExchangeHeld",
            {"ends_on": date(2011, 7, 9), "participants": 24, "host_town": "Bar", "schools": ["IV LO"]},
            ["ends_on"],
            [],
        ),
        ("ActivityHeld", {"activity_kind": "visit", "title": "Wizyta"}, [], ["ends_on"]),
        ("PartnershipTerminated", {"reason": "brak kontaktu"}, [], ["effective_on"]),
        (
            "InactivityFlagged",
            {"kind": "inactive", "last_activity_on": date(2012, 4, 4), "planned_for": None, "plan_version": None},
            ["last_activity_on"],
            [],
        ),
        ("NoteAdded", {"text": "telefon"}, [], []),
    ],
)
def test_version_1_events_upcast_their_days_and_add_new_fields_as_absent(cls_name, own, dates, added):
    """Days stored as ``date`` become business dates (days); fields added since version 1 are None."""
    state = _v1_state(**own)
    getattr(Partnership, cls_name).upcast_v1_v2(state)
    assert state["occurred_on"] == BusinessDate(2009, 3, 27)
    for name in dates:
        assert state[name] == BusinessDate.of(own[name])
    for name in added:
        assert state[name] is None


def test_a_version_1_snapshot_upcasts_its_facts():
    """A snapshot of version 1 remembered facts with ``date`` values: they load as business dates, and the
    partnership folds as before."""
    recorded = datetime(2026, 1, 1, tzinfo=UTC)
    state = {
        "facts": [
            {
                "version": 1,
                "type": "partnership_registered",
                "occurred_on": None,
                "recorded_at": recorded,
                "data": {"registered_on": TODAY, "partner_name": "Miasto Bar", "areas": []},
            },
            {
                "version": 2,
                "type": "council_resolution_adopted",
                "occurred_on": date(2009, 3, 27),
                "recorded_at": recorded,
                "data": {"resolution_number": "XXV/4/09"},
            },
            {
                "version": 3,
                "type": "youth_exchange_planned",
                "occurred_on": date(2011, 1, 10),
                "recorded_at": recorded,
                "data": {"planned_for": date(2011, 7, 1)},
            },
        ]
    }
    Partnership.upcast_v1_v2(state)
    facts = state["facts"]
    assert facts[0]["occurred_on"] is None
    assert facts[1]["occurred_on"] == bd("2009-03-27")
    assert facts[2]["data"]["planned_for"] == bd("2011-07-01")
    p = object.__new__(Partnership)
    p.__dict__["facts"] = facts
    assert (p.state.status, p.state.status_since) == ("active", bd("2009-03-27"))
