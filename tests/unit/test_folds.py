"""What is kept with a partnership's row survives JSON, and a flag whose spell an activity already ended is
left to the full refold (only an imported log can hold one: the job flags the spell of the latest activity)."""

from __future__ import annotations

from datetime import timedelta

from domain.rules import Fact
from projections import folds

from .histories import FIRST_RECORD, bd, registration

HISTORY = [
    registration(partner_name="Gmina Stara", areas=("culture",)),
    Fact(2, "agreement_signed", bd("2018-03"), FIRST_RECORD, {"agreement_kind": "partnership", "areas": ["sport"]}),
    Fact(3, "school_joined", bd("2018-09-01"), FIRST_RECORD, {"school_name": "SP 1", "side": "local"}),
    Fact(4, "youth_exchange_planned", bd("2019"), FIRST_RECORD, {"planned_for": bd("2027-07")}),
    Fact(5, "activity_held", bd("2021-05-04"), FIRST_RECORD, {"activity_kind": "visit", "title": "Wizyta"}),
    Fact(
        6,
        "inactivity_flagged",
        bd("2026-01-01"),
        FIRST_RECORD,
        {"kind": "inactive", "last_activity_on": bd("2021-05-04")},
    ),
]


def test_what_is_kept_reads_back_as_it_was_written() -> None:
    kept = folds.kept_of(HISTORY)
    assert folds.loads(folds.dumps(kept)) == kept
    assert kept.activity_until == bd("2021-05-04").last


def test_a_flag_on_a_spell_an_activity_already_ended_is_left_to_the_full_refold() -> None:
    kept = folds.kept_of(HISTORY[:5])
    doc = {
        "id": "p",
        "approximate_until": None,
        "partner_country": "UA",
        "partner_kind": "city",
        "local_party": "Powiat",
        "description": None,
        "registered_at": FIRST_RECORD.isoformat(),
    }
    stale = Fact(
        6,
        "inactivity_flagged",
        bd("2026-01-01"),
        FIRST_RECORD + timedelta(hours=1),
        {"kind": "inactive", "last_activity_on": bd("2019-01-01")},
    )
    entry = {"partnership_id": "p", "recorded_by": "system", "recorded_at": stale.recorded_at.isoformat()}
    assert folds.advance(kept, doc, [], stale, entry) is None
    fresh = Fact(
        6,
        "inactivity_flagged",
        bd("2026-01-01"),
        stale.recorded_at,
        {"kind": "inactive", "last_activity_on": bd("2021-05-04")},
    )
    advanced = folds.advance(kept, doc, [], fresh, entry)
    assert advanced is not None and advanced[3][0]["open"] is True
