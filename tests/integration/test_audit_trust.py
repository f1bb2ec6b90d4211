"""An auditor's trust: tampering of every kind is caught and named, digests prove the past,
exports verify offline with the documented recipe, and reports regenerate byte for byte."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest

from application.report import render_report
from application.seed import load_seed
from projections.audit import export_line, stored_entries, verify_export, verify_store
from projections.queries import Clock, head

TODAY = date(2026, 11, 26)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


@pytest.fixture
def seeded(services):
    """The county's seed plus a few later events, read models caught up."""
    load_seed(services.tracker, today=TODAY)
    services.projection.catch_up()
    pid = UUID(_first_partnership(services))
    for day in (date(2026, 1, 10), date(2026, 2, 10)):
        services.tracker.record_event(
            pid, "note_added", {"occurred_on": day, "text": f"note {day}"}, recorded_by="ala", today=TODAY
        )
    services.projection.catch_up()
    return services


def _first_partnership(services) -> str:
    with services.db.transaction(write=False) as tx:
        return tx.scalar(f"SELECT id FROM {services.db.table('view_partnerships')} ORDER BY sort_name LIMIT 1")


def _events_table(services) -> tuple[str, str]:
    """(table, notification id column) of the library's stored events on this backend."""
    if services.db.dialect == "sqlite":
        return "stored_events", "rowid"
    return f'"{services.db.datastore.schema}".tracker_events', "notification_id"


def _stored(services, position: int) -> dict:
    table, nid = _events_table(services)
    with services.db.transaction(write=False) as tx:
        return tx.execute(
            f"SELECT {nid} AS nid, originator_id, originator_version, state FROM {table} ORDER BY {nid}"
            " LIMIT 1 OFFSET ?",
            (position - 1,),
        ).fetchone()


def _set_state(services, row: dict, state: bytes) -> None:
    table, nid = _events_table(services)
    with services.db.transaction(write=True) as tx:
        tx.execute(f"UPDATE {table} SET state = ? WHERE {nid} = ?", (state, row["nid"]))


def _problem_positions(report: dict) -> list[int]:
    return [p["position"] for p in report["problems"]]


def test_an_intact_log_verifies(seeded):
    """An untouched store verifies: every position checked, head equals the digest."""
    report = verify_store(seeded.tracker, seeded.db)
    assert report["ok"], report["problems"]
    assert report["checked"] == head(seeded.db)["position"] == 20
    assert report["head"] == head(seeded.db)


def test_one_changed_byte_of_a_stored_event_is_named(seeded):
    """Changing one byte of a stored event's payload is reported at that event's position."""
    row = _stored(seeded, 7)
    state = bytes(row["state"])
    _set_state(seeded, row, state.replace(b'"seed"', b'"seeD"', 1))
    report = verify_store(seeded.tracker, seeded.db)
    assert not report["ok"]
    assert report["problems"][0]["position"] == 7


def test_a_deleted_stored_event_is_named(seeded):
    """Deleting an event from the store breaks the chain at its position."""
    row = _stored(seeded, 12)
    table, nid = _events_table(seeded)
    with seeded.db.transaction(write=True) as tx:
        tx.execute(f"DELETE FROM {table} WHERE {nid} = ?", (row["nid"],))
    report = verify_store(seeded.tracker, seeded.db)
    assert not report["ok"]
    assert min(p for p in _problem_positions(report) if p is not None) == 12


def test_two_swapped_stored_events_are_named(seeded):
    """Swapping the payloads of two events is reported at the first of them."""
    first, second = _stored(seeded, 5), _stored(seeded, 9)
    _set_state(seeded, first, bytes(second["state"]))
    _set_state(seeded, second, bytes(first["state"]))
    report = verify_store(seeded.tracker, seeded.db)
    assert not report["ok"]
    assert min(p for p in _problem_positions(report) if p is not None) == 5


def test_an_edited_chain_entry_is_named(seeded):
    """Rewriting a hash in the chain table is reported at that position."""
    with seeded.db.transaction(write=True) as tx:
        tx.execute(f"UPDATE {seeded.db.table('view_log')} SET hash = ? WHERE position = 15", ("f" * 64,))
    report = verify_store(seeded.tracker, seeded.db)
    assert not report["ok"]
    assert 15 in _problem_positions(report)


def test_an_edited_read_model_row_is_named(seeded):
    """A read-model row that differs from a fresh replay is reported, naming the table."""
    with seeded.db.transaction(write=True) as tx:
        tx.execute(f"UPDATE {seeded.db.table('view_partnerships')} SET status = 'terminated'")
    report = verify_store(seeded.tracker, seeded.db)
    assert not report["ok"]
    assert any(p["kind"] == "read_model" and "view_partnerships" in p["detail"] for p in report["problems"])


def test_a_rewritten_entry_that_a_partnerships_row_folds_in_is_named_at_its_own_position(seeded):
    """A later entry's text that the partnership's read model keeps (a school's name, searchable) is rewritten:
    the first bad position is that entry's, not the partnership's registration, though its row differs too."""
    with seeded.db.transaction(write=False) as tx:
        position, pid = (
            tx.execute(
                f"SELECT position, partnership_id FROM {seeded.db.table('view_log')}"
                " WHERE type = 'school_joined' ORDER BY position LIMIT 1"
            )
            .fetchone()
            .values()
        )
        registered = tx.scalar(
            f"SELECT MIN(position) FROM {seeded.db.table('view_log')} WHERE partnership_id = ?", (pid,)
        )
    assert registered < position
    row = _stored(seeded, position)
    assert b'"school_name":"' in bytes(row["state"])
    _set_state(seeded, row, bytes(row["state"]).replace(b'"school_name":"', b'"school_name":"Z', 1))
    report = verify_store(seeded.tracker, seeded.db)
    assert not report["ok"]
    assert report["problems"][0]["position"] == position
    partnership_rows = [p for p in report["problems"] if "view_partnerships" in p["detail"]]
    assert [p["position"] for p in partnership_rows] == [position]


def test_a_kept_digest_proves_the_past_even_after_a_consistent_rewrite(seeded):
    """A digest kept before a rewrite exposes it, even when the rewriter re-chained and rebuilt everything."""
    kept = head(seeded.db)
    row = _stored(seeded, 3)
    _set_state(seeded, row, bytes(row["state"]).replace(b'"seed"', b'"eve!"', 1))
    seeded.projection.rebuild()  # the views now agree with the rewritten store
    assert verify_store(seeded.tracker, seeded.db)["ok"]
    report = verify_store(seeded.tracker, seeded.db, (kept["position"], kept["hash"]))
    assert not report["ok"]
    assert report["problems"][0]["kind"] == "digest"


def _documented_verifier() -> str:
    """The Python verifier printed in docs/audit.md, as the auditor would copy it."""
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"## A verifier of your own.*?```python\n(.*?)```", text, re.S)
    assert block, "docs/audit.md must carry the verifier"
    return block.group(1)


def _export(services, path: Path) -> Path:
    path.write_text("".join(export_line(e) + "\n" for e in stored_entries(services.tracker)), encoding="utf-8")
    return path


def test_the_documented_recipe_written_independently_gives_the_same_hashes(seeded, tmp_path):
    """Recomputing each hash from the documented canonical form, without the project's code, matches."""
    lines = _export(seeded, tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    previous = "0" * 64
    for line in lines:
        entry = json.loads(line)
        claimed = entry.pop("hash")
        assert sorted(entry) == sorted(
            ["data", "occurred_on", "partnership_id", "position", "recorded_at", "recorded_by", "type", "version"]
        )
        canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        previous = hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()
        assert previous == claimed
    assert f"{len(lines)}:{previous}" == "{position}:{hash}".format(**head(seeded.db))


def test_the_verifier_printed_in_the_docs_checks_an_export(seeded, tmp_path, capsys, monkeypatch):
    """The verifier in docs/audit.md runs as printed and ends with the head's digest."""
    path = _export(seeded, tmp_path / "log.jsonl")
    monkeypatch.setattr(sys, "argv", ["verify.py", str(path)])
    exec(compile(_documented_verifier(), "docs/audit.md", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out.strip() == "{position}:{hash}".format(**head(seeded.db))


def test_an_export_verifies_offline_and_a_changed_line_is_named(seeded, tmp_path):
    """An export checks with no database; editing one line is reported at its position."""
    path = _export(seeded, tmp_path / "log.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert verify_export(lines)["ok"]
    lines[10] = lines[10].replace('"seed"', '"mallory"', 1)
    report = verify_export(lines, (20, head(seeded.db)["hash"]))
    assert not report["ok"]
    assert report["problems"][0]["position"] == 11


def test_a_report_with_known_at_is_the_same_after_later_recording(seeded):
    """Given known_at, the council report regenerates to the same bytes whatever was recorded since."""
    moment = datetime.now(UTC)
    clock = Clock(TODAY, 365)
    before = render_report(seeded.db, clock, as_of=TODAY, known_at=moment, lang="pl")
    pid = UUID(_first_partnership(seeded))
    seeded.tracker.record_event(
        pid,
        "activity_held",
        {"occurred_on": date(2026, 3, 1), "activity_kind": "conference", "title": "Konferencja"},
        recorded_by="ala",
        today=TODAY,
    )
    seeded.projection.catch_up()
    after = render_report(seeded.db, clock, as_of=TODAY, known_at=moment, lang="pl")
    now = render_report(seeded.db, clock, as_of=TODAY, known_at=None, lang="pl")
    assert after == before
    assert "Konferencja" in now and "Konferencja" not in before


def test_the_report_speaks_english_and_polish(seeded):
    """The report is rendered in the asked language, with country names in it."""
    clock = Clock(TODAY, 365)
    pl = render_report(seeded.db, clock, as_of=TODAY, known_at=None, lang="pl")
    en = render_report(seeded.db, clock, as_of=TODAY, known_at=None, lang="en")
    assert '<html lang="pl">' in pl and "Czarnogóra" in pl and "zawieszone" in pl
    assert '<html lang="en">' in en and "Montenegro" in en and "suspended" in en


def test_a_report_as_of_a_past_day_shows_the_register_as_it_stood(seeded):
    """As of 2010 only the partnerships existing then appear, with their status of then."""
    html = render_report(seeded.db, Clock(TODAY, 365), as_of=date(2010, 1, 1), known_at=None, lang="en")
    assert "Miasto Bar" in html and "Rejon Nowogród Wołyński" in html
    assert "Gurjaani" not in html and "Ladispoli" not in html
