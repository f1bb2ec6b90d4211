"""The status never depends on typing order: any recording order of a consistent history folds to the same state.

A history is drawn as a registration plus events with strictly increasing, distinct first days (days, months
and years mixed), each event of a type the contract allows in the status the history has reached, with valid
data; some entries may be retracted. The same history is then given versions in another recording order (the
registration stays version 1, a retraction stays after what it retracts) and folded again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import rules
from domain.dates import BusinessDate
from domain.rules import Fact

from .histories import FIRST_RECORD, REGISTERED_ON, registration

#: the contract's lifecycle, by hand: which status each type leads to from each status it may meet
#: (None: unchanged); a council resolution by its purpose
OPEN = ("proposed", "intent", "active", "suspended")
EVERY = (*OPEN, "terminated")
MAY_MEET: dict[str, tuple[str, ...]] = {
    "letter_of_intent_signed": EVERY,
    "agreement_signed": EVERY,
    "council_resolution_adopted": EVERY,
    "school_joined": OPEN,
    "youth_exchange_planned": OPEN,
    "youth_exchange_held": OPEN,
    "activity_held": OPEN,
    "cooperation_suspended": ("intent", "active"),
    "cooperation_resumed": ("suspended",),
    "partnership_terminated": OPEN,
    "partner_renamed": EVERY,
    "inactivity_period_set": OPEN,
    "note_added": EVERY,
}
PURPOSE_TARGETS = {
    "establish": ({"proposed", "intent", "terminated"}, "active"),
    "resume": ({"suspended"}, "active"),
    "suspend": ({"intent", "active"}, "suspended"),
    "terminate": ({"proposed", "intent", "active", "suspended"}, "terminated"),
}


def status_after(type_: str, status: str, data: dict[str, Any]) -> str:
    if type_ == "letter_of_intent_signed":
        return "intent" if status in ("proposed", "terminated") else status
    if type_ == "agreement_signed":
        return "active"
    if type_ == "council_resolution_adopted":
        changes, target = PURPOSE_TARGETS.get(data["purpose"], (set(), status))
        return target if status in changes else status
    return {
        "cooperation_suspended": "suspended",
        "cooperation_resumed": "active",
        "partnership_terminated": "terminated",
    }.get(type_, status)


@dataclass
class Entry:
    """One event of the drawn history, before versions are given (``retracts``: index of the retracted entry)."""

    type: str
    occurred_on: BusinessDate
    data: dict[str, Any] = field(default_factory=dict)
    retracts: int | None = None


AREAS = ["culture", "education", "sport", "youth", "humanitarian_aid"]


@st.composite
def business_dates(draw: st.DrawFn) -> BusinessDate:
    day = draw(st.dates(min_value=date(1990, 1, 1), max_value=REGISTERED_ON))
    precision = draw(st.sampled_from(["day", "day", "month", "year"]))
    if precision == "year":
        return BusinessDate(day.year)
    if precision == "month":
        return BusinessDate(day.year, day.month)
    return BusinessDate(day.year, day.month, day.day)


def data_for(draw: st.DrawFn, type_: str, when: BusinessDate) -> tuple[BusinessDate, dict[str, Any]]:
    """Valid data of ``type_`` for an event standing at ``when``; returns its occurred_on too."""
    occurred_on = when
    if type_ == "agreement_signed":
        data = {"agreement_kind": draw(st.sampled_from(["partnership", "cooperation", "friendship"]))}
        data["areas"] = draw(st.lists(st.sampled_from(AREAS), max_size=2))
    elif type_ == "council_resolution_adopted":
        data = {
            "purpose": draw(
                st.sampled_from(["establish", "authorise_signing", "amend", "suspend", "resume", "terminate", "other"])
            ),
            "resolution_number": draw(st.sampled_from(["XXV/4/09", "XL/12/2015", None])),
            "areas": draw(st.lists(st.sampled_from(AREAS), max_size=2)),
        }
    elif type_ == "school_joined":
        data = {
            "school_name": draw(st.sampled_from(["IV LO", "SP 1", "Gimnazjum 2"])),
            "side": draw(st.sampled_from(["local", "partner"])),
            "town": draw(st.sampled_from([None, "Nowogród"])),
        }
    elif type_ == "youth_exchange_planned":
        data = {"planned_for": draw(business_dates())}
    elif type_ == "youth_exchange_held":
        data = {"participants": draw(st.sampled_from([None, 1, 24]))}
    elif type_ == "activity_held":
        data = {"activity_kind": "visit", "title": "Wizyta"}
    elif type_ in ("cooperation_suspended", "partnership_terminated"):
        data = {"reason": "powód"}
        if type_ == "partnership_terminated" and not when.approximate and draw(st.booleans()):
            data["effective_on"] = when  # a notice: noticed earlier, effective on ``when``
            occurred_on = BusinessDate.of(when.first - timedelta(days=draw(st.integers(0, 400))))
    elif type_ == "partner_renamed":
        data = {"partner_name": draw(st.sampled_from(["Gmina Nowa", "Miasto Nowe", "Gmina Stara"]))}
    elif type_ == "inactivity_period_set":
        data = {"days": draw(st.sampled_from([None, 30, 1095, 3650]))}
    elif type_ == "note_added":
        data = {"text": "telefon"}
    else:
        data = {}
    return occurred_on, data


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Entry], str]:
    """A consistent history (entries in the order first recorded) and the status the contract says it ends in."""
    whens = draw(st.lists(business_dates(), min_size=1, max_size=10, unique_by=lambda b: b.first))
    whens.sort(key=lambda b: b.first)
    entries: list[Entry] = []
    status = "proposed"
    for when in whens:
        type_ = draw(st.sampled_from(sorted(t for t, statuses in MAY_MEET.items() if status in statuses)))
        occurred_on, data = data_for(draw, type_, when)
        entries.append(Entry(type_, occurred_on, data))
        status = status_after(type_, status, data)
    targets = draw(st.lists(st.sampled_from(range(len(entries))), unique=True, max_size=2))
    for target in targets:
        entries.append(Entry("event_retracted", BusinessDate.of(REGISTERED_ON), {"reason": "pomyłka"}, target))
    return entries, status


def recorded(entries: list[Entry], order: list[int]) -> tuple[list[Fact], dict[int, int]]:
    """The facts of ``entries`` recorded in ``order`` (versions 2, 3, ... by position), and index -> version."""
    version = {index: position + 2 for position, index in enumerate(order)}
    facts = [registration(partner_name="Gmina Stara", areas=("culture",))]
    for index in order:
        entry = entries[index]
        data = dict(entry.data)
        if entry.retracts is not None:
            data["retracts"] = version[entry.retracts]
        facts.append(
            Fact(version[index], entry.type, entry.occurred_on, FIRST_RECORD + timedelta(hours=version[index]), data)
        )
    return facts, version


def another_order(draw: st.DrawFn, entries: list[Entry]) -> list[int]:
    """A random recording order in which every retraction comes after the entry it retracts."""
    order = list(draw(st.permutations(range(len(entries)))))
    for index, entry in enumerate(entries):
        if entry.retracts is not None and order.index(index) < order.index(entry.retracts):
            order.remove(index)
            order.insert(order.index(entry.retracts) + 1, index)
    return order


def picture(facts: list[Fact], version: dict[int, int]) -> dict[str, Any]:
    """What must not depend on the recording order (effects keyed by entry, not by version)."""
    state = rules.fold(facts)
    entry_of = {v: i for i, v in version.items()}
    return {
        "status": state.status,
        "status_since": state.status_since,
        "last_activity_on": state.last_activity_on,
        "partner_name": state.partner_name,
        "names": state.names,
        "areas": state.areas,
        "schools": state.schools,
        "inactivity_days": state.inactivity_days,
        "references": state.references,
        "exists_from": rules.exists_from(facts),
        "effects": {entry_of[v]: e for v, e in state.effects.items() if v in entry_of},
    }


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_recording_order_folds_to_the_same_state(data):
    """Status, status_since, last activity, names, areas, schools, the own period and each entry's effect are the
    same whatever order the history was typed in; and so is the answer for every day of the history."""
    entries, status = data.draw(histories())
    as_typed, typed_versions = recorded(entries, list(range(len(entries))))
    expected = picture(as_typed, typed_versions)
    if not any(e.retracts is not None for e in entries):
        assert expected["status"] == status  # the contract's lifecycle, by hand
    order = another_order(data.draw, entries)
    shuffled, shuffled_versions = recorded(entries, order)
    assert picture(shuffled, shuffled_versions) == expected
    for entry in entries:
        asked = entry.occurred_on.first
        a, b = rules.state_on(as_typed, asked), rules.state_on(shuffled, asked)
        assert (a.status, a.status_since, a.last_activity_on, a.partner_name) == (
            b.status,
            b.status_since,
            b.last_activity_on,
            b.partner_name,
        )
        assert rules.approximate_on(as_typed, asked) == rules.approximate_on(shuffled, asked)
