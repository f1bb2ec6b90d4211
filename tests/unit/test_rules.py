"""The partnership's rules as pure functions: the status machine, the fold, the two kinds of time, inactivity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import rules
from domain.dates import BusinessDate
from domain.rules import Fact

REGISTERED_ON = date(2026, 1, 10)
#: a partnership with no dated event is proposed since the day it was entered
SINCE_ENTERED = BusinessDate.of(REGISTERED_ON)
FIRST_RECORD = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)

#: the smallest valid data of each type (dates only where the type needs them)
DATA: dict[str, dict] = {
    "letter_of_intent_signed": {},
    "agreement_signed": {"agreement_kind": "partnership"},
    "council_resolution_adopted": {"purpose": "establish", "resolution_number": "XXI/150/2009"},
    "school_joined": {"school_name": "Liceum im. Kopernika", "side": "local"},
    "youth_exchange_planned": {"planned_for": date(2030, 1, 1)},
    "youth_exchange_held": {"ends_on": date(2030, 1, 1), "participants": 20},
    "activity_held": {"activity_kind": "visit", "title": "Study visit"},
    "cooperation_suspended": {"reason": "war"},
    "cooperation_resumed": {},
    "partnership_terminated": {"reason": "no interest"},
    "partner_renamed": {"partner_name": "Gmina Nowa"},
    "inactivity_period_set": {"days": 1095},
    "note_added": {"text": "phone call"},
    "inactivity_flagged": {"kind": "inactive", "last_activity_on": date(2000, 1, 1)},
    "reminder_acknowledged": {"flagged_version": 99},
}

ACTIVITY = [
    "letter_of_intent_signed",
    "agreement_signed",
    "council_resolution_adopted",
    "school_joined",
    "youth_exchange_held",
    "activity_held",
    "cooperation_resumed",
]
NOT_ACTIVITY = [
    "youth_exchange_planned",
    "cooperation_suspended",
    "partnership_terminated",
    "partner_renamed",
    "inactivity_period_set",
    "note_added",
    "inactivity_flagged",
    "reminder_acknowledged",
]


def d(text: str) -> date:
    """A calendar day (``today`` and ``as_of`` arguments)."""
    return date.fromisoformat(text)


def bd(text: str) -> BusinessDate:
    """A business date as given: a day, a month or a year."""
    return BusinessDate.parse(text)


def registration(occurred_on: str | None = None, areas: tuple[str, ...] = ()) -> Fact:
    return Fact(
        version=1,
        type="partnership_registered",
        occurred_on=occurred_on,
        recorded_at=FIRST_RECORD,
        data={"registered_on": REGISTERED_ON, "partner_name": "Gmina Stara", "areas": list(areas)},
    )


def history(*events: tuple, registered: str | None = None, areas: tuple[str, ...] = ()) -> list[Fact]:
    """The registration (version 1), then each (type, occurred_on[, data]) as versions 2, 3, ... an hour apart.

    ``occurred_on`` is the text an officer typed (a day, a month or a year); the fact holds it as a business date.
    """
    facts = [registration(registered, areas)]
    for i, event in enumerate(events):
        type_, occurred_on, *rest = event
        data = {**DATA.get(type_, {}), **(rest[0] if rest else {})}
        facts.append(
            Fact(
                version=i + 2,
                type=type_,
                occurred_on=occurred_on,
                recorded_at=FIRST_RECORD + timedelta(hours=i + 1),
                data=data,
            )
        )
    return facts


def retract(version: int, on: str = "2026-02-01") -> tuple:
    return ("event_retracted", on, {"retracts": version, "reason": "entered by mistake"})


def recorded_at(facts: list[Fact], version: int) -> datetime:
    return next(f.recorded_at for f in facts if f.version == version)


# --- the status machine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "status", "since"),
    [
        ([], "proposed", SINCE_ENTERED),
        ([("letter_of_intent_signed", "2010-03-01")], "intent", bd("2010-03-01")),
        ([("agreement_signed", "2010-03-01")], "active", bd("2010-03-01")),
        ([("council_resolution_adopted", "2010-03-01")], "active", bd("2010-03-01")),
        (
            [("letter_of_intent_signed", "2009-01-01"), ("agreement_signed", "2010-03-01")],
            "active",
            bd("2010-03-01"),
        ),
        (
            [("agreement_signed", "2010-03-01"), ("letter_of_intent_signed", "2012-01-01")],
            "active",
            bd("2010-03-01"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("cooperation_suspended", "2014-01-01"),
                ("letter_of_intent_signed", "2015-01-01"),
            ],
            "suspended",
            bd("2014-01-01"),
        ),
        (
            [("letter_of_intent_signed", "2010-03-01"), ("cooperation_suspended", "2011-05-05")],
            "suspended",
            bd("2011-05-05"),
        ),
        (
            [("agreement_signed", "2010-03-01"), ("cooperation_suspended", "2011-05-05")],
            "suspended",
            bd("2011-05-05"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("cooperation_suspended", "2011-05-05"),
                ("cooperation_resumed", "2013-09-09"),
            ],
            "active",
            bd("2013-09-09"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("cooperation_suspended", "2011-05-05"),
                ("council_resolution_adopted", "2013-09-09", {"purpose": "resume"}),
            ],
            "active",
            bd("2013-09-09"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("council_resolution_adopted", "2022-03-24", {"purpose": "suspend"}),
            ],
            "suspended",
            bd("2022-03-24"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("council_resolution_adopted", "2022-03-24", {"purpose": "terminate"}),
            ],
            "terminated",
            bd("2022-03-24"),
        ),
        ([("partnership_terminated", "2011-01-01")], "terminated", bd("2011-01-01")),
        (
            [("agreement_signed", "2010-03-01"), ("partnership_terminated", "2018-12-31")],
            "terminated",
            bd("2018-12-31"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("cooperation_suspended", "2011-05-05"),
                ("partnership_terminated", "2012-01-01"),
            ],
            "terminated",
            bd("2012-01-01"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("partnership_terminated", "2012-01-01"),
                ("agreement_signed", "2019"),
            ],
            "active",
            bd("2019"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("partnership_terminated", "2012-01-01"),
                ("letter_of_intent_signed", "2018-05"),
            ],
            "intent",
            bd("2018-05"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("partnership_terminated", "2012-01-01", {"effective_on": "2012-06-30"}),
            ],
            "terminated",
            bd("2012-06-30"),
        ),
    ],
)
def test_status_machine(events, status, since):
    """Each status-changing event moves the status as the contract's table says, since its date.

    A council resolution acts by its purpose; after termination an agreement renews the partnership and a
    letter of intent opens talks to renew; a termination with a notice period takes effect on effective_on.
    """
    state = rules.fold(history(*events))
    assert (state.status, state.status_since) == (status, since)


@pytest.mark.parametrize(
    ("events", "status", "since"),
    [
        ([("agreement_signed", "2010-03-01"), ("agreement_signed", "2015-06-01")], "active", bd("2010-03-01")),
        (
            [("agreement_signed", "2010-03-01"), ("council_resolution_adopted", "2011-06-01")],
            "active",
            bd("2010-03-01"),
        ),
        (
            [("letter_of_intent_signed", "2010-03-01"), ("letter_of_intent_signed", "2011-06-01")],
            "intent",
            bd("2010-03-01"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("school_joined", "2011-01-01"),
                ("activity_held", "2012-01-01"),
                ("youth_exchange_planned", "2012-02-01"),
                ("youth_exchange_held", "2012-03-01"),
                ("partner_renamed", "2012-04-01"),
                ("inactivity_period_set", "2012-05-01"),
                ("note_added", "2013-01-01"),
            ],
            "active",
            bd("2010-03-01"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("cooperation_suspended", "2011-05-05"),
                ("cooperation_suspended", "2012-05-05"),
            ],
            "suspended",
            bd("2011-05-05"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("cooperation_suspended", "2011-05-05"),
                ("council_resolution_adopted", "2012-05-05", {"purpose": "suspend"}),
            ],
            "suspended",
            bd("2011-05-05"),
        ),
        (
            [
                ("agreement_signed", "2010-03-01"),
                ("cooperation_suspended", "2011-05-05"),
                ("council_resolution_adopted", "2012-05-05", {"purpose": "amend"}),
            ],
            "suspended",
            bd("2011-05-05"),
        ),
    ],
)
def test_status_since_does_not_move_when_the_status_is_unchanged(events, status, since):
    """An event that leaves the status as it was does not move status_since."""
    state = rules.fold(history(*events))
    assert (state.status, state.status_since) == (status, since)


def test_status_since_of_a_registration_with_a_date_is_that_date():
    """A partnership registered with occurred_on is proposed since that day, not since the day it was recorded."""
    state = rules.fold(history(registered="2005-04-01"))
    assert (state.status, state.status_since) == ("proposed", bd("2005-04-01"))


def test_a_proposed_partnership_is_proposed_since_it_exists():
    """Registered without a date but with earlier history that changes no status: proposed since that history."""
    state = rules.fold(history(("school_joined", "2008-05"), ("note_added", "2001-01-01")))
    assert (state.status, state.status_since) == ("proposed", bd("2008-05"))


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("proposed", False), ("intent", True), ("active", True), ("suspended", False), ("terminated", False)],
)
def test_suspend_only_from_intent_or_active(status, allowed):
    """cooperation_suspended is allowed only while intent or active."""
    assert rules.allowed_in("cooperation_suspended", status) is allowed


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("proposed", False), ("intent", False), ("active", False), ("suspended", True), ("terminated", False)],
)
def test_resume_only_from_suspended(status, allowed):
    """cooperation_resumed is allowed only while suspended."""
    assert rules.allowed_in("cooperation_resumed", status) is allowed


@pytest.mark.parametrize("event_type", [*DATA, "event_retracted"])
def test_after_termination_only_the_contracts_six(event_type):
    """A terminated partnership accepts note_added, event_retracted, partner_renamed, council_resolution_adopted,
    letter_of_intent_signed and agreement_signed, and no other officer-recorded event (an acknowledgement of a
    reminder opened before the termination is the manager's, not refused either)."""
    expected = event_type in (
        "note_added",
        "event_retracted",
        "partner_renamed",
        "council_resolution_adopted",
        "letter_of_intent_signed",
        "agreement_signed",
        "reminder_acknowledged",
    )
    assert rules.allowed_in(event_type, "terminated") is expected


@pytest.mark.parametrize("status", ["proposed", "intent", "active", "suspended", "terminated"])
def test_notes_retractions_renames_resolutions_and_agreements_are_allowed_in_every_status(status):
    """note_added, event_retracted, partner_renamed, council_resolution_adopted, letter_of_intent_signed and
    agreement_signed may meet any status."""
    for event_type in (
        "note_added",
        "event_retracted",
        "partner_renamed",
        "council_resolution_adopted",
        "letter_of_intent_signed",
        "agreement_signed",
    ):
        assert rules.allowed_in(event_type, status), event_type


@pytest.mark.parametrize(
    "event_type",
    [
        "letter_of_intent_signed",
        "agreement_signed",
        "council_resolution_adopted",
        "school_joined",
        "youth_exchange_planned",
        "youth_exchange_held",
        "activity_held",
        "partnership_terminated",
        "partner_renamed",
        "inactivity_period_set",
    ],
)
@pytest.mark.parametrize("status", ["proposed", "intent", "active", "suspended"])
def test_ordinary_events_are_allowed_in_every_open_status(event_type, status):
    """Events without a status rule may meet any status but terminated."""
    assert rules.allowed_in(event_type, status)


# --- the fold in business order ------------------------------------------------------------


def test_late_entered_resolution_lands_before_a_suspension_recorded_earlier():
    """A 2009 resolution recorded after a 2020 suspension makes the partnership active in 2009 and suspended in 2020."""
    facts = history(
        ("cooperation_suspended", "2020-03-01"),  # recorded first, folded second
        ("council_resolution_adopted", "2009-06-25"),
    )
    state = rules.fold(facts)
    assert (state.status, state.status_since) == ("suspended", bd("2020-03-01"))
    earlier = rules.state_on(facts, d("2015-01-01"))
    assert (earlier.status, earlier.status_since) == ("active", bd("2009-06-25"))


def test_late_entered_history_keeps_the_later_events_in_place():
    """A 2009 resolution entered after a 2012 agreement and 2020 suspension leaves the suspension current."""
    facts = history(
        ("agreement_signed", "2012-05-01"),
        ("cooperation_suspended", "2020-03-01"),
        ("council_resolution_adopted", "2009-06-25"),
    )
    state = rules.fold(facts)
    assert (state.status, state.status_since) == ("suspended", bd("2020-03-01"))
    assert rules.state_on(facts, d("2011-01-01")).status_since == bd("2009-06-25")
    assert rules.state_on(facts, d("2012-05-01")).status_since == bd("2009-06-25")


def test_a_suspending_resolution_entered_after_the_suspension_keeps_it_suspended():
    """A council's suspending resolution recorded after the suspension itself does not re-activate the partnership,
    and the natural next step (resume) is then allowed."""
    facts = history(
        ("agreement_signed", "2010-01-01"),
        ("cooperation_suspended", "2022-03-10"),
        ("council_resolution_adopted", "2022-03-24", {"purpose": "suspend"}),
    )
    state = rules.fold(facts)
    assert (state.status, state.status_since) == ("suspended", bd("2022-03-10"))
    assert rules.allowed_in("cooperation_resumed", rules.state_on(facts, d("2023-01-01")).status)


def test_a_stored_resolution_without_purpose_reads_as_establish():
    """A resolution stored before purpose existed acts as `establish`: it makes a proposed partnership active and
    leaves a suspended one suspended (so resume is still possible)."""
    no_purpose = {"resolution_number": "XXV/4/09"}
    proposed = rules.fold(history(("council_resolution_adopted", "2009-03-27", no_purpose)))
    assert (proposed.status, proposed.status_since) == ("active", bd("2009-03-27"))
    suspended = rules.fold(
        history(
            ("agreement_signed", "2009-03-27"),
            ("cooperation_suspended", "2015-01-01"),
            ("council_resolution_adopted", "2016-01-01", no_purpose),
        )
    )
    assert (suspended.status, suspended.status_since) == ("suspended", bd("2015-01-01"))
    assert rules.transition("council_resolution_adopted", "suspended", no_purpose) == rules.transition(
        "council_resolution_adopted", "suspended", {"purpose": "establish"}
    )


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([("agreement_signed", "2015-01-01"), ("cooperation_suspended", "2015-01-01")], "suspended"),
        ([("cooperation_suspended", "2015-01-01"), ("agreement_signed", "2015-01-01")], "active"),
        ([("agreement_signed", "2015"), ("cooperation_suspended", "2015-01-01")], "suspended"),
        ([("agreement_signed", "2015-01-01"), ("cooperation_suspended", "2015-01")], "suspended"),
    ],
)
def test_events_of_the_same_day_fold_in_version_order(events, status):
    """On the same first day (a month or a year counts from its first day) the event recorded first comes first."""
    assert rules.fold(history(*events)).status == status


def test_business_order_sorts_by_occurred_on_then_version():
    """business_order lists the non-retracted events after the registration by (occurred_on, version)."""
    facts = history(
        ("activity_held", "2015-01-01"),
        ("agreement_signed", "2010-01-01"),
        ("note_added", "2015-01-01"),
        ("school_joined", "2012-01-01"),
        retract(5),
    )
    assert [f.version for f in rules.business_order(facts)] == [3, 2, 4]


def test_business_order_places_a_month_or_a_year_at_its_first_day():
    """ "2015" stands at 1 January 2015, "2015-06" at 1 June: before a day later in that period."""
    facts = history(
        ("activity_held", "2015-03-10"),
        ("activity_held", "2015"),
        ("activity_held", "2015-06"),
        ("activity_held", "2015-05-31"),
        ("activity_held", "2014-12-31"),
    )
    assert [f.version for f in rules.business_order(facts)] == [6, 3, 2, 5, 4]


def test_a_notice_of_termination_stands_at_its_effective_day():
    """A termination with effective_on is in business order at effective_on: events between the notice and that day
    still meet an active partnership."""
    facts = history(
        ("agreement_signed", "2010-01-01"),
        ("partnership_terminated", "2022-03-10", {"effective_on": "2022-06-30"}),
        ("activity_held", "2022-05-01"),
    )
    state = rules.fold(facts)
    assert (state.status, state.status_since, state.last_activity_on) == (
        "terminated",
        bd("2022-06-30"),
        bd("2022-05-01"),
    )
    assert rules.state_on(facts, d("2022-06-29")).status == "active"
    assert rules.state_on(facts, d("2022-06-30")).status == "terminated"


def test_an_event_not_allowed_in_the_state_it_meets_changes_nothing():
    """A suspension that meets a partnership terminated earlier (entered late) changes nothing."""
    facts = history(
        ("agreement_signed", "2010-01-01"),
        ("cooperation_suspended", "2020-01-01"),
        ("partnership_terminated", "2015-01-01"),  # entered late, lands before the suspension
    )
    state = rules.fold(facts)
    assert (state.status, state.status_since) == ("terminated", bd("2015-01-01"))


def test_a_suspension_meeting_a_proposed_partnership_changes_nothing():
    """A suspension dated before the partnership became active is ignored by the fold."""
    facts = history(("cooperation_suspended", "2009-01-01"), ("agreement_signed", "2010-01-01"))
    state = rules.fold(facts)
    assert (state.status, state.status_since) == ("active", bd("2010-01-01"))


def test_events_after_termination_change_nothing_in_the_fold():
    """After termination schools, activity, plans and a period stay as they were; a note still applies."""
    facts = history(
        ("agreement_signed", "2010-01-01", {"areas": ["culture"]}),
        ("partnership_terminated", "2015-01-01"),
        ("school_joined", "2016-01-01"),
        ("activity_held", "2017-01-01"),
        ("inactivity_period_set", "2018-01-01"),
        ("note_added", "2019-01-01"),
    )
    state = rules.fold(facts)
    assert state.status == "terminated"
    assert state.schools == ()
    assert state.last_activity_on == bd("2010-01-01")
    assert state.areas == ("culture",)
    assert state.inactivity_days is None
    assert 7 in state.applied and 4 not in state.applied and 6 not in state.applied


def test_a_resolution_after_termination_is_applied_by_its_purpose():
    """After termination a resolution to establish renews the partnership; one of another purpose leaves it
    terminated but still counts (its areas, its number, activity)."""
    base = [("agreement_signed", "2010-01-01", {"areas": ["culture"]}), ("partnership_terminated", "2015-01-01")]
    other = {"purpose": "other", "areas": ["sport"], "resolution_number": "XL/1/2018"}
    kept = rules.fold(history(*base, ("council_resolution_adopted", "2018-01-01", other)))
    assert (kept.status, kept.status_since) == ("terminated", bd("2015-01-01"))
    assert (kept.areas, kept.last_activity_on) == (("culture", "sport"), bd("2018-01-01"))
    assert "XL/1/2018" in kept.references
    renewed = rules.fold(
        history(*base, ("council_resolution_adopted", "2018-01-01", {**other, "purpose": "establish"}))
    )
    assert (renewed.status, renewed.status_since) == ("active", bd("2018-01-01"))


def test_areas_and_schools_accumulate_without_duplicates():
    """Areas from the registration, agreements and resolutions merge; a school joined twice is listed once."""
    facts = history(
        ("agreement_signed", "2010-01-01", {"areas": ["culture", "education"]}),
        ("council_resolution_adopted", "2011-01-01", {"areas": ["sport"]}),
        ("school_joined", "2012-01-01", {"school_name": "SP 1", "side": "local", "town": "Nowogród"}),
        ("school_joined", "2013-01-01", {"school_name": "SP 1", "side": "local", "town": "Nowogród"}),
        ("school_joined", "2013-01-01", {"school_name": "School 3", "side": "partner"}),
        areas=("education",),
    )
    state = rules.fold(facts)
    assert state.areas == ("education", "culture", "sport")
    assert state.schools == (("SP 1", "local", "Nowogród"), ("School 3", "partner", None))


def test_fold_needs_the_registration():
    """A list of facts without the registration is refused."""
    with pytest.raises(ValueError):
        rules.fold(history(("agreement_signed", "2010-01-01"))[1:])


def test_facts_hold_business_dates_whatever_form_they_came_in():
    """A fact built from a stored ``date`` (version 1), from text or from a business date holds the same
    business date, in occurred_on and in the type's date fields."""
    forms = [date(2011, 7, 1), "2011-07-01", bd("2011-07-01")]
    facts = [Fact(2, "youth_exchange_planned", f, FIRST_RECORD, {"planned_for": f}) for f in forms]
    assert {(f.occurred_on, f.data["planned_for"]) for f in facts} == {(bd("2011-07-01"), bd("2011-07-01"))}
    assert Fact(2, "youth_exchange_planned", "2011", FIRST_RECORD, {"planned_for": "2011-07"}).data[
        "planned_for"
    ] == bd("2011-07")


# --- renames and the partnership's own inactivity period -----------------------------------------


def test_a_rename_shows_from_its_date_and_old_names_stay():
    """The new name shows from the rename's date, the old one before it; every name stays in names (a retracted
    rename never happened)."""
    facts = history(
        ("agreement_signed", "2010-01-01"),
        ("partner_renamed", "2017-01", {"partner_name": "Gmina Nowa"}),
        ("partner_renamed", "2020-05-05", {"partner_name": "Miasto Nowe"}),
    )
    now = rules.fold(facts)
    assert (now.partner_name, now.names) == ("Miasto Nowe", ("Gmina Stara", "Gmina Nowa", "Miasto Nowe"))
    assert rules.state_on(facts, d("2016-12-31")).partner_name == "Gmina Stara"
    assert rules.state_on(facts, d("2018-01-01")).partner_name == "Gmina Nowa"
    retracted = rules.fold(history(("agreement_signed", "2010-01-01"), ("partner_renamed", "2017-01"), retract(3)))
    assert (retracted.partner_name, retracted.names) == ("Gmina Stara", ("Gmina Stara",))


def test_a_rename_applies_after_termination():
    """A partner that renamed itself after the partnership ended is still found under its new name."""
    facts = history(
        ("agreement_signed", "2010-01-01"),
        ("partnership_terminated", "2015-01-01"),
        ("partner_renamed", "2016-01-01", {"partner_name": "Gmina Nowa"}),
    )
    assert rules.fold(facts).partner_name == "Gmina Nowa"


def test_the_inactivity_period_is_set_and_reset():
    """inactivity_period_set gives the partnership its own period; null returns it to the register's default."""
    own = rules.fold(history(("agreement_signed", "2010-01-01"), ("inactivity_period_set", "2011-01-01")))
    assert own.inactivity_days == 1095
    back = rules.fold(
        history(
            ("agreement_signed", "2010-01-01"),
            ("inactivity_period_set", "2011-01-01"),
            ("inactivity_period_set", "2012-01-01", {"days": None}),
        )
    )
    assert back.inactivity_days is None
    assert rules.period(own, 365) == 1095 and rules.period(back, 365) == 365


# --- retractions --------------------------------------------------------------------------------


def test_retracting_the_status_event_returns_to_proposed():
    """A retracted agreement leaves the partnership as if it was never signed."""
    state = rules.fold(history(("agreement_signed", "2010-01-01"), retract(2)))
    assert (state.status, state.status_since, state.last_activity_on) == ("proposed", SINCE_ENTERED, None)


def test_a_retracted_suspension_restores_the_status_and_its_since():
    """Retracting a suspension makes the partnership active again, since the agreement's date."""
    state = rules.fold(history(("agreement_signed", "2010-01-01"), ("cooperation_suspended", "2020-01-01"), retract(3)))
    assert (state.status, state.status_since) == ("active", bd("2010-01-01"))


def test_retracting_a_termination_lets_the_later_events_apply():
    """With the termination retracted, events it used to block apply in the fold."""
    events = [
        ("agreement_signed", "2010-01-01"),
        ("activity_held", "2014-01-01"),
        ("partnership_terminated", "2012-01-01"),
    ]
    assert rules.fold(history(*events)).last_activity_on == bd("2010-01-01")
    state = rules.fold(history(*events, retract(4)))
    assert (state.status, state.last_activity_on) == ("active", bd("2014-01-01"))


def test_retracting_an_activity_moves_last_activity_back():
    """Retracting the latest activity makes the previous one the last."""
    events = [("agreement_signed", "2010-01-01"), ("activity_held", "2018-01-01")]
    assert rules.fold(history(*events)).last_activity_on == bd("2018-01-01")
    assert rules.fold(history(*events, retract(3))).last_activity_on == bd("2010-01-01")


def test_retracting_a_school_removes_it():
    """A retracted school_joined is not among the schools."""
    state = rules.fold(history(("agreement_signed", "2010-01-01"), ("school_joined", "2011-01-01"), retract(3)))
    assert state.schools == ()


def test_a_retraction_removes_the_event_from_every_business_date():
    """A retraction dated 2026 removes a 2010 agreement from the 2015 picture too, as known now."""
    facts = history(("agreement_signed", "2010-01-01"), retract(2, on="2026-01-20"))
    assert rules.state_on(facts, d("2015-01-01")).status == "proposed"


def test_retracted_versions_maps_each_retracted_version_to_its_retraction():
    """retracted_versions tells which versions are retracted and by which event."""
    facts = history(("agreement_signed", "2010-01-01"), ("note_added", "2011-01-01"), retract(3))
    assert {v: f.version for v, f in rules.retracted_versions(facts).items()} == {3: 4}


# --- last activity -------------------------------------------------------------------------------


def _after(event_type: str, on: str) -> list[tuple]:
    """Events leading to a state where ``event_type`` is allowed, then the event itself."""
    before = [("agreement_signed", "2010-01-01")]
    if event_type == "cooperation_resumed":
        before.append(("cooperation_suspended", "2011-01-01"))
    return [*before, (event_type, on)]


@pytest.mark.parametrize("event_type", ACTIVITY)
def test_activity_types_set_last_activity(event_type):
    """Each of the contract's activity types moves last_activity_on to its occurred_on."""
    assert rules.fold(history(*_after(event_type, "2015-07-07"))).last_activity_on == bd("2015-07-07")


@pytest.mark.parametrize("event_type", NOT_ACTIVITY)
def test_other_types_do_not_count_as_activity(event_type):
    """Plans, suspensions, terminations, renames, periods, notes, flags and acknowledgements are not activity."""
    assert rules.fold(history(*_after(event_type, "2015-07-07"))).last_activity_on == bd("2010-01-01")


def test_the_registration_is_not_activity():
    """A freshly registered partnership, even with a date, has no last activity."""
    assert rules.fold(history(registered="2005-01-01")).last_activity_on is None


def test_last_activity_is_the_latest_occurred_on_not_the_last_recorded():
    """An older activity entered late does not move last_activity_on back."""
    facts = history(("agreement_signed", "2018-01-01"), ("activity_held", "2015-01-01"))
    assert rules.fold(facts).last_activity_on == bd("2018-01-01")


@pytest.mark.parametrize(
    ("dates", "last"),
    [
        (["2019", "2019-06-10"], "2019"),  # a day inside the year ends before the year does
        (["2019-06-10", "2019"], "2019"),
        (["2019", "2020-01-01"], "2020-01-01"),
        (["2019-12", "2019-11-30"], "2019-12"),
        (["2019-03", "2019-04-01"], "2019-04-01"),
    ],
)
def test_last_activity_compares_months_and_years_by_their_last_day(dates, last):
    """For inactivity a month or a year counts to its last day: "2019" is later than 10 June 2019."""
    facts = history(*[("activity_held", on) for on in dates])
    assert rules.fold(facts).last_activity_on == bd(last)


# --- exists_from -----------------------------------------------------------------------------


def test_exists_from_the_recording_day_without_any_date():
    """A partnership with no dated event exists from the day it was recorded."""
    assert rules.exists_from(history()) == SINCE_ENTERED


def test_exists_from_the_registration_date_when_given():
    """The registration's occurred_on counts."""
    assert rules.exists_from(history(("agreement_signed", "2012-01-01"), registered="2011-01-01")) == bd("2011-01-01")


def test_exists_from_an_earlier_event_than_the_registration_date():
    """An event dated before the registration's occurred_on moves the start earlier."""
    assert rules.exists_from(history(("agreement_signed", "2009-01-01"), registered="2011-01-01")) == bd("2009-01-01")


def test_exists_from_a_year_or_a_month_as_given():
    """A partnership whose earliest record says only "1992" exists from 1992 (not from an invented day)."""
    assert rules.exists_from(history(("agreement_signed", "1992"), registered="1993-05")) == bd("1992")
    assert rules.exists_from(history(("agreement_signed", "1994"), registered="1993-05")) == bd("1993-05")


@pytest.mark.parametrize(
    "early",
    [
        ("note_added", "2001-01-01"),
        ("inactivity_flagged", "2001-01-01"),
        ("reminder_acknowledged", "2001-01-01"),
        ("event_retracted", "2001-01-01", {"retracts": 99, "reason": "x"}),
    ],
    ids=lambda e: e[0],
)
def test_exists_from_ignores_notes_flags_acknowledgements_and_retractions(early):
    """note_added, inactivity_flagged, reminder_acknowledged and event_retracted do not make it exist."""
    assert rules.exists_from(history(early, ("agreement_signed", "2010-01-01"))) == bd("2010-01-01")


@pytest.mark.parametrize(
    "event_type",
    ACTIVITY + ["youth_exchange_planned", "cooperation_suspended", "partner_renamed", "inactivity_period_set"],
)
def test_exists_from_counts_every_other_event(event_type):
    """Any other event (even one the fold ignores) dates the partnership's existence."""
    assert rules.exists_from(history((event_type, "2003-03-03"), ("agreement_signed", "2010-01-01"))) == bd(
        "2003-03-03"
    )


def test_exists_from_ignores_retracted_events():
    """A retracted event does not date the partnership."""
    facts = history(("agreement_signed", "2001-01-01"), ("activity_held", "2010-01-01"), retract(2))
    assert rules.exists_from(facts) == bd("2010-01-01")
    assert rules.exists_from(history(("agreement_signed", "2001-01-01"), retract(2))) == SINCE_ENTERED


# --- as_of and known_at ------------------------------------------------------------------------


def test_as_of_keeps_what_happened_on_or_before_the_day():
    """as_of D keeps the registration and the events with occurred_on <= D (inclusive)."""
    facts = history(
        ("letter_of_intent_signed", "2009-01-01"),
        ("agreement_signed", "2010-06-01"),
        ("cooperation_suspended", "2020-01-01"),
    )
    assert [f.version for f in rules.as_of(facts, d("2010-06-01"))] == [1, 2, 3]
    assert [f.version for f in rules.as_of(facts, d("2010-05-31"))] == [1, 2]
    assert rules.as_of(facts, None) == facts


def test_as_of_counts_a_month_or_a_year_from_its_first_day():
    """An event dated "2010-06" or "2011" is in the picture from the first day of that month or year."""
    facts = history(("agreement_signed", "2010-06"), ("activity_held", "2011"))
    assert [f.version for f in rules.as_of(facts, d("2010-05-31"))] == [1]
    assert [f.version for f in rules.as_of(facts, d("2010-06-01"))] == [1, 2]
    assert [f.version for f in rules.as_of(facts, d("2011-01-01"))] == [1, 2, 3]


@pytest.mark.parametrize(
    ("day", "status", "since"),
    [
        ("2008-12-31", "proposed", bd("2009-01-01")),  # before it exists: proposed from its first day
        ("2009-01-01", "intent", bd("2009-01-01")),
        ("2010-05-31", "intent", bd("2009-01-01")),
        ("2010-06-01", "active", bd("2010-06-01")),
        ("2019-12-31", "active", bd("2010-06-01")),
        ("2020-01-01", "suspended", bd("2020-01-01")),
    ],
)
def test_state_on_a_day(day, status, since):
    """state_on answers the status and since-date as of any business day."""
    facts = history(
        ("letter_of_intent_signed", "2009-01-01"),
        ("agreement_signed", "2010-06-01"),
        ("cooperation_suspended", "2020-01-01"),
    )
    state = rules.state_on(facts, d(day))
    assert (state.status, state.status_since) == (status, since)


def test_known_at_hides_events_recorded_later():
    """known_at T keeps only the facts recorded at or before T (inclusive)."""
    facts = history(("agreement_signed", "2010-01-01"), ("cooperation_suspended", "2020-01-01"))
    at_agreement = recorded_at(facts, 2)
    assert [f.version for f in rules.known_at(facts, at_agreement)] == [1, 2]
    assert [f.version for f in rules.known_at(facts, at_agreement - timedelta(microseconds=1))] == [1]
    assert rules.fold(rules.known_at(facts, at_agreement)).status == "active"
    assert rules.known_at(facts, None) == facts


def test_known_at_hides_a_later_retraction():
    """Before the retraction was recorded, the retracted event still counted."""
    facts = history(("agreement_signed", "2010-01-01"), ("activity_held", "2018-01-01"), retract(3))
    before_retraction = recorded_at(facts, 4) - timedelta(seconds=1)
    assert rules.fold(rules.known_at(facts, before_retraction)).last_activity_on == bd("2018-01-01")
    assert rules.fold(rules.known_at(facts, recorded_at(facts, 4))).last_activity_on == bd("2010-01-01")


def test_known_at_and_as_of_together():
    """What the register said at T about day D: history entered after T is not there."""
    facts = history(
        ("agreement_signed", "2012-01-01"),
        ("council_resolution_adopted", "2009-06-25"),  # entered late
    )
    before_late_entry = recorded_at(facts, 3) - timedelta(minutes=1)
    said_then = rules.fold(rules.as_of(rules.known_at(facts, before_late_entry), d("2010-01-01")))
    said_now = rules.fold(rules.as_of(facts, d("2010-01-01")))
    assert said_then.status == "proposed"
    assert (said_now.status, said_now.status_since) == ("active", bd("2009-06-25"))


# --- inactivity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "idle_days", "inactive"),
    [
        (365, 364, False),
        (365, 365, False),
        (365, 366, True),
        (30, 30, False),
        (30, 31, True),
        (1, 1, False),
        (1, 2, True),
    ],
)
def test_inactivity_threshold_is_more_than_n_days(days, idle_days, inactive):
    """Inactive only when the last activity is MORE than N days before today; exactly N is not."""
    state = rules.fold(history(("agreement_signed", "2024-01-01")))
    today = d("2024-01-01") + timedelta(days=idle_days)
    assert rules.is_inactive(state, today, days) is inactive
    assert rules.needs_inactivity_flag(state, today, days) is inactive


@pytest.mark.parametrize(
    ("idle_days", "inactive"),
    [(365, False), (1095, False), (1096, True)],
)
def test_the_partnerships_own_period_replaces_the_default(idle_days, inactive):
    """A partnership that meets every three years (1095 days) is not inactive after one silent year."""
    state = rules.fold(history(("agreement_signed", "2020-01-01"), ("inactivity_period_set", "2020-02-01")))
    today = d("2020-01-01") + timedelta(days=idle_days)
    assert rules.is_inactive(state, today, 365) is inactive
    assert rules.needs_inactivity_flag(state, today, 365) is inactive


@pytest.mark.parametrize(
    ("events", "inactive"),
    [
        ([("school_joined", "2010-01-01")], False),  # proposed
        ([("letter_of_intent_signed", "2010-01-01")], True),  # intent
        ([("agreement_signed", "2010-01-01")], True),  # active
        ([("agreement_signed", "2010-01-01"), ("cooperation_suspended", "2010-02-01")], False),
        ([("agreement_signed", "2010-01-01"), ("partnership_terminated", "2010-02-01")], False),
    ],
    ids=["proposed", "intent", "active", "suspended", "terminated"],
)
def test_only_intent_and_active_partnerships_can_be_inactive(events, inactive):
    """Proposed, suspended and terminated partnerships are never inactive, however long the silence."""
    state = rules.fold(history(*events))
    assert rules.is_inactive(state, d("2026-01-01"), 365) is inactive
    assert rules.needs_inactivity_flag(state, d("2026-01-01"), 365) is inactive


def _flag(last_activity_on: str, on: str) -> tuple:
    return ("inactivity_flagged", on, {"kind": "inactive", "last_activity_on": last_activity_on})


def test_a_spell_is_flagged_once():
    """Once the spell ending at last_activity_on is flagged, it needs no second flag."""
    facts = history(("agreement_signed", "2020-01-01"), _flag("2020-01-01", "2021-01-05"))
    state = rules.fold(facts)
    assert rules.is_inactive(state, d("2022-06-01"), 365)
    assert not rules.needs_inactivity_flag(state, d("2022-06-01"), 365)


def test_a_spell_of_a_year_only_activity_is_flagged_once():
    """A spell whose last activity is known only as "2019" is flagged once, under that same date."""
    facts = history(("agreement_signed", "2019"), _flag("2019", "2021-01-05"))
    state = rules.fold(facts)
    assert state.last_activity_on == bd("2019")
    assert rules.is_inactive(state, d("2022-06-01"), 365)
    assert not rules.needs_inactivity_flag(state, d("2022-06-01"), 365)


def test_a_flag_of_an_older_spell_does_not_cover_the_current_one():
    """A flag for an earlier last_activity_on leaves the current spell unflagged."""
    facts = history(
        ("agreement_signed", "2018-01-01"),
        _flag("2018-01-01", "2019-01-05"),
        ("activity_held", "2019-06-01"),
    )
    state = rules.fold(facts)
    assert not rules.needs_inactivity_flag(state, d("2020-05-31"), 365)  # 365 days after the new activity
    assert rules.needs_inactivity_flag(state, d("2020-06-01"), 365)  # 366 days: a new spell


def test_an_exchange_overdue_flag_does_not_count_as_an_inactivity_flag():
    """Flagging an overdue plan does not mark the inactivity spell as flagged."""
    facts = history(
        ("agreement_signed", "2020-01-01"),
        ("youth_exchange_planned", "2020-02-01", {"planned_for": "2020-06-01"}),
        ("inactivity_flagged", "2020-06-02", {"kind": "exchange_overdue", "plan_version": 3}),
    )
    assert rules.needs_inactivity_flag(rules.fold(facts), d("2021-06-01"), 365)


# --- overdue plans ---------------------------------------------------------------------------


def _plan(on: str = "2024-03-01", planned_for: str = "2024-06-01") -> tuple:
    return ("youth_exchange_planned", on, {"planned_for": planned_for})


def _held(on: str) -> tuple:
    return ("youth_exchange_held", on, {"ends_on": d(on) + timedelta(days=3), "participants": 12})


@pytest.mark.parametrize(
    ("today", "overdue"),
    [("2024-05-31", False), ("2024-06-01", False), ("2024-06-02", True), ("2030-01-01", True)],
)
def test_a_plan_is_overdue_once_its_day_has_passed(today, overdue):
    """A plan is overdue the day after planned_for, not on it."""
    state = rules.fold(history(("agreement_signed", "2024-01-01"), _plan()))
    assert rules.overdue_plans(state, d(today)) == ([(3, bd("2024-06-01"))] if overdue else [])


@pytest.mark.parametrize(
    ("planned_for", "today", "overdue"),
    [
        ("2024-06", "2024-06-30", False),
        ("2024-06", "2024-07-01", True),
        ("2024", "2024-12-31", False),
        ("2025", "2025-12-31", False),
        ("2024", "2025-01-01", True),
    ],
)
def test_a_plan_for_a_month_or_a_year_is_overdue_once_the_whole_period_has_passed(planned_for, today, overdue):
    """A plan "for June 2024" is not overdue in June; only from 1 July (and "2024" from 1 January 2025)."""
    state = rules.fold(history(("agreement_signed", "2024-01-01"), _plan("2024-03-01", planned_for)))
    assert rules.overdue_plans(state, d(today)) == ([(3, bd(planned_for))] if overdue else [])


@pytest.mark.parametrize(
    ("held_on", "overdue"),
    [
        ("2023-12-01", True),  # held before the plan: does not count
        ("2024-02-29", True),
        ("2024-03-01", False),  # on the plan's own day: counts
        ("2024-05-01", False),
        ("2024-07-01", False),  # late, but held
    ],
)
def test_an_exchange_held_on_or_after_the_plan_settles_it(held_on, overdue):
    """Only a youth_exchange_held on or after the plan's occurred_on settles the plan."""
    state = rules.fold(history(("agreement_signed", "2023-01-01"), _held(held_on), _plan()))
    assert bool(rules.overdue_plans(state, d("2024-08-01"))) is overdue


def test_each_plan_is_flagged_once():
    """A plan already flagged as overdue is not overdue again; another plan still is."""
    facts = history(
        ("agreement_signed", "2024-01-01"),
        _plan("2024-03-01", "2024-06-01"),
        _plan("2024-03-02", "2024-07-01"),
        ("inactivity_flagged", "2024-06-02", {"kind": "exchange_overdue", "plan_version": 3}),
    )
    assert rules.overdue_plans(rules.fold(facts), d("2024-08-01")) == [(4, bd("2024-07-01"))]


def test_retracted_plan_and_retracted_exchange():
    """A retracted plan is never overdue; a retracted exchange no longer settles its plan."""
    base = [("agreement_signed", "2024-01-01"), _plan(), _held("2024-06-01")]
    assert rules.overdue_plans(rules.fold(history(*base)), d("2024-08-01")) == []
    assert rules.overdue_plans(rules.fold(history(*base, retract(4))), d("2024-08-01")) == [(3, bd("2024-06-01"))]
    assert rules.overdue_plans(rules.fold(history(*base[:2], retract(3))), d("2024-08-01")) == []


def test_a_terminated_partnership_has_no_overdue_plans():
    """Plans of a terminated partnership are not chased."""
    facts = history(("agreement_signed", "2024-01-01"), _plan(), ("partnership_terminated", "2024-04-01"))
    assert rules.overdue_plans(rules.fold(facts), d("2024-08-01")) == []


def test_areas_listed_twice_count_once():
    """A registration or agreement naming an area twice lists it once."""
    reg = Fact(
        1,
        "partnership_registered",
        date(2020, 1, 1),
        datetime(2026, 1, 1, tzinfo=UTC),
        {"registered_on": date(2026, 1, 1), "areas": ["culture", "culture", "sport"]},
    )
    agreement = Fact(
        2,
        "agreement_signed",
        date(2020, 2, 1),
        datetime(2026, 1, 1, tzinfo=UTC),
        {"agreement_kind": "partnership", "areas": ["sport", "youth", "youth"]},
    )
    assert rules.fold([reg, agreement]).areas == ("culture", "sport", "youth")
