"""The one-pass :func:`rules.history` gives exactly what the definitions say, on histories typed in any order.

The reference below is the definition written out literally (and slowly: a fold per prefix, per entry and per
candidate culprit), as the rules computed it before the one-pass version. Histories are drawn without regard
for the lifecycle: any type in any status, dates that repeat, entries typed out of order, retractions of any
earlier entry, so entries made ineffective, retractions that change the status and back-dated notices all occur.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import rules
from domain.dates import BusinessDate
from domain.rules import Effect, Fact
from domain.values import PROPOSED

from .histories import FIRST_RECORD, registration
from .test_fold_property import MAY_MEET, data_for


def reference_effects(facts: Sequence[Fact]) -> dict[int, Effect]:
    state = rules.fold(facts)
    out = dict(state.effects)
    gone = rules.retracted_versions(facts)
    for f in facts:
        if f.version in gone:
            out[f.version] = Effect(state.status, state.status, "retracted")
        elif f.type == rules.RETRACTED:
            before = rules.fold([g for g in facts if g.version < f.version]).status
            after = rules.fold([g for g in facts if g.version <= f.version]).status
            out[f.version] = Effect(before, after) if before != after else Effect(before, after, "keeps_status")
        elif f.type == rules.REGISTERED:
            out[f.version] = Effect(PROPOSED, PROPOSED, "keeps_status")
    return out


def reference_made_ineffective(facts: Sequence[Fact]) -> dict[int, int]:
    now = rules.fold(facts).effects
    by_version = sorted(facts, key=lambda f: f.version)
    out: dict[int, int] = {}
    for f in by_version:
        if f.version not in now or now[f.version].none is None:
            continue
        then = rules.fold([g for g in by_version if g.version <= f.version]).effects.get(f.version)
        if then is None or not rules._lost(then, now[f.version]):
            continue
        key = rules.sort_key(f)
        culprit = None  # the entry since whose recording f has been without its effect
        for g in by_version:
            if g.version <= f.version or not (g.type == rules.RETRACTED or rules.sort_key(g)[0] <= key[0]):
                continue
            effect = rules.fold([h for h in by_version if h.version <= g.version]).effects.get(f.version)
            if effect is None or rules._lost(then, effect):
                culprit = culprit or g.version
            else:
                culprit = None
        if culprit is not None:
            out[f.version] = culprit
    return out


#: a few days, months and years, so that dates repeat and overlap
WHENS = [BusinessDate.parse(t) for t in ("2001", "2001-03", "2001-03-15", "2004-06-01", "2004-06", "2010-01-01")]


@st.composite
def typed_histories(draw: st.DrawFn) -> list[Fact]:
    facts = [registration(partner_name="Gmina Stara", areas=("culture",))]
    for version in range(2, draw(st.integers(2, 14)) + 2):
        live = [f.version for f in facts[1:] if f.type != rules.RETRACTED]
        gone = rules.retracted_versions(facts)
        candidates = [v for v in live if v not in gone]
        if candidates and draw(st.integers(0, 5)) == 0:
            type_, when, data = rules.RETRACTED, WHENS[-1], {"retracts": draw(st.sampled_from(candidates))}
            data["reason"] = "pomyłka"
        else:
            type_ = draw(st.sampled_from(sorted(MAY_MEET)))
            when, data = data_for(draw, type_, draw(st.sampled_from(WHENS)))
        facts.append(Fact(version, type_, when, FIRST_RECORD + timedelta(hours=version), data))
    return facts


@settings(max_examples=400, deadline=None)
@given(typed_histories())
def test_the_one_pass_history_equals_the_definitions(facts: list[Fact]) -> None:
    found = rules.history(facts)
    assert dict(found.effects) == reference_effects(facts)
    assert list(found.made_ineffective.items()) == list(reference_made_ineffective(facts).items())  # in order
    assert found.status == rules.fold(facts).status


def test_a_back_dated_suspension_is_found_as_the_culprit_of_both_entries_it_undid() -> None:
    """The reference and the one pass agree on a case worked by hand, so the property test cannot pass vacuously."""
    day = date(2019, 1, 1)
    facts = [
        registration(partner_name="Gmina Stara"),
        Fact(2, "agreement_signed", BusinessDate.of(day), FIRST_RECORD, {"agreement_kind": "partnership"}),
        Fact(3, "cooperation_suspended", BusinessDate.of(day.replace(year=2021)), FIRST_RECORD, {"reason": "x"}),
        Fact(4, "cooperation_resumed", BusinessDate.of(day.replace(year=2022)), FIRST_RECORD, {}),
        Fact(5, "partnership_terminated", BusinessDate.of(day.replace(year=2020)), FIRST_RECORD, {"reason": "y"}),
    ]
    assert rules.history(facts).made_ineffective == {3: 5, 4: 5} == reference_made_ineffective(facts)


def test_a_retracted_culprit_gives_the_effect_back_and_a_later_loss_names_its_own_culprit() -> None:
    """A tester's history: a back-dated termination (4) took a suspension's (3) effect, was retracted (5), and a
    later-recorded termination (6) took it again: 6 is the culprit, not the retracted 4."""
    at = lambda text: BusinessDate.parse(text)  # noqa: E731
    facts = [
        registration(partner_name="Gmina Stara"),
        Fact(2, "agreement_signed", at("2020-01-01"), FIRST_RECORD, {"agreement_kind": "partnership"}),
        Fact(3, "cooperation_suspended", at("2022-01-01"), FIRST_RECORD, {"reason": "x"}),
        Fact(4, "partnership_terminated", at("2021-01-01"), FIRST_RECORD, {"reason": "y"}),
        Fact(5, "event_retracted", at("2026-11-30"), FIRST_RECORD, {"retracts": 4, "reason": "pomyłka"}),
        Fact(6, "partnership_terminated", at("2021-06-01"), FIRST_RECORD, {"reason": "z"}),
    ]
    assert rules.history(facts).made_ineffective == {3: 6} == reference_made_ineffective(facts)
    assert rules.history(facts[:4]).made_ineffective == {3: 4}
    assert rules.history(facts[:5]).made_ineffective == {}
