"""Building partnership histories as facts for the rules' tests: versions in recording order, dates as given."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.dates import BusinessDate
from domain.rules import Fact

#: the day the partnership was entered into the register (its registration's ``registered_on``)
REGISTERED_ON = date(2026, 11, 26)
#: when the registration was recorded; each later event is recorded an hour after the one before
FIRST_RECORD = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
PARTNER = "Gmina Testowa"

#: the smallest valid data of each type (business dates as an officer types them)
DATA: dict[str, dict[str, Any]] = {
    "letter_of_intent_signed": {},
    "agreement_signed": {"agreement_kind": "partnership"},
    "council_resolution_adopted": {"purpose": "establish", "resolution_number": "XXI/150/2009"},
    "school_joined": {"school_name": "Liceum im. Kopernika", "side": "local"},
    "youth_exchange_planned": {"planned_for": "2031-07-01"},
    "youth_exchange_held": {"participants": 20},
    "activity_held": {"activity_kind": "visit", "title": "Study visit"},
    "cooperation_suspended": {"reason": "war"},
    "cooperation_resumed": {},
    "partnership_terminated": {"reason": "no interest"},
    "partner_renamed": {"partner_name": "Gmina Nowa"},
    "inactivity_period_set": {"days": 1095},
    "note_added": {"text": "phone call"},
    "inactivity_flagged": {"kind": "inactive", "last_activity_on": "2001-01-01"},
    "reminder_acknowledged": {"flagged_version": 99},
}


def bd(text: str) -> BusinessDate:
    """A business date as given: ``2019-10-18``, ``2008-01`` or ``1992``."""
    return BusinessDate.parse(text)


def day(text: str) -> date:
    """A calendar day (``today`` and ``as_of`` arguments are days)."""
    return date.fromisoformat(text)


def registration(occurred_on: str | None = None, *, partner_name: str = PARTNER, areas: tuple[str, ...] = ()) -> Fact:
    return Fact(
        version=1,
        type="partnership_registered",
        occurred_on=occurred_on,
        recorded_at=FIRST_RECORD,
        data={"registered_on": REGISTERED_ON, "partner_name": partner_name, "areas": list(areas)},
    )


def facts_of(
    *events: tuple, registered: str | None = None, partner_name: str = PARTNER, areas: tuple[str, ...] = ()
) -> list[Fact]:
    """The registration (version 1), then each ``(type, occurred_on[, data])`` as versions 2, 3, ... in that order."""
    facts = [registration(registered, partner_name=partner_name, areas=areas)]
    for i, (type_, occurred_on, *rest) in enumerate(events):
        data = {**DATA.get(type_, {}), **(rest[0] if rest else {})}
        facts.append(Fact(i + 2, type_, occurred_on, FIRST_RECORD + timedelta(hours=i + 1), data))
    return facts


def retract(version: int, on: str = "2026-11-01") -> tuple:
    return ("event_retracted", on, {"retracts": version, "reason": "entered by mistake"})


def flag(last_activity_on: str, on: str) -> tuple:
    return ("inactivity_flagged", on, {"kind": "inactive", "last_activity_on": last_activity_on})


def plan(on: str, planned_for: str) -> tuple:
    return ("youth_exchange_planned", on, {"planned_for": planned_for})


def plan_flag(plan_version: int, planned_for: str, on: str) -> tuple:
    return (
        "inactivity_flagged",
        on,
        {"kind": "exchange_overdue", "plan_version": plan_version, "planned_for": planned_for},
    )


def held(on: str) -> tuple:
    return ("youth_exchange_held", on, {"participants": 12})


def acknowledge(flagged_version: int, on: str) -> tuple:
    return ("reminder_acknowledged", on, {"flagged_version": flagged_version})


#: histories (after the registration) that leave a partnership in each status, all before 2012
TO_STATUS: dict[str, list[tuple]] = {
    "proposed": [("school_joined", "2010-01-01")],
    "intent": [("letter_of_intent_signed", "2010-01-01")],
    "active": [("agreement_signed", "2010-01-01")],
    "suspended": [("agreement_signed", "2010-01-01"), ("cooperation_suspended", "2011-01-01")],
    "terminated": [("agreement_signed", "2010-01-01"), ("partnership_terminated", "2011-01-01")],
}
STATUSES = tuple(TO_STATUS)
