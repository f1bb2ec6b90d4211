"""The contract's lifecycle, table by table: what each event may meet (else 409) and what it does to each status.

The expected tables are written out here by hand from the contract's text ("Partnership lifecycle events" and
"Rules"), not read from :mod:`domain.event_types`, so that the two are checked against each other.
"""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain import rules
from domain.errors import InvalidField, NotAllowedInStatus
from domain.event_types import (
    ALREADY,
    ALREADY_FURTHER,
    KEEPS_STATUS,
    NOT_ALLOWED,
    PURPOSE_KEEPS_STATUS,
    PURPOSE_NOT_APPLICABLE,
    RECORDABLE,
)
from domain.partnership import Partnership

from .histories import DATA, STATUSES, TO_STATUS, bd, day, facts_of

TODAY = date(2026, 3, 1)


def table(text: str) -> dict[tuple[str, str], str]:
    """A whitespace-separated table: the first row names the statuses, each other row a type and its cells."""
    lines = [line.split() for line in text.strip().splitlines()]
    statuses = lines[0][1:]
    assert tuple(statuses) == STATUSES
    return {(row[0], status): cell for row in lines[1:] for status, cell in zip(statuses, row[1:], strict=True)}


# --- the 409 rule -----------------------------------------------------------------------------------------

#: "Rules (refused with 409) ...: suspend only an intent or active partnership; resume only a suspended one;
#: after terminated only note_added, event_retracted, partner_renamed, council_resolution_adopted,
#: letter_of_intent_signed and agreement_signed" -- every officer-recorded type against every status.
MAY_MEET = table(
    """
    type                        proposed intent active suspended terminated
    letter_of_intent_signed     yes      yes    yes    yes       yes
    agreement_signed            yes      yes    yes    yes       yes
    council_resolution_adopted  yes      yes    yes    yes       yes
    school_joined               yes      yes    yes    yes       no
    youth_exchange_planned      yes      yes    yes    yes       no
    youth_exchange_held         yes      yes    yes    yes       no
    activity_held               yes      yes    yes    yes       no
    cooperation_suspended       no       yes    yes    no        no
    cooperation_resumed         no       no     no     yes       no
    partnership_terminated      yes      yes    yes    yes       no
    partner_renamed             yes      yes    yes    yes       yes
    inactivity_period_set       yes      yes    yes    yes       no
    note_added                  yes      yes    yes    yes       yes
    event_retracted             yes      yes    yes    yes       yes
    """
)


def test_the_409_table_covers_every_recordable_type():
    """The hand-written table has a row for each of the 14 types an officer records, and only those."""
    assert {name for name, _ in MAY_MEET} == set(RECORDABLE)
    assert len(MAY_MEET) == 14 * 5


@pytest.mark.parametrize(("name", "status"), sorted(MAY_MEET))
def test_allowed_in_follows_the_contracts_rules(name, status):
    """rules.allowed_in answers the contract's Rules for every type and status."""
    assert rules.allowed_in(name, status) is (MAY_MEET[name, status] == "yes")


def _fields(name: str, on: str) -> dict:
    fields = {"occurred_on": on, **DATA.get(name, {})}
    if name == "event_retracted":
        fields.update(retracts=2, reason="entered by mistake")
    if name == "youth_exchange_planned":
        fields["planned_for"] = "2026-09"
    return fields


def partnership_in(status: str) -> Partnership:
    """A partnership whose history (all before 2012) leaves it in ``status``."""
    p = Partnership.register(
        uuid4(),
        recorded_by="ala",
        today=TODAY,
        partner_name="Gmina Testowa",
        partner_country="DE",
        partner_kind="municipality",
        local_party="Gmina Przykładowa",
    )
    for name, on in TO_STATUS[status]:
        p.record(name, _fields(name, on), recorded_by="ala", today=TODAY)
    p.collect_events()
    assert p.state.status == status
    return p


@pytest.mark.parametrize(("name", "status"), sorted(MAY_MEET))
def test_recording_is_refused_with_409_exactly_where_the_rules_say(name, status):
    """Recording each type (dated after the status was reached) is accepted or refused (409, naming the type and
    the status, recording nothing) as the contract's Rules say."""
    p = partnership_in(status)
    version = p.version
    if MAY_MEET[name, status] == "yes":
        p.record(name, _fields(name, "2015-06-01"), recorded_by="ala", today=TODAY)
        assert p.version == version + 1
    else:
        with pytest.raises(NotAllowedInStatus) as err:
            p.record(name, _fields(name, "2015-06-01"), recorded_by="ala", today=TODAY)
        assert (err.value.code, err.value.event_type, err.value.status) == ("not_allowed_in_status", name, status)
        assert p.pending_events == []
        assert p.version == version


@pytest.mark.parametrize("name", ["partnership_registered", "inactivity_flagged", "reminder_acknowledged"])
@pytest.mark.parametrize("status", STATUSES)
def test_system_types_are_never_recorded_through_the_officers_door(name, status):
    """The registration, the job's flags and a manager's acknowledgement cannot be recorded as events, whatever
    the status."""
    p = partnership_in(status)
    with pytest.raises(InvalidField) as err:
        p.record(name, {"occurred_on": "2015-06-01"}, recorded_by="ala", today=TODAY)
    assert (err.value.field, err.value.code) == ("type", "not_recordable")
    assert p.pending_events == []


# --- council resolutions: every purpose against every status ---------------------------------------------

#: "establish and resume: active; suspend: suspended; terminate: terminated; the others: unchanged ... where its
#: purpose cannot change the status it meets, its effect says so". A cell is the status after, or the reason
#: (``=already``: it is already there; ``=keeps``: the purpose never changes a status; ``=n/a``: the purpose
#: cannot change the status it meets, e.g. resume what is not suspended).
PURPOSES = table(
    """
    purpose            proposed    intent      active      suspended   terminated
    establish          active      active      =already    =n/a        active
    resume             =n/a        =n/a        =already    active      =n/a
    suspend            =n/a        suspended   suspended   =already    =n/a
    terminate          terminated  terminated  terminated  terminated  =already
    authorise_signing  =keeps      =keeps      =keeps      =keeps      =keeps
    amend              =keeps      =keeps      =keeps      =keeps      =keeps
    other              =keeps      =keeps      =keeps      =keeps      =keeps
    """
)
REASONS = {"=already": ALREADY, "=keeps": PURPOSE_KEEPS_STATUS, "=n/a": PURPOSE_NOT_APPLICABLE}


def expected_effect(cell: str, status: str) -> dict[str, str]:
    """The contract's ``effect`` for a cell of a table."""
    if cell in REASONS:
        return {"none": REASONS[cell], "status": status}
    return {"status_before": status, "status_after": cell}


def test_the_purpose_table_covers_the_contracts_seven_purposes():
    """Seven purposes against five statuses: 35 cases."""
    assert len(PURPOSES) == 35


@pytest.mark.parametrize(("purpose", "status"), sorted(PURPOSES))
def test_a_resolutions_effect_by_purpose_and_status(purpose, status):
    """The status after a resolution and its effect code follow the purpose table."""
    cell = PURPOSES[purpose, status]
    effect = rules.transition("council_resolution_adopted", status, {"purpose": purpose})
    assert effect.as_dict() == expected_effect(cell, status)


@pytest.mark.parametrize(("purpose", "status"), sorted(PURPOSES))
def test_a_resolution_is_always_recorded_and_acts_by_its_purpose(purpose, status):
    """A resolution is a council's decision: it is recorded whatever the status it meets (never 409); the status
    after it, its status_since and its effect in the history follow the purpose table."""
    p = partnership_in(status)
    since = p.state.status_since
    p.record(
        "council_resolution_adopted",
        {"occurred_on": "2015-06", "purpose": purpose, "resolution_number": "XL/12/2015"},
        recorded_by="ala",
        today=TODAY,
    )
    cell = PURPOSES[purpose, status]
    state = p.state
    if cell in REASONS:
        assert (state.status, state.status_since) == (status, since)
    else:
        assert (state.status, state.status_since) == (cell, bd("2015-06"))
    assert rules.effects(p.fact_list())[p.version].as_dict() == expected_effect(cell, status)
    assert "XL/12/2015" in state.references


# --- every type against every status: the effect ---------------------------------------------------------

#: The lifecycle table's "status after" for every type, as a cell per status (``=not``: not allowed in that
#: status -- refused when recorded, and no effect where history entered late makes it meet that status;
#: ``=further``: a letter of intent after the agreement).
EFFECTS = table(
    """
    type                        proposed    intent      active      suspended   terminated
    letter_of_intent_signed     intent      =already    =further    =further    intent
    agreement_signed            active      active      =already    active      active
    school_joined               =keeps      =keeps      =keeps      =keeps      =not
    youth_exchange_planned      =keeps      =keeps      =keeps      =keeps      =not
    youth_exchange_held         =keeps      =keeps      =keeps      =keeps      =not
    activity_held               =keeps      =keeps      =keeps      =keeps      =not
    cooperation_suspended       =not        suspended   suspended   =not        =not
    cooperation_resumed         =not        =not        =not        active      =not
    partnership_terminated      terminated  terminated  terminated  terminated  =not
    partner_renamed             =keeps      =keeps      =keeps      =keeps      =keeps
    inactivity_period_set       =keeps      =keeps      =keeps      =keeps      =not
    note_added                  =keeps      =keeps      =keeps      =keeps      =keeps
    """
)
TYPE_REASONS = {"=already": ALREADY, "=further": ALREADY_FURTHER, "=keeps": KEEPS_STATUS, "=not": NOT_ALLOWED}


@pytest.mark.parametrize(("name", "status"), sorted(EFFECTS))
def test_each_types_effect_on_each_status(name, status):
    """rules.transition gives each type's status after, or the code of why none, for every status it may meet."""
    cell = EFFECTS[name, status]
    effect = rules.transition(name, status, DATA.get(name, {}))
    if cell in TYPE_REASONS:
        assert effect.as_dict() == {"none": TYPE_REASONS[cell], "status": status}
    else:
        assert effect.as_dict() == {"status_before": status, "status_after": cell}


@pytest.mark.parametrize(("name", "status"), sorted(EFFECTS))
def test_each_types_effect_in_the_fold(name, status):
    """In the fold of a history, an event dated after the status was reached has the effect of the table."""
    facts = facts_of(*TO_STATUS[status], (name, "2015-06-01"))
    state = rules.fold(facts)
    version = facts[-1].version
    cell = EFFECTS[name, status]
    assert state.effects[version] == rules.transition(name, status, DATA.get(name, {}))
    assert state.status == (status if cell in TYPE_REASONS else cell)
    assert (version in state.applied) is (cell != "=not")
    if cell not in TYPE_REASONS:
        assert state.status_since == bd("2015-06-01")
    assert rules.state_on(facts, day("2015-05-31")).status == status


@pytest.mark.parametrize(
    ("events", "effect"),
    [
        (
            [("agreement_signed", "2010-01-01"), ("letter_of_intent_signed", "2011-01-01")],
            {"none": "already_further", "status": "active"},
        ),
        (
            [("letter_of_intent_signed", "2010-01-01"), ("letter_of_intent_signed", "2011-01-01")],
            {"none": "already_in_status", "status": "intent"},
        ),
        (
            [("agreement_signed", "2010-01-01"), ("agreement_signed", "2011-01-01")],
            {"none": "already_in_status", "status": "active"},
        ),
        (
            [
                ("agreement_signed", "2010-01-01"),
                ("partnership_terminated", "2011-01-01"),
                ("agreement_signed", "2019"),
            ],
            {"status_before": "terminated", "status_after": "active"},
        ),
        (
            [("agreement_signed", "2010-01-01"), ("cooperation_suspended", "2011-01-01"), ("note_added", "2012-01")],
            {"none": "keeps_status", "status": "suspended"},
        ),
        (
            [
                ("agreement_signed", "2010-01-01"),
                ("cooperation_suspended", "2020-01-01"),
                ("cooperation_resumed", "2019"),
            ],
            {"none": "not_allowed_in_status", "status": "active"},
        ),
    ],
    ids=[
        "letter-after-agreement",
        "second-letter",
        "agreement-on-active",
        "renewal",
        "note",
        "resume-before-the-suspension",
    ],
)
def test_effect_codes_in_a_history(events, effect):
    """The effect an entry has in its history, in the contract's shape (before/after, or none with the status)."""
    facts = facts_of(*events)
    assert rules.effects(facts)[facts[-1].version].as_dict() == effect
