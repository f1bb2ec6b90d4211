"""The contract's inactivity rules with explicit dates: who counts as inactive, when a spell is flagged, overdue plans.

Every case states its own dates; nothing here reads a clock. The aggregate's
``flag_inactivity`` (which the scan calls) is checked against the same tables.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain import rules
from domain.dates import BusinessDate
from domain.event_types import ACTIVITY_TYPES
from domain.partnership import Partnership
from domain.rules import Fact

RECORDED = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

#: the smallest data of each type the fold reads
DATA: dict[str, dict[str, Any]] = {
    "letter_of_intent_signed": {},
    "agreement_signed": {"agreement_kind": "partnership"},
    "council_resolution_adopted": {"purpose": "establish", "resolution_number": "XXI/150/2009"},
    "school_joined": {"school_name": "Liceum im. Kopernika", "side": "local"},
    "youth_exchange_planned": {"planned_for": date(2031, 7, 1)},
    "youth_exchange_held": {"ends_on": date(2031, 7, 10), "participants": 20},
    "activity_held": {"activity_kind": "visit", "title": "Wizyta studyjna"},
    "cooperation_suspended": {"reason": "wybory"},
    "cooperation_resumed": {},
    "partnership_terminated": {"reason": "połączenie gmin"},
    "note_added": {"text": "telefon"},
    "inactivity_flagged": {"kind": "inactive", "last_activity_on": date(2001, 1, 1)},
    "reminder_acknowledged": {"flagged_version": 99},
}


def d(text: str) -> date:
    """A calendar day (the job's ``today``)."""
    return date.fromisoformat(text)


def bd(text: str) -> BusinessDate:
    """A business date as given: a day, a month or a year."""
    return BusinessDate.parse(text)


def facts_of(*events: tuple) -> list[Fact]:
    """The registration (version 1, on 2000-01-01), then each (type, occurred_on[, data]) as versions 2, 3, ...

    ``occurred_on`` is the text as given: a day, a month or a year.
    """
    facts = [
        Fact(1, "partnership_registered", d("2000-01-01"), RECORDED, {"registered_on": d("2026-11-26"), "areas": []})
    ]
    for i, (type_, on, *rest) in enumerate(events):
        data = {**DATA.get(type_, {}), **(rest[0] if rest else {})}
        facts.append(Fact(i + 2, type_, on, RECORDED + timedelta(minutes=i + 1), data))
    return facts


def state(*events: tuple) -> rules.State:
    return rules.fold(facts_of(*events))


def retraction(version: int, on: str = "2026-11-01") -> tuple:
    return ("event_retracted", on, {"retracts": version, "reason": "pomyłka"})


def flag(last_activity_on: str, on: str) -> tuple:
    return ("inactivity_flagged", on, {"kind": "inactive", "last_activity_on": bd(last_activity_on)})


def plan(on: str, planned_for: str) -> tuple:
    return ("youth_exchange_planned", on, {"planned_for": bd(planned_for)})


def held(on: str) -> tuple:
    return ("youth_exchange_held", on, {"ends_on": d(on) + timedelta(days=5), "participants": 12})


def plan_flag(plan_version: int, planned_for: str, on: str) -> tuple:
    return (
        "inactivity_flagged",
        on,
        {"kind": "exchange_overdue", "plan_version": plan_version, "planned_for": bd(planned_for)},
    )


# --- status: only intent and active partnerships can be inactive ------------------------------------


@pytest.mark.parametrize(
    ("events", "status", "inactive"),
    [
        ([], "proposed", False),
        ([("school_joined", "2010-01-01")], "proposed", False),
        ([("activity_held", "2010-01-01")], "proposed", False),
        ([("letter_of_intent_signed", "2010-01-01")], "intent", True),
        ([("agreement_signed", "2010-01-01")], "active", True),
        ([("council_resolution_adopted", "2010-01-01")], "active", True),
        ([("agreement_signed", "2010-01-01"), ("cooperation_suspended", "2010-06-01")], "suspended", False),
        ([("letter_of_intent_signed", "2010-01-01"), ("cooperation_suspended", "2010-06-01")], "suspended", False),
        ([("agreement_signed", "2010-01-01"), ("partnership_terminated", "2010-06-01")], "terminated", False),
        (
            [
                ("agreement_signed", "2010-01-01"),
                ("cooperation_suspended", "2011-01-01"),
                ("cooperation_resumed", "2012-01-01"),
            ],
            "active",
            True,
        ),
        (
            [("agreement_signed", "2010-01-01"), ("partnership_terminated", "2011-01-01"), retraction(3)],
            "active",
            True,
        ),
    ],
    ids=[
        "proposed-no-activity",
        "proposed-school",
        "proposed-activity",
        "intent",
        "active-agreement",
        "active-resolution",
        "suspended-from-active",
        "suspended-from-intent",
        "terminated",
        "resumed",
        "termination-retracted",
    ],
)
def test_only_intent_and_active_count_as_inactive(events: list[tuple], status: str, inactive: bool) -> None:
    """After 16 silent years only an intent or active partnership is inactive; proposed/suspended/terminated never."""
    s = state(*events)
    assert s.status == status
    assert rules.is_inactive(s, d("2026-11-26"), 365) is inactive
    assert rules.needs_inactivity_flag(s, d("2026-11-26"), 365) is inactive


# --- the threshold: more than N days ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "today", "days", "inactive"),
    [
        ("2025-11-26", "2026-11-26", 365, False),  # exactly N days
        ("2025-11-25", "2026-11-26", 365, True),  # N + 1
        ("2025-11-27", "2026-11-26", 365, False),  # N - 1
        ("2024-02-28", "2025-02-27", 365, False),  # across 29 February: 365 days
        ("2024-02-28", "2025-02-28", 365, True),  # 366 days
        ("2026-10-27", "2026-11-26", 30, False),
        ("2026-10-26", "2026-11-26", 30, True),
        ("2026-11-25", "2026-11-26", 1, False),
        ("2026-11-24", "2026-11-26", 1, True),
        ("2026-11-26", "2026-11-26", 1, False),  # activity today
        ("2027-01-01", "2026-11-26", 1, False),  # activity after the job's today
    ],
)
def test_inactive_only_more_than_n_days_after_the_last_activity(
    last: str, today: str, days: int, inactive: bool
) -> None:
    """Exactly N days of silence is not inactive, N + 1 days is."""
    s = state(("agreement_signed", "2000-06-01"), ("activity_held", last))
    assert s.last_activity_on == bd(last)
    assert rules.is_inactive(s, d(today), days) is inactive
    assert rules.needs_inactivity_flag(s, d(today), days) is inactive


# --- what counts as activity ----------------------------------------------------------------------------


def _recent(event_type: str) -> list[tuple]:
    """An agreement in 2010, then one event of ``event_type`` on 2026-06-01 (a suspension first for a resumption)."""
    before = [("cooperation_suspended", "2026-05-01")] if event_type == "cooperation_resumed" else []
    return [("agreement_signed", "2010-01-01"), *before, (event_type, "2026-06-01")]


@pytest.mark.parametrize("event_type", sorted(ACTIVITY_TYPES))
def test_each_activity_type_counts(event_type: str) -> None:
    """Each of the contract's seven activity types moves last_activity_on and ends the silence."""
    s = state(*_recent(event_type))
    assert s.last_activity_on == bd("2026-06-01")
    assert not rules.is_inactive(s, d("2026-11-26"), 365)


def test_the_activity_types_are_the_contracts_seven() -> None:
    """Exactly the seven types the contract lists count as activity."""
    assert (
        frozenset(
            {
                "letter_of_intent_signed",
                "agreement_signed",
                "council_resolution_adopted",
                "school_joined",
                "youth_exchange_held",
                "activity_held",
                "cooperation_resumed",
            }
        )
        == ACTIVITY_TYPES
    )


@pytest.mark.parametrize(
    "event",
    [
        ("note_added", "2026-06-01"),
        plan("2026-06-01", "2031-07-01"),
        flag("2010-01-01", "2026-06-01"),
        ("reminder_acknowledged", "2026-06-01"),
        ("cooperation_suspended", "2026-06-01"),
    ],
    ids=lambda e: e[0],
)
def test_non_activity_types_do_not_count(event: tuple) -> None:
    """A note, a plan, a flag or an acknowledgement does not end the silence."""
    s = state(("agreement_signed", "2010-01-01"), event)
    assert s.last_activity_on == bd("2010-01-01")
    assert rules.is_inactive(s, d("2026-11-26"), 365) is (s.status == "active")


def test_retracted_activity_is_ignored() -> None:
    """A retracted activity counts as if it never happened: last_activity_on falls back to the one before."""
    s = state(("agreement_signed", "2010-01-01"), ("activity_held", "2026-06-01"), retraction(3))
    assert s.last_activity_on == bd("2010-01-01")
    assert rules.is_inactive(s, d("2026-11-26"), 365)


def test_last_activity_is_the_latest_business_date_not_the_last_recorded() -> None:
    """History entered late (an older activity recorded after a newer one) does not move last_activity_on back."""
    s = state(("agreement_signed", "2026-06-01"), ("activity_held", "2012-01-01"))
    assert s.last_activity_on == bd("2026-06-01")
    assert not rules.is_inactive(s, d("2026-11-26"), 365)


# --- once per spell --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "today", "needs"),
    [
        ([("agreement_signed", "2020-01-01")], "2026-11-26", True),
        ([("agreement_signed", "2020-01-01"), flag("2020-01-01", "2021-01-02")], "2026-11-26", False),
        # an older spell's flag does not cover the current spell
        (
            [("agreement_signed", "2018-01-01"), flag("2018-01-01", "2019-01-03"), ("activity_held", "2020-01-01")],
            "2026-11-26",
            True,
        ),
        # new activity ended the spell; the new one has not started yet (exactly 365 days)
        (
            [("agreement_signed", "2018-01-01"), flag("2018-01-01", "2019-01-03"), ("activity_held", "2025-11-26")],
            "2026-11-26",
            False,
        ),
        # the new activity was retracted: the first spell never ended, and it is flagged already
        (
            [
                ("agreement_signed", "2018-01-01"),
                flag("2018-01-01", "2019-01-03"),
                ("activity_held", "2026-06-01"),
                retraction(4),
            ],
            "2026-11-26",
            False,
        ),
        # the flag itself was retracted: as if never flagged
        ([("agreement_signed", "2020-01-01"), flag("2020-01-01", "2021-01-02"), retraction(3)], "2026-11-26", True),
        # an exchange-overdue flag is not an inactivity flag
        (
            [
                ("agreement_signed", "2020-01-01"),
                plan("2020-02-01", "2020-06-01"),
                plan_flag(3, "2020-06-01", "2020-06-02"),
            ],
            "2026-11-26",
            True,
        ),
    ],
    ids=[
        "unflagged",
        "flagged",
        "older-spell-flagged",
        "new-activity-ends-spell",
        "retracted-activity-same-spell",
        "retracted-flag",
        "plan-flag-is-not-a-spell-flag",
    ],
)
def test_a_spell_is_flagged_once(events: list[tuple], today: str, needs: bool) -> None:
    """A spell of inactivity (identified by its last_activity_on) needs exactly one inactivity flag."""
    s = state(*events)
    assert rules.needs_inactivity_flag(s, d(today), 365) is needs
    if rules.is_inactive(s, d(today), 365):
        assert rules.spell_flagged(s) is not needs


# --- overdue plans ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "overdue"),
    [("2026-05-31", False), ("2026-06-01", False), ("2026-06-02", True), ("2027-01-01", True)],
    ids=["before", "planned-for-today", "the-day-after", "long-after"],
)
def test_a_plan_is_overdue_only_after_its_day(today: str, overdue: bool) -> None:
    """planned_for today is not overdue yet; the day after it is."""
    s = state(("agreement_signed", "2026-01-01"), plan("2026-01-10", "2026-06-01"))
    assert rules.overdue_plans(s, d(today)) == ([(3, bd("2026-06-01"))] if overdue else [])


@pytest.mark.parametrize(
    ("held_on", "overdue"),
    [
        ("2025-12-31", True),  # held before the plan was made: another exchange
        ("2026-01-09", True),  # the day before the plan
        ("2026-01-10", False),  # on the plan's own occurred_on
        ("2026-03-01", False),  # between the plan and its date
        ("2026-06-01", False),  # on the planned day
        ("2026-06-15", False),  # late, but held
    ],
)
def test_an_exchange_held_on_or_after_the_plan_satisfies_it(held_on: str, overdue: bool) -> None:
    """Only a youth_exchange_held on or after the plan's occurred_on satisfies the plan."""
    s = state(("agreement_signed", "2025-01-01"), held(held_on), plan("2026-01-10", "2026-06-01"))
    assert bool(rules.overdue_plans(s, d("2026-11-26"))) is overdue


def test_a_retracted_exchange_does_not_satisfy_and_a_retracted_plan_is_not_chased() -> None:
    """Retracting the exchange leaves the plan overdue; retracting the plan leaves nothing to chase."""
    base = [("agreement_signed", "2025-01-01"), plan("2026-01-10", "2026-06-01"), held("2026-06-01")]
    assert rules.overdue_plans(state(*base), d("2026-11-26")) == []
    assert rules.overdue_plans(state(*base, retraction(4)), d("2026-11-26")) == [(3, bd("2026-06-01"))]
    assert rules.overdue_plans(state(*base[:2], retraction(3)), d("2026-11-26")) == []


def test_each_plan_is_flagged_once_and_separately() -> None:
    """A plan flagged as overdue is done; another plan of the same partnership is flagged on its own."""
    events = [("agreement_signed", "2025-01-01"), plan("2026-01-10", "2026-06-01"), plan("2026-01-11", "2026-07-01")]
    assert rules.overdue_plans(state(*events), d("2026-11-26")) == [(3, bd("2026-06-01")), (4, bd("2026-07-01"))]
    flagged_first = [*events, plan_flag(3, "2026-06-01", "2026-06-02")]
    assert rules.overdue_plans(state(*flagged_first), d("2026-11-26")) == [(4, bd("2026-07-01"))]
    both = [*flagged_first, plan_flag(4, "2026-07-01", "2026-07-02")]
    assert rules.overdue_plans(state(*both), d("2026-11-26")) == []


def test_an_exchange_satisfies_every_plan_made_on_or_before_it() -> None:
    """One exchange held satisfies the earlier plans, not a plan made after it."""
    s = state(
        ("agreement_signed", "2025-01-01"),
        plan("2025-02-01", "2025-06-01"),
        held("2025-05-20"),
        plan("2025-09-01", "2026-06-01"),
    )
    assert rules.overdue_plans(s, d("2026-11-26")) == [(5, bd("2026-06-01"))]


def test_a_terminated_partnerships_plans_are_not_overdue() -> None:
    """After termination a plan is not chased."""
    s = state(
        ("agreement_signed", "2025-01-01"), plan("2026-01-10", "2026-06-01"), ("partnership_terminated", "2026-02-01")
    )
    assert rules.overdue_plans(s, d("2026-11-26")) == []


def test_an_inactivity_flag_does_not_settle_a_plan() -> None:
    """Flagging the spell of inactivity leaves an overdue plan to be flagged on its own."""
    s = state(("agreement_signed", "2020-01-01"), plan("2020-02-01", "2020-06-01"), flag("2020-01-01", "2021-01-02"))
    assert rules.overdue_plans(s, d("2026-11-26")) == [(3, bd("2020-06-01"))]


# --- the aggregate records what the rules say, once ---------------------------------------------------------


def _partnership(*events: tuple[str, str, dict[str, Any]]) -> Partnership:
    p = Partnership.register(
        uuid4(),
        recorded_by="ala",
        today=d("2026-11-26"),
        partner_name="Gmina Testowa",
        partner_country="DE",
        partner_kind="municipality",
        local_party="Gmina Przykładowa",
        occurred_on=d("2010-01-01"),
    )
    for type_, on, fields in events:
        p.record(type_, {"occurred_on": on, **fields}, recorded_by="ala", today=d("2026-11-26"))
    return p


def _flags(p: Partnership) -> list[dict[str, Any]]:
    return [f.data for f in p.fact_list() if f.type == "inactivity_flagged"]


def test_flag_inactivity_records_a_spell_once_and_an_overdue_plan_once() -> None:
    """flag_inactivity writes one inactive flag per spell and one exchange_overdue flag per plan, then nothing."""
    p = _partnership(
        ("agreement_signed", "2020-01-01", {"agreement_kind": "partnership"}),
        ("youth_exchange_planned", "2020-02-01", {"planned_for": "2020-06-01"}),
    )
    versions = p.flag_inactivity(today=d("2026-11-26"), days=365)
    assert versions == [4, 5]
    assert _flags(p) == [
        {"kind": "inactive", "last_activity_on": bd("2020-01-01")},
        {"kind": "exchange_overdue", "planned_for": bd("2020-06-01"), "plan_version": 3},
    ]
    assert all(f.occurred_on == bd("2026-11-26") for f in p.fact_list() if f.type == "inactivity_flagged")
    assert p.flag_inactivity(today=d("2026-11-26"), days=365) == []
    assert p.flag_inactivity(today=d("2027-11-26"), days=365) == []
    assert len(_flags(p)) == 2


def test_flag_inactivity_after_new_activity_flags_the_new_spell() -> None:
    """New activity ends the spell; once the new silence passes N days it is flagged again, with the new date."""
    p = _partnership(("agreement_signed", "2020-01-01", {"agreement_kind": "partnership"}))
    assert p.flag_inactivity(today=d("2021-01-02"), days=365) == [3]
    p.record(
        "activity_held",
        {"occurred_on": d("2022-03-01"), "activity_kind": "visit", "title": "Wizyta"},
        recorded_by="ala",
        today=d("2026-11-26"),
    )
    assert p.flag_inactivity(today=d("2023-03-01"), days=365) == []  # exactly 365 days
    assert p.flag_inactivity(today=d("2023-03-02"), days=365) == [5]
    assert [f["last_activity_on"] for f in _flags(p)] == [bd("2020-01-01"), bd("2022-03-01")]


@pytest.mark.parametrize("final", ["cooperation_suspended", "partnership_terminated"])
def test_flag_inactivity_skips_suspended_and_terminated(final: str) -> None:
    """A suspended or terminated partnership gets no inactivity flag, however long it has been quiet."""
    p = _partnership(
        ("agreement_signed", "2012-01-01", {"agreement_kind": "partnership"}),
        (final, "2013-01-01", {"reason": "wybory"}),
    )
    assert p.flag_inactivity(today=d("2026-11-26"), days=365) == []


def test_a_threshold_longer_than_the_calendar_is_never_inactive() -> None:
    """With N larger than the days since year 1, nothing is inactive (and nothing crashes)."""
    s = state(("agreement_signed", "2010-01-01"))
    assert rules.is_inactive(s, d("2026-11-26"), 1_000_000) is False


# --- a month or a year counts to its last day -------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "today", "inactive"),
    [
        ("2019", "2020-06-01", False),  # a "2019" activity may have been in December 2019
        ("2019", "2020-12-30", False),  # 365 days after 31 December 2019 (2020 is a leap year)
        ("2019", "2020-12-31", True),  # 366 days
        ("2021", "2022-12-31", False),  # 365 days after 31 December 2021
        ("2021", "2023-01-01", True),
        ("2019-01-01", "2020-01-02", True),  # the same year as a day: inactive a year earlier
        ("2024-02", "2025-02-28", False),  # 29 February 2024 + 365 days
        ("2024-02", "2025-03-01", True),
        ("2023-11", "2024-11-29", False),  # 30 November 2023 + 365 days (29 February between)
        ("2023-11", "2024-11-30", True),
    ],
)
def test_a_year_or_month_of_last_activity_counts_to_its_last_day(last: str, today: str, inactive: bool) -> None:
    """Activity known only as "2019" counts as on 31 December 2019: the silence is measured from the period's end,
    so nothing nags a partnership because its record is imprecise."""
    s = state(("agreement_signed", "2000-06-01"), ("activity_held", last))
    assert s.last_activity_on == bd(last)
    assert rules.is_inactive(s, d(today), 365) is inactive
    assert rules.needs_inactivity_flag(s, d(today), 365) is inactive


def test_flag_inactivity_flags_a_year_only_spell_once_under_the_date_as_given() -> None:
    """The flag of a spell whose last activity is "2019" carries "2019" (nothing invents a day), once."""
    p = _partnership(("agreement_signed", "2019", {"agreement_kind": "partnership"}))
    assert p.flag_inactivity(today=d("2020-12-30"), days=365) == []
    assert p.flag_inactivity(today=d("2020-12-31"), days=365) == [3]
    assert _flags(p) == [{"kind": "inactive", "last_activity_on": bd("2019")}]
    assert _flags(p)[0]["last_activity_on"].isoformat() == "2019"
    assert p.flag_inactivity(today=d("2022-01-01"), days=365) == []


# --- the partnership's own period ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "today", "inactive"),
    [
        ([("inactivity_period_set", "2020-02-01", {"days": 1095})], "2022-06-01", False),
        ([("inactivity_period_set", "2020-02-01", {"days": 1095})], "2022-12-31", False),  # 1095 days
        ([("inactivity_period_set", "2020-02-01", {"days": 1095})], "2023-01-01", True),
        ([("inactivity_period_set", "2020-02-01", {"days": 30})], "2020-01-31", False),
        ([("inactivity_period_set", "2020-02-01", {"days": 30})], "2020-02-01", True),
        (
            [
                ("inactivity_period_set", "2020-02-01", {"days": 1095}),
                ("inactivity_period_set", "2020-03-01", {"days": None}),
            ],
            "2021-01-01",
            True,
        ),
        ([("inactivity_period_set", "2020-02-01", {"days": 1095}), retraction(3)], "2021-01-01", True),
    ],
    ids=["3y-early", "3y-exactly", "3y-after", "30d-exactly", "30d-after", "reset-to-default", "retracted"],
)
def test_the_partnerships_own_period_decides(events: list[tuple], today: str, inactive: bool) -> None:
    """With its own period (inactivity_period_set) a partnership is inactive only after more than that many
    days; null or a retraction returns it to the register's default (365 here)."""
    s = state(("agreement_signed", "2020-01-01"), *events)
    assert rules.is_inactive(s, d(today), 365) is inactive
    assert rules.needs_inactivity_flag(s, d(today), 365) is inactive


def test_flag_inactivity_follows_the_partnerships_own_period() -> None:
    """A partnership that meets every three years is not flagged by the yearly default, only after three years."""
    p = _partnership(
        ("agreement_signed", "2020-01-01", {"agreement_kind": "partnership"}),
        ("inactivity_period_set", "2020-01-02", {"days": 1095}),
    )
    assert p.flag_inactivity(today=d("2021-06-01"), days=365) == []
    assert p.flag_inactivity(today=d("2022-12-31"), days=365) == []
    assert p.flag_inactivity(today=d("2023-01-01"), days=365) == [4]
