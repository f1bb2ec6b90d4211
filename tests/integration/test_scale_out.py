"""Scale-out as docs/deploy.md describes it, on the test's store (an SQLite file, or a PostgreSQL schema with
``TEST_BACKEND=postgres``): ``tracker db init`` once, then several ``tracker serve`` processes (or one with
gunicorn workers) on the same store, writers racing through all of them; two ``tracker scheduler`` processes;
a server killed with SIGKILL while another one serves on.

Everything runs on loopback. Every loop is bounded; the bounds are never timing assertions: a server may take
up to ``SHOW_WITHIN_S`` seconds to show another server's write (it follows the log by LISTEN/NOTIFY on
PostgreSQL, by polling on SQLite).
"""

from __future__ import annotations

import http.client
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from backend import POSTGRES

from .helpers import (
    TRACKER,
    Server,
    add_user,
    all_log_entries,
    cli_env,
    finish_writers,
    free_port,
    request_json,
    start_writers,
    stored_count,
    tracker,
)

pytestmark = pytest.mark.slow

SHOW_WITHIN_S = 10  # how long a server may take to show another process's write
DEADLINE_S = 120  # a bound on every writer loop
RUNNING = "scheduler running"
ANOTHER = "another tracker scheduler is already running"


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of every process, after `tracker db init` on the test's fresh store (as a deployment)."""
    env = cli_env(tmp_path, init=False)
    result = tracker(tmp_path, "db", "init", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("tables ready"), result.stdout
    return env


@pytest.fixture
def people(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    """An officer's and an auditor's API tokens, made with `tracker users add`."""
    return {"officer": add_user(tmp_path, env, "ala", "officer"), "auditor": add_user(tmp_path, env, "ewa", "auditor")}


@pytest.fixture
def servers(tmp_path: Path, env: dict[str, str]) -> Iterator[Callable[..., Server]]:
    """Start `tracker serve --no-demo [ARGS]` processes on the store; all are stopped at the end."""
    started: list[Server] = []

    def start(name: str, *args: str) -> Server:
        server = Server(tmp_path, env, name, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# --- helpers ------------------------------------------------------------------------------------------------


def register(base: str, token: str, name: str) -> str:
    status, body = request_json(
        "POST",
        f"{base}/api/v1/partnerships",
        token,
        {"partner_name": name, "partner_country": "SK", "partner_kind": "municipality"},
    )
    assert status == 201, body
    assert body["version"] == 1
    return body["id"]


def events_of(base: str, token: str, pid: str) -> list[dict[str, Any]]:
    status, body = request_json("GET", f"{base}/api/v1/partnerships/{pid}/events", token)
    assert status == 200, body
    return body["items"]


def eventually(check: Callable[[], Any], what: str, within: float = SHOW_WITHIN_S) -> None:
    """Poll ``check`` until it returns True (bounded by ``within`` seconds); otherwise fail with its last answer."""
    deadline = time.monotonic() + within
    while True:
        answer = check()
        if answer is True:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not so after {within} s; last seen {answer!r}")
        time.sleep(0.05)


class NoteWriters:
    """Threads posting notes (no If-Match) through one server, round-robin over partnerships.

    Each thread stops after ``per_thread`` writes, when told to stop, when the deadline passes, or at the
    first refusal or broken connection (a write whose fate is unknown; allowed only when a server is killed).
    """

    def __init__(self, base: str, token: str, pids: Sequence[str], label: str, threads: int, per_thread: int) -> None:
        self.base, self.token, self.pids, self.label, self.per_thread = base, token, pids, label, per_thread
        self.acknowledged: list[tuple[str, int, str]] = []  # (partnership, version, text)
        self.refused: list[tuple[int, Any]] = []
        self.broken = 0
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]

    def run(self, i: int) -> None:
        deadline = time.monotonic() + DEADLINE_S
        for k in range(self.per_thread):
            if self.stopping.is_set() or time.monotonic() > deadline:
                return
            pid, text = self.pids[(i + k) % len(self.pids)], f"{self.label}-{i}-{k}"
            try:
                status, body = request_json(
                    "POST",
                    f"{self.base}/api/v1/partnerships/{pid}/events",
                    self.token,
                    {"type": "note_added", "occurred_on": "2026-01-15", "text": text},
                    timeout=60,
                )
            except (OSError, http.client.HTTPException):
                with self.changed:
                    self.broken += 1
                return
            with self.changed:
                if status == 201 and body["partnership_id"] == pid and body["data"]["text"] == text:
                    self.acknowledged.append((pid, body["version"], text))
                else:
                    self.refused.append((status, body))
                self.changed.notify_all()
            if status != 201:
                return

    def start(self) -> NoteWriters:
        for t in self.threads:
            t.start()
        return self

    def wait_for(self, count: int) -> None:
        with self.changed:
            self.changed.wait_for(lambda: len(self.acknowledged) >= count, timeout=DEADLINE_S)
            assert len(self.acknowledged) >= count, (len(self.acknowledged), self.refused, self.broken)

    def join(self) -> None:
        for t in self.threads:
            t.join(DEADLINE_S + 30)
        assert not any(t.is_alive() for t in self.threads), "a writer thread hung"

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def release_together(writers: Sequence[NoteWriters]) -> None:
    """Start every writer thread of every group, then wait for all of them."""
    for w in writers:
        w.start()
    for w in writers:
        w.join()


def kept_notes(items: Sequence[dict[str, Any]]) -> set[tuple[int, str]]:
    return {(e["version"], e["data"]["text"]) for e in items if e["type"] == "note_added"}


def assert_history(base: str, token: str, pid: str, acknowledged: Sequence[tuple[str, int, str]]) -> None:
    """The partnership's events as ``base`` shows them: versions 1..N without a gap, exactly the acknowledged notes."""
    items = events_of(base, token, pid)
    assert [e["version"] for e in items] == list(range(1, len(items) + 1))
    expected = {(version, text) for p, version, text in acknowledged if p == pid}
    assert kept_notes(items) == expected
    assert len(items) == 1 + len(expected)


def shows_version(base: str, token: str, pid: str, version: int) -> Callable[[], Any]:
    def check() -> Any:
        status, body = request_json("GET", f"{base}/api/v1/partnerships/{pid}", token)
        return True if status == 200 and body["version"] == version else (status, body.get("version"))

    return check


def shows_position(base: str, position: int) -> Callable[[], Any]:
    def check() -> Any:
        status, body = request_json("GET", f"{base}/api/v1/health")
        return True if status == 200 and body["position"] == position else (status, body)

    return check


def append_behind_the_servers(database: str, pid: str, count: int, label: str) -> list[tuple[str, int, str]]:
    """Notes appended by a writer process of its own (a bare Tracker: the log only, no read model caught up)."""
    (versions,) = finish_writers(start_writers([["write-notes", database, pid, str(count), label]]))
    return [(pid, int(version), f"{label}-{i}") for i, version in enumerate(versions)]


def assert_log(base: str, auditor: str, database: str) -> None:
    """The log through ``base``: positions 1..N without a gap, N the stored events, and the audit intact."""
    log = all_log_entries(base, auditor)
    assert [e["position"] for e in log] == list(range(1, len(log) + 1))
    assert len(log) == stored_count(database)
    status, report = request_json("GET", f"{base}/api/v1/audit/verify", auditor)
    assert status == 200 and report["ok"], report


def audit_verify(tmp_path: Path, env: Mapping[str, str]) -> None:
    result = tracker(tmp_path, "audit", "verify", env=env)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout.decode().startswith("intact:")


# --- two servers on one store -------------------------------------------------------------------------------


def test_writers_racing_through_two_servers_keep_every_write(
    tmp_path: Path, env: dict[str, str], people: dict[str, str], servers: Callable[..., Server]
) -> None:
    """Two `tracker serve` processes on one store, 4 writer threads through each on the same two partnerships:
    every request is acknowledged and kept, versions and log positions run 1..N, each server shows the other's
    writes."""
    officer, auditor = people["officer"], people["auditor"]
    a, b = servers("serve-a"), servers("serve-b")
    pids = [register(a.base, officer, "Gmina Alfa"), register(b.base, officer, "Gmina Beta")]

    groups = [NoteWriters(s.base, officer, pids, s.name, threads=4, per_thread=15) for s in (a, b)]
    release_together(groups)
    for w in groups:
        assert w.refused == [] and w.broken == 0, (w.refused, w.broken)
        assert len(w.acknowledged) == 4 * 15
    acknowledged = [ack for w in groups for ack in w.acknowledged]
    for pid in pids:
        versions = sorted(version for p, version, _ in acknowledged if p == pid)
        assert versions == list(range(2, len(versions) + 2))  # each version acknowledged once, none skipped

    total = stored_count(env["TRACKER_DATABASE"])
    assert total == 2 + len(acknowledged)
    for server in (a, b):
        eventually(shows_position(server.base, total), f"{server.name} at the log's head")
        for pid in pids:
            assert_history(server.base, officer, pid, acknowledged)
        assert_log(server.base, auditor, env["TRACKER_DATABASE"])

    # one write through each server is shown by the other one
    for writer, reader in ((a, b), (b, a)):
        status, body = request_json(
            "POST",
            f"{writer.base}/api/v1/partnerships/{pids[0]}/events",
            officer,
            {"type": "note_added", "occurred_on": "2026-01-16", "text": f"through {writer.name}"},
        )
        assert status == 201, body
        eventually(shows_version(reader.base, officer, pids[0], body["version"]), f"{reader.name} shows {body}")
        items = events_of(reader.base, officer, pids[0])
        assert (body["version"], f"through {writer.name}") in kept_notes(items)
        acknowledged.append((pids[0], body["version"], f"through {writer.name}"))

    # appends no server made, and no HTTP write after them: the servers follow the log on their own
    acknowledged += append_behind_the_servers(env["TRACKER_DATABASE"], pids[1], 10, "behind")
    total = stored_count(env["TRACKER_DATABASE"])
    for server in (a, b):
        eventually(shows_position(server.base, total), f"{server.name} follows appends it did not make")
        for pid in pids:
            assert_history(server.base, officer, pid, acknowledged)

    a.stop()
    b.stop()
    audit_verify(tmp_path, env)


def test_gunicorn_workers_keep_every_write(
    tmp_path: Path, env: dict[str, str], people: dict[str, str], servers: Callable[..., Server]
) -> None:
    """`tracker serve --workers 2` (gunicorn): it answers, two workers boot, 6 racing writer threads are all
    acknowledged and kept, and every read through the port, whichever worker answers it, shows them all."""
    officer, auditor = people["officer"], people["auditor"]
    server = servers("serve-workers", "--workers", "2", "--threads", "4")
    pid = register(server.base, officer, "Gmina Gunicorn")
    writers = NoteWriters(server.base, officer, [pid], "w", threads=6, per_thread=15)
    release_together([writers])
    assert writers.refused == [] and writers.broken == 0, (writers.refused, writers.broken)
    assert sorted(v for _, v, _ in writers.acknowledged) == list(range(2, 6 * 15 + 2))

    def every_read_shows_all() -> Any:  # several reads in a row: the two workers may both answer
        seen = [len(events_of(server.base, officer, pid)) for _ in range(6)]
        return True if seen == [6 * 15 + 1] * 6 else seen

    eventually(every_read_shows_all, "every worker shows every write")
    assert_history(server.base, officer, pid, writers.acknowledged)

    behind = append_behind_the_servers(env["TRACKER_DATABASE"], pid, 10, "behind")
    assert [v for _, v, _ in behind] == list(range(6 * 15 + 2, 6 * 15 + 12))
    expected = 6 * 15 + 11

    def every_read_follows() -> Any:
        seen = [len(events_of(server.base, officer, pid)) for _ in range(6)]
        return True if seen == [expected] * 6 else seen

    eventually(every_read_follows, "the workers follow appends they did not make")
    assert_history(server.base, officer, pid, writers.acknowledged + behind)
    assert_log(server.base, auditor, env["TRACKER_DATABASE"])
    server.stop()
    assert server.output().count("Booting worker") == 2, server.output()
    audit_verify(tmp_path, env)


def test_a_server_killed_mid_write_loses_nothing_and_the_other_serves_on(
    tmp_path: Path, env: dict[str, str], people: dict[str, str], servers: Callable[..., Server]
) -> None:
    """Writers through two servers; one server gets SIGKILL mid-stream. The other one keeps taking writes and
    shows every write either acknowledged; the killed one, restarted, shows them too; the audit verifies."""
    officer, auditor = people["officer"], people["auditor"]
    a, b = servers("serve-a"), servers("serve-b")
    pids = [register(a.base, officer, "Gmina Trwała"), register(a.base, officer, "Gmina Odporna")]
    through_a = NoteWriters(a.base, officer, pids, "a", threads=3, per_thread=2000).start()
    through_b = NoteWriters(b.base, officer, pids, "b", threads=3, per_thread=2000).start()
    try:
        through_a.wait_for(30)
        through_b.wait_for(10)
        a.kill()
        before = len(through_b.acknowledged)
        through_b.wait_for(before + 20)  # b takes writes after the kill
    finally:
        through_a.stop()
        through_b.stop()
    assert through_b.refused == [] and through_b.broken == 0, (through_b.refused, through_b.broken)
    assert through_a.refused == [], through_a.refused  # the writers through a only ever broke off
    acknowledged = through_a.acknowledged + through_b.acknowledged

    total = stored_count(env["TRACKER_DATABASE"])
    eventually(shows_position(b.base, total), "the surviving server at the log's head")
    for pid in pids:
        items = events_of(b.base, officer, pid)
        assert [e["version"] for e in items] == list(range(1, len(items) + 1))
        missing = {(v, t) for p, v, t in acknowledged if p == pid} - kept_notes(items)
        assert missing == set(), f"acknowledged writes lost: {sorted(missing)[:5]}"
    assert_log(b.base, auditor, env["TRACKER_DATABASE"])

    restarted = servers("serve-a-again")
    assert restarted.position == total
    for pid in pids:
        assert events_of(restarted.base, officer, pid) == events_of(b.base, officer, pid)
    restarted.stop()
    b.stop()
    audit_verify(tmp_path, env)


@pytest.mark.skipif(not POSTGRES, reason="on SQLite every process creates its tables; only PostgreSQL needs db init")
def test_a_server_on_a_database_without_db_init_says_so(tmp_path: Path) -> None:
    """PostgreSQL servers start with table creation off: on a fresh schema `tracker serve` says to run db init."""
    env = cli_env(tmp_path, init=False)
    result = tracker(tmp_path, "serve", "--no-demo", "--port", str(free_port()), env=env, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: the database has no tracker tables yet: run `tracker db init` once"
    ], result.stderr


# --- two schedulers on one store ------------------------------------------------------------------------------


class Scheduler:
    """A `tracker scheduler` process; its stdout and stderr go to files, read back while it runs."""

    def __init__(self, tmp_path: Path, env: Mapping[str, str], name: str) -> None:
        self.name = name
        self.out, self.err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [str(TRACKER), "scheduler"], cwd=tmp_path, env=dict(env), stdout=out, stderr=err
            )

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def says(self, text: str) -> Callable[[], Any]:
        return lambda: True if text in self.stdout() else (self.process.poll(), self.stdout(), self.stderr())

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(60)


def test_two_schedulers_on_one_store_one_runs_and_a_killed_holder_frees_the_lock(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Two `tracker scheduler` started together on one store: one runs, the other says another one runs and
    exits non-zero. SIGKILL of the runner frees the lock (file lock or advisory lock): a new one runs."""
    pair = [Scheduler(tmp_path, env, "scheduler-1"), Scheduler(tmp_path, env, "scheduler-2")]
    started = [*pair]
    try:
        eventually(lambda: any(s.process.poll() is not None for s in pair) or None, "one scheduler exits", 60)
        (loser,) = [s for s in pair if s.process.poll() is not None]
        (runner,) = [s for s in pair if s is not loser]
        assert loser.process.returncode != 0
        assert ANOTHER in loser.stderr(), (loser.stdout(), loser.stderr())
        assert RUNNING not in loser.stdout()
        eventually(runner.says(RUNNING), f"{runner.name} runs", 60)
        assert runner.process.poll() is None

        runner.stop(signal.SIGKILL)  # no clean-up: the lock must go with the process
        third = Scheduler(tmp_path, env, "scheduler-3")
        started.append(third)
        eventually(third.says(RUNNING), "a new scheduler takes over", 60)
        assert third.stop(signal.SIGTERM) == 0
        assert "scheduler stopped" in third.stdout()
        assert "Traceback" not in third.stderr()
    finally:
        for s in started:
            s.stop(signal.SIGKILL)
