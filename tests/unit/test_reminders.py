"""Reminders: opened by the inactivity job's flags, closed by themselves when later activity ends the spell (or
the planned exchange is held), acknowledged by a manager when they stay; retracted flags open none."""

from __future__ import annotations

from domain import rules

from .histories import acknowledge, facts_of, flag, held, plan, plan_flag, retract

#: active since 2020, silent since: the job flagged the spell on 2021-01-05 (version 3)
SILENT = [("agreement_signed", "2020-01-01"), flag("2020-01-01", "2021-01-05")]
#: a plan made on 2024-03-01 for 2024-06-01 (version 3), flagged overdue on 2024-06-02 (version 4)
OVERDUE = [
    ("agreement_signed", "2024-01-01"),
    plan("2024-03-01", "2024-06-01"),
    plan_flag(3, "2024-06-01", "2024-06-02"),
]


def summary(*events: tuple) -> list[tuple[int, str, bool, int | None, int | None]]:
    """Each reminder as (flag version, kind, open, acknowledged by, closed by)."""
    return [
        (
            r.flag.version,
            r.kind,
            r.is_open,
            r.acknowledgement.version if r.acknowledgement else None,
            r.closed_by.version if r.closed_by else None,
        )
        for r in rules.reminders(facts_of(*events))
    ]


def test_a_flag_opens_a_reminder():
    """Each flag of the job opens a reminder, oldest first, open until something closes it."""
    assert summary(*SILENT) == [(3, "inactive", True, None, None)]
    assert summary(*OVERDUE) == [(4, "exchange_overdue", True, None, None)]
    assert rules.open_reminder(facts_of(*SILENT), 3)
    assert not rules.open_reminder(facts_of(*SILENT), 2)


def test_activity_after_the_spell_closes_the_inactive_reminder():
    """An activity dated after the spell's last activity, recorded later, ends the spell: the reminder closes by
    itself, naming that activity."""
    assert summary(*SILENT, ("activity_held", "2021-02-01")) == [(3, "inactive", False, None, 4)]
    assert not rules.open_reminder(facts_of(*SILENT, ("activity_held", "2021-02-01")), 3)


def test_activity_dated_by_month_after_the_spell_closes_it():
    """Activity of "2020-01", which may have been after 1 January 2020, counts to its last day and ends that spell."""
    assert summary(*SILENT, ("school_joined", "2020-01")) == [(3, "inactive", False, None, 4)]


def test_activity_back_dated_into_the_spell_does_not_close_it():
    """Activity entered late but dated before the spell's last activity does not end the spell."""
    assert summary(*SILENT, ("activity_held", "2019-06-01")) == [(3, "inactive", True, None, None)]


def test_what_is_not_activity_does_not_close_it():
    """A note, a plan or a rename after the flag leaves the reminder open."""
    events = [*SILENT, ("note_added", "2021-02-01"), plan("2021-02-02", "2022-01-01"), ("partner_renamed", "2021-03")]
    assert summary(*events) == [(3, "inactive", True, None, None)]


def test_retracting_the_closing_activity_reopens_the_reminder():
    """If the activity that closed the reminder is retracted, the spell never ended: the reminder is open again."""
    assert summary(*SILENT, ("activity_held", "2021-02-01"), retract(4)) == [(3, "inactive", True, None, None)]


def test_an_exchange_held_since_the_plan_closes_the_overdue_reminder():
    """An exchange held on or after the plan's date, recorded after the flag, closes the exchange_overdue reminder."""
    assert summary(*OVERDUE, held("2024-06-20")) == [(4, "exchange_overdue", False, None, 5)]
    assert summary(*OVERDUE, held("2024-03-01")) == [(4, "exchange_overdue", False, None, 5)]


def test_an_exchange_dated_by_year_closes_the_overdue_reminder():
    """An exchange known only as "2024" may have been after the plan: it closes the reminder."""
    assert summary(*OVERDUE, held("2024")) == [(4, "exchange_overdue", False, None, 5)]


def test_an_exchange_held_before_the_plan_does_not_close_it():
    """An exchange held before the plan was made (entered late) is another exchange: the reminder stays open."""
    assert summary(*OVERDUE, held("2024-02-28")) == [(4, "exchange_overdue", True, None, None)]


def test_other_activity_does_not_close_an_overdue_reminder():
    """Only the exchange held closes an exchange_overdue reminder; a visit does not."""
    assert summary(*OVERDUE, ("activity_held", "2024-07-01")) == [(4, "exchange_overdue", True, None, None)]


def test_retracting_the_plan_closes_its_reminder():
    """A plan retracted after it was flagged has nothing to chase: its reminder closes with the retraction."""
    assert summary(*OVERDUE, retract(3)) == [(4, "exchange_overdue", False, None, 5)]


def test_an_acknowledged_reminder_is_closed():
    """A manager's acknowledgement closes the reminder it names, and only that one."""
    events = [
        *SILENT,
        plan("2020-02-01", "2020-06-01"),
        plan_flag(4, "2020-06-01", "2021-01-05"),
        acknowledge(3, "2021-01-06"),
    ]
    assert summary(*events) == [(3, "inactive", False, 6, None), (5, "exchange_overdue", True, None, None)]


def test_retracting_an_acknowledgement_reopens_the_reminder():
    """A manager who retracts an acknowledgement has the reminder open again."""
    assert summary(*SILENT, acknowledge(3, "2021-01-06"), retract(4)) == [(3, "inactive", True, None, None)]


def test_a_retracted_flag_opens_no_reminder():
    """A flag that was retracted is no reminder at all, open or closed."""
    assert summary(*SILENT, retract(3)) == []
    assert summary(*OVERDUE, retract(4)) == []
    assert not rules.open_reminder(facts_of(*SILENT, retract(3)), 3)


def test_each_spell_has_its_own_reminder():
    """A new spell after new activity gets its own flag and reminder; the first is closed by the activity."""
    events = [*SILENT, ("activity_held", "2022-03-01"), flag("2022-03-01", "2023-03-05")]
    assert summary(*events) == [(3, "inactive", False, None, 4), (5, "inactive", True, None, None)]
