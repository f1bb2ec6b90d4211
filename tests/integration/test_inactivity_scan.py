"""The inactivity scan on a real store (SQLite or PostgreSQL): once per spell, once per plan, safe when run
twice at once.

The job function is called directly with a fixed date; the cross-process case runs the real
``tracker scan-inactivity --today D`` twice at the same time on one store.
"""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from backend import Store

from application import jobs
from application.config import Config
from application.seed import partnership_id_for
from application.services import Services, build_services
from projections import queries
from projections.documents import reminder_id

from .helpers import TODAY, TRACKER, cli_env, database_of, log_entries, open_services, record, register, tracker

DAYS = 365


def log_position(services: Services) -> int:
    """How many events the store holds (counted: PostgreSQL's sequence may skip numbers)."""
    return Store(services.config.database).stored_count()


def flags_in_log(services: Services) -> list[dict[str, Any]]:
    """Every inactivity_flagged entry of the log, through the read model (caught up first)."""
    services.projection.catch_up()
    return [e for e in log_entries(services.db) if e["type"] == "inactivity_flagged"]


def agreement(services: Services, pid: UUID, on: str) -> None:
    record(services.tracker, pid, "agreement_signed", occurred_on=date.fromisoformat(on), agreement_kind="partnership")


def activity(services: Services, pid: UUID, on: str) -> Any:
    return record(
        services.tracker,
        pid,
        "activity_held",
        occurred_on=date.fromisoformat(on),
        activity_kind="visit",
        title="Wizyta",
    )


def active_since(services: Services, name: str, on: str) -> UUID:
    """A partnership registered and made active by an agreement on ``on`` (its only activity)."""
    pid = register(services.tracker, name)
    agreement(services, pid, on)
    return pid


def scan(services: Services, today: date) -> jobs.JobReport:
    return jobs.scan_inactivity(services, today)


# --- once per spell -----------------------------------------------------------------------------------


def test_an_inactive_partnership_is_flagged_once_per_spell(services: Services) -> None:
    """The first scan flags the quiet partnership; a second scan the same day (or later) records nothing."""
    quiet = active_since(services, "Gmina Cicha", "2020-01-01")
    active_since(services, "Gmina Żywa", "2026-06-01")
    report = scan(services, TODAY)
    assert [(f["partnership_id"], f["kind"], f["partner_name"]) for f in report.flagged] == [
        (str(quiet), "inactive", "Gmina Cicha")
    ]
    flags = flags_in_log(services)
    assert [(f["partnership_id"], f["recorded_by"], f["occurred_on"]) for f in flags] == [
        (str(quiet), "system", TODAY.isoformat())
    ]
    assert flags[0]["data"]["kind"] == "inactive"
    assert flags[0]["data"]["last_activity_on"] == "2020-01-01"

    position = log_position(services)
    assert scan(services, TODAY).flagged == []
    assert scan(services, date(2027, 6, 1)).flagged == []
    assert log_position(services) == position


def test_exactly_n_days_is_not_flagged_n_plus_one_is(services: Services) -> None:
    """On a real store the scan agrees with the rule: 365 quiet days are not inactive, 366 are."""
    pid = active_since(services, "Gmina Graniczna", "2025-11-26")
    assert scan(services, date(2026, 11, 26)).flagged == []
    assert log_position(services) == 2
    assert [f["partnership_id"] for f in scan(services, date(2026, 11, 27)).flagged] == [str(pid)]


def test_new_activity_ends_the_spell_and_a_later_spell_is_flagged_again(services: Services) -> None:
    """After new activity the partnership is not flagged; when it falls quiet again, it is flagged again."""
    pid = active_since(services, "Gmina Falująca", "2020-01-01")
    assert len(scan(services, TODAY).flagged) == 1
    activity(services, pid, "2026-11-20")
    position = log_position(services)
    assert scan(services, TODAY).flagged == []
    assert scan(services, date(2027, 11, 20)).flagged == []  # exactly 365 days after the new activity
    assert log_position(services) == position
    again = scan(services, date(2027, 11, 21))
    assert [(f["partnership_id"], f["kind"]) for f in again.flagged] == [(str(pid), "inactive")]
    assert [f["data"]["last_activity_on"] for f in flags_in_log(services)] == ["2020-01-01", "2026-11-20"]
    assert scan(services, date(2027, 12, 31)).flagged == []


def test_suspended_terminated_and_proposed_are_skipped(services: Services) -> None:
    """Only intent and active partnerships are flagged; proposed, suspended and terminated never are."""
    intent = register(services.tracker, "Gmina Zamiar")
    record(services.tracker, intent, "letter_of_intent_signed", occurred_on=date(2015, 1, 1))
    active = active_since(services, "Gmina Aktywna", "2015-01-01")
    suspended = active_since(services, "Gmina Zawieszona", "2015-01-01")
    record(services.tracker, suspended, "cooperation_suspended", occurred_on=date(2016, 1, 1), reason="wybory")
    terminated = active_since(services, "Gmina Zakończona", "2015-01-01")
    record(services.tracker, terminated, "partnership_terminated", occurred_on=date(2016, 1, 1), reason="fuzja")
    proposed = register(services.tracker, "Gmina Propozycja")
    record(services.tracker, proposed, "school_joined", occurred_on=date(2015, 1, 1), school_name="LO", side="local")

    report = scan(services, TODAY)
    assert sorted(f["partnership_id"] for f in report.flagged) == sorted([str(intent), str(active)])
    assert {f["partnership_id"] for f in flags_in_log(services)} == {str(intent), str(active)}


def test_retracted_activity_is_ignored(services: Services) -> None:
    """A retracted recent activity does not keep the partnership active; the flag names the activity before it."""
    pid = active_since(services, "Gmina Wycofana", "2015-05-05")
    wrong = activity(services, pid, "2026-10-01")
    assert scan(services, TODAY).flagged == []
    record(services.tracker, pid, "event_retracted", occurred_on=TODAY, retracts=wrong.version, reason="pomyłka")
    report = scan(services, TODAY)
    assert [f["partnership_id"] for f in report.flagged] == [str(pid)]
    (flag,) = flags_in_log(services)
    assert flag["data"]["last_activity_on"] == "2015-05-05"
    reminder = queries.get_reminder(services.db, reminder_id(str(pid), flag["version"]))
    assert reminder["last_activity_on"] == "2015-05-05"
    assert reminder["open"] is True


def test_a_retracted_flag_is_flagged_again(services: Services) -> None:
    """An officer's retraction of a flag makes it as if never flagged: the next scan flags the spell again."""
    pid = active_since(services, "Gmina Odwołana", "2015-05-05")
    (flag,) = scan(services, TODAY).flagged
    record(services.tracker, pid, "event_retracted", occurred_on=TODAY, retracts=flag["version"], reason="pomyłka")
    again = scan(services, TODAY)
    assert [f["partnership_id"] for f in again.flagged] == [str(pid)]
    assert scan(services, TODAY).flagged == []


# --- planned exchanges -----------------------------------------------------------------------------------


def plan(services: Services, pid: UUID, on: str, planned_for: str) -> int:
    recorded = record(
        services.tracker,
        pid,
        "youth_exchange_planned",
        occurred_on=date.fromisoformat(on),
        planned_for=date.fromisoformat(planned_for),
    )
    return recorded.version


def test_an_overdue_plan_opens_one_exchange_overdue_reminder(services: Services) -> None:
    """A plan whose day passed without an exchange is flagged once (not on the day itself), with its date."""
    pid = active_since(services, "Gmina Planująca", "2026-01-01")
    plan_version = plan(services, pid, "2026-01-10", "2026-06-01")
    assert scan(services, date(2026, 6, 1)).flagged == []
    report = scan(services, date(2026, 6, 2))
    assert [(f["partnership_id"], f["kind"]) for f in report.flagged] == [(str(pid), "exchange_overdue")]
    (flag,) = flags_in_log(services)
    assert flag["data"] == {"kind": "exchange_overdue", "planned_for": "2026-06-01", "plan_version": plan_version}
    position = log_position(services)
    assert scan(services, date(2026, 6, 2)).flagged == []
    assert scan(services, TODAY).flagged == []
    assert log_position(services) == position
    (reminder,) = queries.list_reminders(services.db)
    assert (reminder["kind"], reminder["planned_for"], reminder["opened_on"], reminder["open"]) == (
        "exchange_overdue",
        "2026-06-01",
        "2026-06-02",
        True,
    )


def test_each_plan_is_chased_once_and_a_held_exchange_settles_its_plan(services: Services) -> None:
    """Two plans: the one followed by an exchange is not chased, the other gets one reminder."""
    settled = active_since(services, "Gmina Wymiana", "2026-01-01")
    plan(services, settled, "2026-01-10", "2026-06-01")
    record(
        services.tracker,
        settled,
        "youth_exchange_held",
        occurred_on=date(2026, 6, 5),
        ends_on=date(2026, 6, 12),
        participants=20,
    )
    chased = active_since(services, "Gmina Zapominalska", "2026-01-01")
    first = plan(services, chased, "2026-01-10", "2026-06-01")
    second = plan(services, chased, "2026-02-10", "2026-09-01")
    flagged = scan(services, date(2026, 6, 10)).flagged
    assert [(f["partnership_id"], f["kind"]) for f in flagged] == [(str(chased), "exchange_overdue")]
    flagged = scan(services, TODAY).flagged
    assert [(f["partnership_id"], f["kind"]) for f in flagged] == [(str(chased), "exchange_overdue")]
    plans = [f["data"]["plan_version"] for f in flags_in_log(services)]
    assert plans == [first, second]
    assert scan(services, TODAY).flagged == []


def test_a_quiet_partnership_with_an_overdue_plan_gets_both_reminders(services: Services) -> None:
    """Inactivity and an overdue plan are two reminders, each recorded once."""
    pid = active_since(services, "Gmina Podwójna", "2020-01-01")
    plan(services, pid, "2020-02-01", "2020-06-01")
    report = scan(services, TODAY)
    assert sorted(f["kind"] for f in report.flagged) == ["exchange_overdue", "inactive"]
    assert {f["partnership_id"] for f in report.flagged} == {str(pid)}
    assert scan(services, TODAY).flagged == []
    assert len(flags_in_log(services)) == 2


# --- two scans at once -------------------------------------------------------------------------------------


def _quiet_register(services: Services, n: int) -> list[UUID]:
    return [active_since(services, f"Gmina Cicha {i:02d}", "2015-01-01") for i in range(n)]


def test_two_scans_in_two_threads_flag_nothing_twice(services: Services, config: Config) -> None:
    """Two scans racing in two threads (each with its own connection) record each flag exactly once."""
    pids = _quiet_register(services, 60)
    services.projection.catch_up()
    others = [build_services(replace(config, fixed_today=TODAY)) for _ in range(2)]
    barrier = threading.Barrier(2)
    reports: list[jobs.JobReport] = []
    errors: list[BaseException] = []

    def run(s: Services) -> None:
        try:
            barrier.wait(timeout=30)
            reports.append(jobs.scan_inactivity(s, TODAY))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(s,)) for s in others]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for s in others:
            s.close()
    assert not errors, errors
    reported = Counter(f["partnership_id"] for r in reports for f in r.flagged)
    assert reported == Counter(str(p) for p in pids)
    assert Counter(f["partnership_id"] for f in flags_in_log(services)) == Counter(str(p) for p in pids)


def _opened(pid: int, database: Path) -> bool:
    """Whether process ``pid`` has the database file open."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(fd.resolve() == database.resolve() for fd in fds.iterdir())
    except (FileNotFoundError, PermissionError):
        return False


@contextmanager
def writes_held(store: Store) -> Iterator[Callable[[list[subprocess.Popen]], bool]]:
    """Hold the store's write lock; yields ``ready(processes)``: whether every process reached the store.

    SQLite: ``BEGIN IMMEDIATE`` on the file; a process is there once it has the file open (it waits for
    the lock at its first write). PostgreSQL: the log table locked as every event append locks it; the
    processes are there once each of them waits for that lock.
    """
    if store.postgres:
        import psycopg

        gate = psycopg.connect(store.server_url, options=f"-c search_path={store.schema}")
        gate.execute(f"LOCK TABLE {store.events} IN EXCLUSIVE MODE")

        def ready(processes: list[subprocess.Popen]) -> bool:
            waiting = store.scalar(
                "SELECT COUNT(*) FROM pg_locks WHERE relation = ?::regclass AND NOT granted",
                (f'"{store.schema}".{store.events}',),
            )
            return waiting >= len(processes)

        try:
            yield ready
        finally:
            gate.rollback()
            gate.close()
        return
    gate = sqlite3.connect(store.database, isolation_level=None)
    gate.execute("BEGIN IMMEDIATE")
    try:
        yield lambda processes: all(_opened(p.pid, Path(store.database)) for p in processes)
    finally:
        gate.execute("ROLLBACK")
        gate.close()


def test_two_scan_processes_on_one_store_flag_nothing_twice(tmp_path: Path) -> None:
    """Two `tracker scan-inactivity --today D` processes released at once: each partnership flagged once in all."""
    database = database_of(tmp_path)
    s = open_services(database)
    try:
        pids = _quiet_register(s, 150)
        s.projection.catch_up()
    finally:
        s.close()
    env = cli_env(tmp_path)
    with writes_held(Store(database)) as ready:  # both processes open the store and wait for the write lock
        processes = [
            subprocess.Popen(
                [str(TRACKER), "scan-inactivity", "--today", TODAY.isoformat()],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 120  # a bound, never an assertion on speed
        while not ready(processes):
            for p in processes:
                assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline, "the scan processes never reached the store"
            time.sleep(0.01)
    outputs = []
    for p in processes:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        outputs.append(out)
    flagged = [line for out in outputs for line in out.splitlines() if line.startswith("flagged ")]
    assert Counter(line.rsplit("(", 1)[1].rstrip(")") for line in flagged) == Counter(str(p) for p in pids)
    s = open_services(database)
    try:
        assert Counter(f["partnership_id"] for f in flags_in_log(s)) == Counter(str(p) for p in pids)
    finally:
        s.close()
    again = tracker(tmp_path, "scan-inactivity", "--today", TODAY.isoformat(), env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.decode().strip() == f"nothing to flag on {TODAY.isoformat()}"


# --- the seed --------------------------------------------------------------------------------------------------


SEED_OPEN = ("rome-ladispoli", "gurjaani", "novohrad-volynskyi-district", "novohrad-volynskyi-city")


def test_the_seed_scanned_flags_the_four_open_partnerships_not_bar(tmp_path: Path) -> None:
    """`tracker seed`, then a scan on 2026-11-26: the four active partnerships are flagged, Bar (suspended) is not."""
    seeded = tracker(tmp_path, "seed")
    assert seeded.returncode == 0, seeded.stderr
    s = open_services(database_of(tmp_path))
    try:
        clock = queries.Clock(TODAY, DAYS)
        inactive = queries.list_partnerships(s.db, clock, inactive=True)
        assert {p["id"] for p in inactive["items"]} == {str(partnership_id_for(k)) for k in SEED_OPEN}
        report = jobs.scan_inactivity(s, TODAY)
        flagged = {f["partnership_id"] for f in report.flagged}
        assert flagged == {str(partnership_id_for(k)) for k in SEED_OPEN}
        assert str(partnership_id_for("bar")) not in flagged
        assert {f["kind"] for f in report.flagged} == {"inactive"}
        last = {f["partnership_id"]: f["data"]["last_activity_on"] for f in flags_in_log(s)}
        assert last == {
            str(partnership_id_for("rome-ladispoli")): "2019-10-18",
            str(partnership_id_for("gurjaani")): "2018-09-20",
            str(partnership_id_for("novohrad-volynskyi-district")): "2007-01-25",
            str(partnership_id_for("novohrad-volynskyi-city")): "2012-07-28",
        }
        after = queries.list_partnerships(s.db, clock, inactive=True)
        assert {p["id"] for p in after["items"]} == flagged
        assert all(p["inactive"] for p in after["items"])
        rest = queries.list_partnerships(s.db, clock, inactive=False)
        assert [p["id"] for p in rest["items"]] == [str(partnership_id_for("bar"))]
        assert len(queries.list_reminders(s.db, is_open=True)) == 4
        assert jobs.scan_inactivity(s, TODAY).flagged == []
    finally:
        s.close()


def test_the_seed_scanned_by_the_command_prints_the_four_flags(tmp_path: Path) -> None:
    """`tracker scan-inactivity --today 2026-11-26` on the seed prints one line per flagged partnership, not Bar."""
    assert tracker(tmp_path, "seed").returncode == 0
    result = tracker(tmp_path, "scan-inactivity", "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    flagged = [line for line in lines if line.startswith("flagged inactive: ")]
    assert sorted(line.rsplit("(", 1)[1].rstrip(")") for line in flagged) == sorted(
        str(partnership_id_for(k)) for k in SEED_OPEN
    )
    assert not any("Bar" in line for line in flagged)
    assert tracker(tmp_path, "scan-inactivity", "--today", TODAY.isoformat()).stdout.decode().splitlines() == [
        f"nothing to flag on {TODAY.isoformat()}"
    ]


# --- a read model of an older layout -------------------------------------------------------------------------


def _downgrade(database: str, *, keep_plan_column: bool) -> None:
    """Make the view tables look like an older release: no view_meta, view_partnerships without the markers."""
    plan_column = "next_plan_due TEXT," if keep_plan_column else ""
    plan_value = "next_plan_due," if keep_plan_column else ""
    store = Store(database)
    script = f"""
            DROP TABLE view_meta;
            ALTER TABLE view_partnerships RENAME TO old_partnerships;
            DROP INDEX IF EXISTS view_partnerships_sort;
            DROP INDEX IF EXISTS view_partnerships_status;
            DROP INDEX IF EXISTS view_partnerships_country;
            DROP INDEX IF EXISTS view_partnerships_activity;
            DROP INDEX IF EXISTS view_partnerships_plans;
            CREATE TABLE view_partnerships (
                id TEXT PRIMARY KEY,
                sort_name TEXT NOT NULL,
                partner_country TEXT NOT NULL,
                status TEXT NOT NULL,
                last_activity_on TEXT,
                {plan_column}
                search TEXT NOT NULL,
                version BIGINT NOT NULL,
                doc TEXT NOT NULL);
            INSERT INTO view_partnerships
                SELECT id, sort_name, partner_country, status, last_activity_end, {plan_value} search, version, doc
                FROM old_partnerships;
            DROP TABLE old_partnerships;
            CREATE INDEX view_partnerships_sort ON view_partnerships (sort_name, id);
            CREATE INDEX view_partnerships_activity ON view_partnerships (last_activity_on);
            """
    store.execute(*(statement for statement in script.split(";") if statement.strip()))
    assert "spell_flagged" not in store.columns("view_partnerships")


def _scan_after_upgrade(tmp_path: Path, *, keep_plan_column: bool) -> None:
    database = database_of(tmp_path)
    s = open_services(database)
    try:
        quiet = active_since(s, "Gmina Stara", "2015-01-01")
        fresh = active_since(s, "Gmina Nowa", "2026-06-01")
        s.projection.catch_up()
    finally:
        s.close()
    _downgrade(database, keep_plan_column=keep_plan_column)

    s = open_services(database)
    try:
        store = Store(database)
        assert {"spell_flagged", "next_plan_due", "last_activity_end", "due_on"} <= store.columns("view_partnerships")
        assert store.rows("SELECT value FROM view_meta WHERE name = 'layout'") != []
        ids = {p["id"] for p in queries.list_partnerships(s.db, queries.Clock(TODAY, DAYS))["items"]}
        assert ids == {str(quiet), str(fresh)}
        assert [f["partnership_id"] for f in jobs.scan_inactivity(s, TODAY).flagged] == [str(quiet)]
        assert jobs.scan_inactivity(s, TODAY).flagged == []
        assert len(flags_in_log(s)) == 1
    finally:
        s.close()


def test_a_read_model_without_the_spell_marker_is_rebuilt_and_scans(tmp_path: Path) -> None:
    """Views without view_meta and without spell_flagged are rebuilt on the next start, and the scan works."""
    _scan_after_upgrade(tmp_path, keep_plan_column=True)


def test_a_read_model_of_the_previous_release_is_rebuilt_and_scans(tmp_path: Path) -> None:
    """Views exactly as the previous release made them (no spell_flagged, no next_plan_due) are rebuilt on start."""
    _scan_after_upgrade(tmp_path, keep_plan_column=False)
