"""Time travel over dates as precise as the record: a month or a year counts from its first day in ``as_of`` and
``status_since``, answers inside such a period are marked approximate, and status_since is never after the day
asked about."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import rules

from .histories import REGISTERED_ON, bd, day, facts_of, retract


@pytest.mark.parametrize(
    ("on", "status", "approximate"),
    [
        ("2018-12-31", "proposed", False),
        ("2019-01-01", "active", True),
        ("2019-06-01", "active", True),
        ("2019-12-30", "active", True),
        ("2019-12-31", "active", False),  # by the year's last day the agreement has certainly been signed
        ("2020-01-01", "active", False),
        ("2026-01-01", "active", False),
    ],
)
def test_a_year_only_agreement(on, status, approximate):
    """An agreement known only as "2019" makes the partnership active from 1 January 2019 (since "2019"), and
    every answer for a day of 2019 before its end says it is approximate."""
    facts = facts_of(("agreement_signed", "2019"), registered="2018-05")
    state = rules.state_on(facts, day(on))
    assert state.status == status
    if status == "active":
        assert state.status_since == bd("2019")
        assert state.status_since.isoformat() == "2019"
    assert rules.approximate_on(facts, day(on)) is approximate


@pytest.mark.parametrize(
    ("on", "status", "approximate"),
    [
        ("2007-12-31", "proposed", False),
        ("2008-01-01", "intent", True),
        ("2008-01-15", "intent", True),
        ("2008-01-31", "intent", False),
        ("2008-02-01", "intent", False),
    ],
)
def test_a_month_only_letter_of_intent(on, status, approximate):
    """A letter of intent of "styczeń 2008" counts from 1 January 2008; days of January before its last are
    approximate."""
    facts = facts_of(("letter_of_intent_signed", "2008-01"), registered="2007")
    state = rules.state_on(facts, day(on))
    assert state.status == status
    if status == "intent":
        assert state.status_since == bd("2008-01")
    assert rules.approximate_on(facts, day(on)) is approximate


def test_a_year_only_registration_makes_its_year_approximate():
    """A partnership registered as existing since "1992" (and nothing else) is approximate during 1992."""
    facts = facts_of(registered="1992")
    assert rules.approximate_on(facts, day("1992-07-01"))
    assert not rules.approximate_on(facts, day("1993-01-01"))
    assert rules.state_on(facts, day("1992-07-01")).status_since == bd("1992")


@pytest.mark.parametrize(
    ("events", "approximate"),
    [
        ([("agreement_signed", "2015-03-01"), ("school_joined", "2019")], True),
        ([("agreement_signed", "2015-03-01"), ("note_added", "2019")], False),
        ([("agreement_signed", "2015-03-01"), ("activity_held", "2019"), retract(3)], False),
        ([("agreement_signed", "2015-03-01"), ("activity_held", "2019-06-05")], False),
        ([("agreement_signed", "2015-03-01"), ("partner_renamed", "2019-06")], True),
    ],
    ids=["school-of-2019", "note-of-2019", "retracted", "a-day", "rename-in-june"],
)
def test_what_makes_an_answer_approximate(events, approximate):
    """An answer for 10 June 2019 is approximate when an entry it rests on (not a note, not a retracted one) is a
    month or a year around that day."""
    assert rules.approximate_on(facts_of(*events), day("2019-06-10")) is approximate


def test_a_notice_of_termination_dated_by_month_is_approximate_in_that_month():
    """A termination effective "2022-06" counts from 1 June: answers in June are approximate; it stands at its
    effective month, not the month of the notice."""
    facts = facts_of(
        ("agreement_signed", "2010-01-01"),
        ("partnership_terminated", "2022-03-10", {"effective_on": "2022-06"}),
    )
    assert rules.state_on(facts, day("2022-05-31")).status == "active"
    assert not rules.approximate_on(facts, day("2022-05-31"))
    june = rules.state_on(facts, day("2022-06-15"))
    assert (june.status, june.status_since) == ("terminated", bd("2022-06"))
    assert rules.approximate_on(facts, day("2022-06-15"))
    assert not rules.approximate_on(facts, day("2022-07-01"))


def test_month_and_day_of_the_same_first_day_fold_in_recording_order():
    """A year, a month and a day that begin on the same day stand in the order they were recorded."""
    facts = facts_of(("agreement_signed", "2019"), ("cooperation_suspended", "2019-01"))
    state = rules.state_on(facts, day("2019-01-01"))
    assert (state.status, state.status_since) == ("suspended", bd("2019-01"))


def test_known_at_and_as_of_over_a_year_only_entry():
    """What the register said before the year-only agreement was entered, about mid-2019: proposed; now: active,
    approximate."""
    facts = facts_of(("school_joined", "2018-03-01"), ("agreement_signed", "2019"))
    before = rules.known_at(facts, facts[-1].recorded_at - timedelta(seconds=1))
    assert rules.state_on(before, day("2019-06-01")).status == "proposed"
    assert not rules.approximate_on(before, day("2019-06-01"))
    assert rules.state_on(facts, day("2019-06-01")).status == "active"
    assert rules.approximate_on(facts, day("2019-06-01"))


# --- status_since is never after the day asked about -------------------------------------------------------

HISTORIES = {
    "entered-late": [
        ("school_joined", "2008-05"),
        ("letter_of_intent_signed", "2009"),
        ("agreement_signed", "2010-06-15"),
        ("cooperation_suspended", "2020-03"),
        ("cooperation_resumed", "2021"),
        ("partnership_terminated", "2022-03-24"),
        ("agreement_signed", "2024-09"),
    ],
    "history-before-the-registration-date": [
        ("activity_held", "2003"),
        ("agreement_signed", "2006-02"),
    ],
    "notes-only": [("note_added", "2001-01-01")],
    "back-dated-and-retracted": [
        ("agreement_signed", "2015-01-01"),
        ("agreement_signed", "2011-04"),
        retract(3),
        ("council_resolution_adopted", "2013", {"purpose": "suspend"}),
    ],
}


def _days(start: date, end: date, step: int = 9) -> list[date]:
    out, current = [], start
    while current <= end:
        out.append(current)
        current += timedelta(days=step)
    return [*out, end]


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_status_since_is_never_after_the_day_asked(name):
    """For a partnership registered today with history dated earlier, the answer for any day from the one it
    exists has a status_since on or before that day (a month or a year counting from its first day)."""
    facts = facts_of(*HISTORIES[name], registered="2005-06" if "registration" in name else None)
    start = rules.exists_from(facts).first
    for asked in _days(start, REGISTERED_ON):
        state = rules.state_on(facts, asked)
        assert state.status_since.first <= asked, (asked, state.status, state.status_since)


def test_status_since_is_never_after_the_day_asked_when_the_first_record_is_a_notice():
    """A partnership whose only record is a termination noticed on 10 March 2022, effective on 30 June: it exists
    from 10 March, and as of 1 April 2022 it is proposed since a day no later than 1 April."""
    facts = facts_of(("partnership_terminated", "2022-03-10", {"effective_on": "2022-06-30"}))
    assert rules.exists_from(facts) == bd("2022-03-10")
    state = rules.state_on(facts, day("2022-04-01"))
    assert state.status == "proposed"
    assert state.status_since.first <= day("2022-04-01")
