"""Effects, shown after the fact: what each entry does to the status now, and the entries a back-dated one made
ineffective, each with the entry that did it."""

from __future__ import annotations

from domain import rules
from domain.event_types import NOT_ALLOWED, PURPOSE_NOT_APPLICABLE

from .histories import facts_of, retract

#: an active partnership suspended in May 2020 and resumed in 2021, entered in that order (versions 2, 3, 4)
SUSPENDED_AND_RESUMED = [
    ("agreement_signed", "2018"),
    ("cooperation_suspended", "2020-05", {"reason": "pandemic"}),
    ("cooperation_resumed", "2021"),
]


def effects(*events: tuple) -> dict[int, dict]:
    return {v: e.as_dict() for v, e in rules.effects(facts_of(*events)).items()}


def test_every_entry_has_its_effect():
    """Each entry, the registration included, answers with its effect: the status before and after, or why none."""
    assert effects(*SUSPENDED_AND_RESUMED, ("note_added", "2022-01-01")) == {
        1: {"none": "keeps_status", "status": "proposed"},
        2: {"status_before": "proposed", "status_after": "active"},
        3: {"status_before": "active", "status_after": "suspended"},
        4: {"status_before": "suspended", "status_after": "active"},
        5: {"none": "keeps_status", "status": "active"},
    }


def test_a_retracted_entry_and_its_retraction():
    """A retracted entry has no effect any more (none: retracted); the retraction's effect is the status before it
    and after it."""
    out = effects(("agreement_signed", "2018"), ("cooperation_suspended", "2020-05"), retract(3))
    assert out[3] == {"none": "retracted", "status": "active"}
    assert out[4] == {"status_before": "suspended", "status_after": "active"}


def test_a_retraction_that_changes_no_status():
    """Retracting a note changes no status: the retraction says so."""
    out = effects(("agreement_signed", "2018"), ("note_added", "2019"), retract(3))
    assert out[4] == {"none": "keeps_status", "status": "active"}


def test_nothing_is_ineffective_in_a_history_entered_in_order():
    """A history entered in business order has no entry made ineffective."""
    assert rules.made_ineffective(facts_of(*SUSPENDED_AND_RESUMED)) == {}


def test_a_back_dated_termination_makes_the_later_suspension_and_resumption_ineffective():
    """A termination dated 2019, recorded after the 2020 suspension and the 2021 resumption, leaves both without
    effect (not allowed in the terminated partnership they now meet); each is marked with the termination."""
    facts = facts_of(*SUSPENDED_AND_RESUMED, ("partnership_terminated", "2019", {"reason": "merger"}))
    state = rules.fold(facts)
    assert (state.status, state.status_since.isoformat()) == ("terminated", "2019")
    now = rules.effects(facts)
    assert now[3].as_dict() == {"none": NOT_ALLOWED, "status": "terminated"}
    assert now[4].as_dict() == {"none": NOT_ALLOWED, "status": "terminated"}
    assert now[5].as_dict() == {"status_before": "active", "status_after": "terminated"}
    assert rules.made_ineffective(facts) == {3: 5, 4: 5}


def test_a_back_dated_retraction_makes_the_later_resumption_ineffective():
    """Retracting the 2020 suspension (a retraction applies to every business date) leaves the 2021 resumption
    meeting an active partnership: it is marked with the retraction."""
    facts = facts_of(*SUSPENDED_AND_RESUMED, retract(3))
    assert rules.effects(facts)[4].as_dict() == {"none": NOT_ALLOWED, "status": "active"}
    assert rules.made_ineffective(facts) == {4: 5}


def test_the_culprit_is_the_first_later_entry_that_did_it():
    """Two back-dated terminations: the suspension and resumption are marked with the first one recorded, not the
    second; the first termination, now meeting a terminated partnership, is marked with the second."""
    facts = facts_of(
        *SUSPENDED_AND_RESUMED,
        ("partnership_terminated", "2019-06", {"reason": "merger"}),
        ("partnership_terminated", "2018-12", {"reason": "merger"}),
    )
    assert rules.made_ineffective(facts) == {3: 5, 4: 5, 5: 6}


def test_retracting_the_culprit_makes_the_entries_effective_again():
    """Once the back-dated termination is retracted, nothing is ineffective and the partnership is active again."""
    facts = facts_of(*SUSPENDED_AND_RESUMED, ("partnership_terminated", "2019", {"reason": "merger"}), retract(5))
    assert rules.made_ineffective(facts) == {}
    assert rules.fold(facts).status == "active"


def test_an_entry_that_applied_and_no_longer_does_is_marked():
    """A school that joined in 2021 no longer counts after a termination back-dated to 2019 (it is not among the
    schools): it is marked with the termination."""
    facts = facts_of(
        ("agreement_signed", "2018"),
        ("school_joined", "2021-09-01"),
        ("partnership_terminated", "2019", {"reason": "merger"}),
    )
    assert rules.fold(facts).schools == ()
    assert rules.made_ineffective(facts) == {3: 4}


def test_an_entry_that_never_took_effect_is_not_marked():
    """An entry that was already without effect when it was recorded (as imported history may hold) is not marked
    as made ineffective by a later one."""
    facts = facts_of(
        ("cooperation_suspended", "2009-01-01"),  # meets a proposed partnership: never took effect
        ("agreement_signed", "2010-01-01"),
        ("partnership_terminated", "2008", {"reason": "x"}),
    )
    assert rules.effects(facts)[2].none == NOT_ALLOWED
    assert 2 not in rules.made_ineffective(facts)


def test_a_retracted_entry_is_not_marked():
    """An entry that was itself retracted is shown as retracted, not as made ineffective."""
    facts = facts_of(*SUSPENDED_AND_RESUMED, ("partnership_terminated", "2019", {"reason": "merger"}), retract(4))
    assert rules.effects(facts)[4].none == "retracted"
    assert rules.made_ineffective(facts) == {3: 5}


def test_a_resolution_whose_change_a_back_dated_entry_undid_is_marked():
    """A resolution resuming a suspended partnership in 2021, then a termination back-dated to 2019: the resolution
    no longer resumes anything and is marked with the termination, like a cooperation_resumed would be."""
    facts = facts_of(
        ("agreement_signed", "2018"),
        ("cooperation_suspended", "2020-05"),
        ("council_resolution_adopted", "2021", {"purpose": "resume"}),
        ("partnership_terminated", "2019", {"reason": "merger"}),
    )
    assert rules.effects(facts)[4].as_dict() == {"none": PURPOSE_NOT_APPLICABLE, "status": "terminated"}
    assert rules.made_ineffective(facts) == {3: 5, 4: 5}


def test_a_stored_resolution_on_a_suspended_partnership_keeps_it_suspended():
    """The demo's Bar: a resolution without purpose (read as establish) recorded on a suspended partnership leaves
    it suspended, says why, and the natural next step (resume) is allowed."""
    facts = facts_of(
        ("council_resolution_adopted", "2009-03-27", {"purpose": None}),
        ("cooperation_suspended", "2015-01-01"),
        ("council_resolution_adopted", "2016-05-01", {"purpose": None}),
    )
    state = rules.fold(facts)
    assert state.status == "suspended"
    assert rules.effects(facts)[4].as_dict() == {"none": PURPOSE_NOT_APPLICABLE, "status": "suspended"}
    assert rules.allowed_in("cooperation_resumed", state.status)


def test_marking_ineffective_entries_costs_about_a_fold_per_entry(monkeypatch):
    """Finding the entries one back-dated termination made ineffective in a history of 30 activities takes no more
    work than a few folds per entry (reading a partnership stays fast whatever the length of its history)."""
    n = 30
    activities = [("activity_held", f"{2001 + i // 12:04d}-{i % 12 + 1:02d}-01") for i in range(n)]
    facts = facts_of(
        ("agreement_signed", "2000-01-01"), *activities, ("partnership_terminated", "2000-06-01", {"reason": "x"})
    )
    applied = 0
    apply_fact = rules.apply_fact

    def counting(state, fact):
        nonlocal applied
        applied += 1
        return apply_fact(state, fact)

    monkeypatch.setattr(rules, "apply_fact", counting)
    assert len(rules.made_ineffective(facts)) == n
    assert applied <= 3 * len(facts) ** 2
