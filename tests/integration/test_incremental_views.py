"""The read models advanced event by event (projections/folds.py) are the ones the full refold makes.

Random days of work, through the front door on the real store: events of every type in and out of order
(back-dated entries, months and years), retractions, the inactivity job's flags on later days, managers'
acknowledgements; after each day, every partnership's list row, areas and reminders are compared with what
the full refold (the definition) makes of the same event rows. And a write after the kept fold equals a
full fold of the same history.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from application.services import Services
from domain.errors import DomainError
from projections import folds, queries
from projections.documents import document_at, event_effects, fact_of

TYPES = {
    "letter_of_intent_signed": {},
    "agreement_signed": {"agreement_kind": "partnership", "areas": ["culture"]},
    "council_resolution_adopted": {"purpose": "establish", "resolution_number": "XXI/150/2009", "areas": ["sport"]},
    "school_joined": {"school_name": "Liceum im. Kopernika", "side": "local"},
    "youth_exchange_planned": {"planned_for": "2027-07"},
    "youth_exchange_held": {"participants": 20},
    "activity_held": {"activity_kind": "visit", "title": "Wizyta studyjna"},
    "cooperation_suspended": {"reason": "wojna"},
    "cooperation_resumed": {},
    "partnership_terminated": {"reason": "brak zainteresowania"},
    "partner_renamed": {"partner_name": "Gmina Nowa"},
    "inactivity_period_set": {"days": 400},
    "note_added": {"text": "telefon"},
}
TODAY = date(2026, 11, 30)


class _Undo(Exception):
    """Raised to roll the full refold back, so the views keep advancing event by event."""


def views(services: Services) -> dict[str, Any]:
    with services.db.transaction(write=False) as tx:
        return views_in(tx, services)


def refolded(services: Services) -> dict[str, Any]:
    """The views as the full refold makes them from the same event rows (in a transaction then rolled back)."""
    t = services.db.table
    out: dict[str, Any] = {}
    try:
        with services.db.transaction(write=True) as tx:
            for row in tx.execute(f"SELECT id FROM {t('view_partnerships')}").fetchall():
                services.projection.refold(tx, row["id"])
            out = views_in(tx, services)
            raise _Undo
    except _Undo:
        pass
    return out


def views_in(tx: Any, services: Services) -> dict[str, Any]:
    t = services.db.table
    partnerships = {
        r["id"]: {k: (json.loads(r[k]) if k in ("doc", "fold") else r[k]) for k in r.keys()}  # noqa: SIM118
        for r in tx.execute(f"SELECT * FROM {t('view_partnerships')}").fetchall()
    }
    areas = sorted(
        tuple(r) for r in tx.execute(f"SELECT area, partnership_id FROM {t('view_partnership_areas')}").fetchall()
    )
    reminders = {
        r["id"]: (r["partnership_id"], r["opened_on"], r["is_open"], json.loads(r["doc"]))
        for r in tx.execute(f"SELECT * FROM {t('view_reminders')}").fetchall()
    }
    events = {
        (r["partnership_id"], r["version"]): (r["effect"], r["ineffective_by"])
        for r in tx.execute(
            f"SELECT partnership_id, version, effect, ineffective_by FROM {t('view_events')}"
        ).fetchall()
    }
    checkpoints = {
        (r["partnership_id"], r["first"], r["version"]): json.loads(r["kept"])
        for r in tx.execute(f"SELECT * FROM {t('view_checkpoints')}").fetchall()
    }
    log = [tuple(r) for r in tx.execute(f"SELECT * FROM {t('view_log')} ORDER BY position").fetchall()]
    every = {"partnerships": partnerships, "areas": areas, "reminders": reminders, "events": events}
    return {**every, "checkpoints": checkpoints, "log": log}


def answers_as_of_a_day_equal_the_definition(services: Services, pids: list[UUID], rng: random.Random) -> None:
    """The answer as of a day, from the nearest checkpoint and a short tail, is the full fold's (document_at),
    on the days events happened, the days around them and a few others."""
    for pid in pids:
        rows = queries._event_rows(services.db, str(pid))
        days = {date(2008, 1, 1), date(2026, 11, 30)}
        for r in rows:
            when = fact_of(r).when
            if when is not None:
                days |= {when.first, when.first - timedelta(days=1), when.last, when.last + timedelta(days=1)}
        for day in rng.sample(sorted(days), min(len(days), 12)):
            assert queries.document_on(services.db, str(pid), day) == document_at(
                str(pid), rows, as_of=day, known_at=None
            ), (pid, day)


def effects_answered_equal_the_definition(services: Services, pids: list[UUID]) -> None:
    """Each event's ``effect`` as answered (kept with the rows) is what the whole history says it is now."""
    for pid in pids:
        events = queries.list_events(services.db, str(pid))
        facts = [fact_of(r) for r in queries._event_rows(services.db, str(pid))]
        assert {e["version"]: e["effect"] for e in events} == event_effects(facts)


def a_day_of_work(services: Services, rng: random.Random, pids: list[UUID], today: date) -> None:
    for _ in range(rng.randint(3, 10)):
        pid = rng.choice(pids)
        roll = rng.random()
        try:
            if roll < 0.12:
                versions = [e["version"] for e in queries.list_events(services.db, str(pid)) if e["version"] > 1]
                if versions:
                    fields = {"retracts": rng.choice(versions), "reason": "pomyłka", "occurred_on": today}
                    services.record_event(pid, "event_retracted", fields, user="ala")
            elif roll < 0.2:
                services.flag_inactivity(pid, today=today)
            elif roll < 0.27:
                open_ = [
                    r for r in queries.list_reminders(services.db, is_open=True) if r["partnership_id"] == str(pid)
                ]
                if open_:
                    services.acknowledge_reminder(rng.choice(open_)["id"], note="dzwoniłem", user="jan")
            else:
                type_ = rng.choice(sorted(TYPES))
                back = rng.choice([0, 0, 0, 30, 400, 3000])
                when = today - timedelta(days=back)
                occurred = rng.choice([when.isoformat(), when.isoformat()[:7], str(when.year)])
                if occurred > today.isoformat():
                    occurred = today.isoformat()
                services.record_event(pid, type_, {"occurred_on": occurred, **TYPES[type_]}, user="ala")
        except DomainError:
            pass  # refused by the rules (the status, a retraction of a retraction, ...): nothing recorded


@pytest.mark.parametrize(("seed", "every"), [(0, 3), (1, 5), (2, folds.CHECKPOINT_EVERY)])
def test_the_views_advanced_event_by_event_equal_the_full_refold(
    services: Services, seed: int, every: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``every``: a checkpoint of the fold every so many facts (small ones, so the histories have many)."""
    monkeypatch.setattr(folds, "CHECKPOINT_EVERY", every)
    rng = random.Random(seed)
    pids = [
        services.register_partnership(
            {"partner_name": f"Gmina {n}", "partner_country": "UA", "partner_kind": "municipality"},
            user="ala",
        ).partnership_id
        for n in range(3)
    ]
    today = date(2019, 1, 1)
    while today < TODAY:
        a_day_of_work(services, rng, pids, today)
        assert views(services) == refolded(services), today
        effects_answered_equal_the_definition(services, pids)
        answers_as_of_a_day_equal_the_definition(services, pids, rng)
        today += timedelta(days=rng.choice([30, 200, 500]))
