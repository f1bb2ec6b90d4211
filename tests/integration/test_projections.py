"""The composite projection over a real store (SQLite file or PostgreSQL schema): exactly-once catch-up,
crash recovery, rebuild, concurrent catch-up by a second instance or process, and the audit's tamper checks."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from backend import Store

from infrastructure.store import Db, Tx
from projections.audit import verify_store
from projections.inline import detach
from projections.projection import Projection

from .helpers import (
    PYTHON,
    REPO,
    TODAY,
    bare_projection,
    database_of,
    open_services,
    record,
    register,
    stored_count,
    tracking_position,
    view_rows,
)


@pytest.fixture
def database(tmp_path: Path) -> str:
    return database_of(tmp_path)


@pytest.fixture
def services(database: str) -> Any:
    s = open_services(database)
    yield s
    s.close()


def write_history(tracker: Any, catch_up: Any = None, partnerships: int = 6) -> list[UUID]:
    """Many writes of every kind: lifecycle, schools, exchanges, retractions, late history, flags, acks.

    ``catch_up`` (when given) runs after every command, as the web layer does.
    """
    step = catch_up or (lambda: None)
    ids = []
    for i in range(partnerships):
        pid = register(tracker, f"Partner {i:02d}", occurred_on=date(2014, 1, 1 + i))
        step()
        ids.append(pid)
        record(tracker, pid, "letter_of_intent_signed", occurred_on=date(2015, 2, 1))
        step()
        record(tracker, pid, "agreement_signed", agreement_kind="partnership", areas=["culture", "sport"])
        step()
        record(tracker, pid, "school_joined", school_name=f"LO {i}", side="local", town="Piaseczno")
        step()
        record(tracker, pid, "youth_exchange_planned", occurred_on=date(2021, 1, 10), planned_for=date(2021, 6, 1))
        step()
        record(tracker, pid, "activity_held", activity_kind="visit", title=f"Wizyta {i}", occurred_on=date(2022, 5, 5))
        step()
        record(tracker, pid, "note_added", text=f"notatka {i}", occurred_on=date(2022, 6, 1))
        step()
        if i % 2 == 0:
            # an activity entered by mistake, then retracted
            wrong = record(
                tracker, pid, "activity_held", activity_kind="training", title="x", occurred_on=date(2023, 1, 1)
            )
            step()
            record(
                tracker, pid, "event_retracted", retracts=wrong.version, reason="zła data", occurred_on=date(2023, 2, 1)
            )
            step()
        if i % 3 == 0:
            record(tracker, pid, "cooperation_suspended", reason="wojna", occurred_on=date(2022, 3, 1))
            step()
        if i % 3 == 1:
            record(tracker, pid, "partnership_terminated", reason="koniec", occurred_on=date(2023, 3, 1))
            step()
        # late history: a resolution from long ago, entered now
        if i % 3 != 1:
            record(
                tracker,
                pid,
                "council_resolution_adopted",
                purpose="establish",
                resolution_number=f"XII/{i}/2012",
                occurred_on=date(2012, 5, 1),
            )
            step()
    for pid in ids:
        tracker.flag_inactivity(pid, today=TODAY, days=365)
        step()
    flagged = tracker.get_partnership(ids[2])
    first_flag = next(f["version"] for f in flagged.facts if f["type"] == "inactivity_flagged")
    tracker.acknowledge_reminder(ids[2], first_flag, note="widziałem", recorded_by="kierownik", today=TODAY)
    step()
    return ids


def log_positions(database: str) -> list[tuple[int, int]]:
    return Store(database).rows("SELECT position, notification_id FROM view_log ORDER BY position")


def event_keys(database: str) -> list[tuple[str, int]]:
    return Store(database).rows("SELECT partnership_id, version FROM view_events ORDER BY position")


def assert_applied_exactly_once(database: str) -> None:
    n = stored_count(database)
    assert log_positions(database) == [(i, i) for i in range(1, n + 1)]
    keys = event_keys(database)
    assert len(keys) == n == len(set(keys))
    assert tracking_position(database) == n


class FailingProjection(Projection):
    """A projection that breaks while refolding one chosen partnership (a crash mid-batch)."""

    def __init__(self, app: Any, db: Db, fail_on: str) -> None:
        super().__init__(app, db)
        self.fail_on = fail_on

    def refold_many(self, tx: Tx, groups: Sequence[tuple[str, Sequence[Any]]]) -> None:
        if any(pid == self.fail_on for pid, _ in groups):
            raise RuntimeError(f"simulated crash while refolding {self.fail_on}")
        super().refold_many(tx, groups)


@pytest.fixture(autouse=True)
def _catch_up_path_only(services: Any) -> None:
    """These tests are about the catch-up: on SQLite each write also applies its views inline
    (projections.inline), which would leave nothing to catch up, so the inline path is detached here.
    Other processes' writes, imports and PostgreSQL always take the catch-up path tested below."""
    detach(services.projection)


def test_catch_up_twice_is_a_no_op(services: Any, database: str) -> None:
    """A second catch-up applies nothing and leaves every view table unchanged."""
    write_history(services.tracker, partnerships=3)
    n = stored_count(database)
    assert services.projection.catch_up() == n
    before = view_rows(database)
    assert services.projection.catch_up() == 0
    assert services.projection.catch_up(batch=1) == 0
    assert view_rows(database) == before
    assert_applied_exactly_once(database)


def test_catch_up_in_small_batches_equals_one_big_batch(services: Any, database: str) -> None:
    """Batch size changes nothing: one event at a time gives the same tables as everything at once."""
    write_history(services.tracker, partnerships=3)
    assert services.projection.catch_up(batch=1) == stored_count(database)
    by_one = view_rows(database)
    services.projection.rebuild()
    assert view_rows(database) == by_one


def test_crash_mid_batch_rolls_back_rows_and_position_together(services: Any, database: str) -> None:
    """A failure inside a batch leaves neither its rows nor its position; the next catch-up applies each event once."""
    # four events per partnership, partnership by partnership: 1-4 -> P0, 5-8 -> P1, 9-12 -> P2 ...
    ids = []
    for i in range(5):
        pid = register(services.tracker, f"P{i}")
        ids.append(pid)
        for k in range(3):
            record(services.tracker, pid, "note_added", text=f"{i}-{k}")
    n = stored_count(database)
    assert n == 20

    failing = FailingProjection(services.tracker, services.db, fail_on=str(ids[2]))
    # batch 1 = events 1-6 (P0, half of P1) commits; batch 2 = 7-12 (the rest of P1, P2) fails refolding P2
    with pytest.raises(RuntimeError, match="simulated crash"):
        failing.catch_up(batch=6)

    assert tracking_position(database) == 6
    assert log_positions(database) == [(i, i) for i in range(1, 7)]
    assert len(event_keys(database)) == 6
    docs = dict(Store(database).rows("SELECT id, version FROM view_partnerships"))
    # P1 was refolded in the failed batch before the crash: its row is back at version 2
    assert docs == {str(ids[0]): 4, str(ids[1]): 2}

    # the same broken projection fails again at the same place, and still leaves nothing behind
    with pytest.raises(RuntimeError):
        failing.catch_up(batch=6)
    assert tracking_position(database) == 6

    assert services.projection.catch_up(batch=6) == n - 6
    assert_applied_exactly_once(database)
    incremental = view_rows(database)
    services.projection.rebuild()
    assert view_rows(database) == incremental


def test_crash_in_first_batch_leaves_empty_views(services: Any, database: str) -> None:
    """A failure in the very first batch leaves the views empty and the position at 0."""
    pid = register(services.tracker)
    record(services.tracker, pid, "note_added", text="a")
    with pytest.raises(RuntimeError):
        FailingProjection(services.tracker, services.db, fail_on=str(pid)).catch_up()
    assert tracking_position(database) == 0
    assert all(rows == [] for rows in view_rows(database).values())
    assert services.projection.catch_up() == 2
    assert_applied_exactly_once(database)


def test_rebuild_equals_incremental(services: Any, database: str) -> None:
    """Views kept up after every command equal, row by row, the views rebuilt from the whole log."""
    write_history(services.tracker, catch_up=services.projection.catch_up)
    incremental = view_rows(database)
    assert incremental["view_reminders"], "the history should open reminders"
    assert any(row[8] is not None for row in incremental["view_events"]), "the history should retract"
    assert services.projection.rebuild() == stored_count(database)
    assert view_rows(database) == incremental
    assert_applied_exactly_once(database)
    assert verify_store(services.tracker, services.db)["ok"]


def test_rebuild_by_another_instance_equals_incremental(services: Any, database: str) -> None:
    """A rebuild from a second Tracker/Projection on the same file gives the same rows."""
    write_history(services.tracker, catch_up=services.projection.catch_up, partnerships=4)
    incremental = view_rows(database)
    other = open_services(database)
    try:
        other.projection.rebuild()
    finally:
        other.close()
    assert view_rows(database) == incremental


def test_two_projection_instances_catching_up_concurrently_do_not_duplicate(services: Any, database: str) -> None:
    """Two Projection objects over two Tracker instances on one file, racing in threads, apply each event once."""
    write_history(services.tracker, partnerships=8)
    n = stored_count(database)
    other_tracker, other_projection = bare_projection(database)  # its own Tracker, datastore and Projection
    try:
        barrier = threading.Barrier(2)
        applied: dict[str, int] = {}
        errors: list[BaseException] = []

        def run(name: str, projection: Projection) -> None:
            try:
                barrier.wait(timeout=30)
                applied[name] = projection.catch_up(batch=3)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [
            threading.Thread(target=run, args=("a", services.projection)),
            threading.Thread(target=run, args=("b", other_projection)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors
        assert applied["a"] + applied["b"] == n
        assert_applied_exactly_once(database)
        concurrent = view_rows(database)
        services.projection.rebuild()
        assert view_rows(database) == concurrent
    finally:
        other_tracker.close()


def test_projection_processes_catching_up_concurrently_do_not_duplicate(services: Any, database: str) -> None:
    """Three OS processes catching up one file at once apply each event exactly once between them."""
    write_history(services.tracker, partnerships=8)
    n = stored_count(database)
    script = (
        "import sys\n"
        "from application.config import Config\n"
        "from domain.tracker import Tracker\n"
        "from projections.projection import Projection, views_recorder\n"
        "from infrastructure.store import Db\n"
        "t = Tracker(env=Config(database=sys.argv[1], create_tables=False).eventsourcing_env())\n"
        "print(Projection(t, Db(views_recorder(t))).catch_up(batch=2))\n"
        "t.close()\n"
    )
    processes = [
        subprocess.Popen([str(PYTHON), "-c", script, str(database)], cwd=REPO, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    counts = []
    for p in processes:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        counts.append(int(out.strip().splitlines()[-1]))
    assert sum(counts) == n
    assert_applied_exactly_once(database)
    concurrent = view_rows(database)
    services.projection.rebuild()
    assert view_rows(database) == concurrent


# --- audit: tampering --------------------------------------------------------------------------


@pytest.fixture
def history(services: Any) -> list[UUID]:
    ids = write_history(services.tracker, catch_up=services.projection.catch_up, partnerships=3)
    assert verify_store(services.tracker, services.db)["ok"]
    return ids


def kinds_at(report: dict[str, Any]) -> set[tuple[int | None, str]]:
    return {(p["position"], p["kind"]) for p in report["problems"]}


def test_verify_intact_store(services: Any, history: list[UUID], database: str) -> None:
    """An untouched store verifies: ok, every entry checked, head equal to the log view's head."""
    report = verify_store(services.tracker, services.db)
    n = stored_count(database)
    assert report["ok"] and report["problems"] == []
    assert report["checked"] == n
    head = Store(database).rows("SELECT position, hash FROM view_log ORDER BY position DESC LIMIT 1")[0]
    assert (report["head"]["position"], report["head"]["hash"]) == head


def test_verify_reports_an_edited_read_model_row(services: Any, history: list[UUID]) -> None:
    """Editing a partnership's list row is reported as a read_model problem at that partnership."""
    pid = str(history[1])
    store = Store(services.config.database)
    store.execute(("UPDATE view_partnerships SET status = 'active' WHERE id = ?", (pid,)))
    first = store.scalar("SELECT MIN(position) FROM view_events WHERE partnership_id = ?", (pid,))
    report = verify_store(services.tracker, services.db)
    assert not report["ok"]
    assert {p["kind"] for p in report["problems"]} == {"read_model"}
    assert (first, "read_model") in kinds_at(report)
    assert "view_partnerships" in report["problems"][0]["detail"]


def test_verify_reports_an_edited_event_row(services: Any, history: list[UUID]) -> None:
    """Editing an event's data in the event-list view is reported at that event's position."""
    Store(services.config.database).execute('UPDATE view_events SET data = \'{"text": "inna"}\' WHERE position = 7')
    report = verify_store(services.tracker, services.db)
    assert not report["ok"]
    assert (7, "read_model") in kinds_at(report)


def flip_byte_in_text(database: str, position: int, old: bytes, new: bytes) -> None:
    """Replace one byte inside a string value of the stored event at ``position`` (valid JSON stays valid)."""
    assert len(old) == len(new) == 1
    store = Store(database)
    state = store.stored_state(position)
    at = state.index(b'"text":"') + len(b'"text":"')
    at = state.index(old, at)
    store.set_stored_state(position, state[:at] + new + state[at + 1 :])


def note_positions(database: str) -> list[int]:
    return [
        r[0] for r in Store(database).rows("SELECT position FROM view_log WHERE type = 'note_added' ORDER BY position")
    ]


def test_verify_reports_a_changed_byte_in_a_stored_event(services: Any, history: list[UUID], database: str) -> None:
    """One byte changed in a stored event's state gives a hash problem first at exactly that position."""
    position = note_positions(database)[1]
    flip_byte_in_text(database, position, b"n", b"N")
    report = verify_store(services.tracker, services.db)
    assert not report["ok"]
    assert report["problems"][0]["position"] == position
    assert report["problems"][0]["kind"] == "hash"
    assert all(p["position"] >= position for p in report["problems"] if p["kind"] == "hash")


def test_verify_reports_a_stored_event_made_unreadable(services: Any, history: list[UUID], database: str) -> None:
    """A changed byte that breaks the stored JSON is reported at its position, not a crash."""
    position = note_positions(database)[0]
    store = Store(database)
    store.set_stored_state(position, store.stored_state(position).replace(b'"text":', b'"text"!', 1))
    report = verify_store(services.tracker, services.db)
    assert not report["ok"]
    assert report["problems"][0]["position"] == position
    assert report["problems"][0]["kind"] == "unreadable"


def test_verify_reports_a_deleted_log_row_as_missing(services: Any, history: list[UUID]) -> None:
    """A row deleted from the log view is reported as missing at its position."""
    Store(services.config.database).execute("DELETE FROM view_log WHERE position = 5")
    report = verify_store(services.tracker, services.db)
    assert not report["ok"]
    assert (5, "missing") in kinds_at(report)
    assert report["problems"][0]["position"] == 5


def test_verify_checks_a_kept_digest(services: Any, history: list[UUID], database: str) -> None:
    """A digest kept earlier still matches an intact log and catches a change made before it, even after a rebuild."""
    report = verify_store(services.tracker, services.db)
    kept = (report["head"]["position"], report["head"]["hash"])
    record(services.tracker, history[0], "note_added", text="później")
    services.projection.catch_up()
    assert verify_store(services.tracker, services.db, kept)["ok"]
    position = note_positions(database)[0]
    flip_byte_in_text(database, position, b"n", b"m")
    services.projection.rebuild()  # the views now agree with the tampered store
    tampered = verify_store(services.tracker, services.db, kept)
    assert not tampered["ok"]
    assert {(p["position"], p["kind"]) for p in tampered["problems"]} == {(kept[0], "digest")}
