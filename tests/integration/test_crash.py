"""A real `tracker serve` (waitress) killed with SIGKILL while clients write: every write it
acknowledged with 201 is in the log after a restart, and the audit still verifies. On SQLite and on
PostgreSQL (``TEST_BACKEND``)."""

from __future__ import annotations

import http.client
import os
import threading
import time
from pathlib import Path

import pytest

from .helpers import (
    Server,
    add_user,
    all_log_entries,
    cli_env,
    database_of,
    open_services,
    request_json,
    stored_count,
    tracker,
)

pytestmark = pytest.mark.slow

CLIENTS = 3
MAX_WRITES_PER_CLIENT = 2000  # a bound: the kill comes long before
KILL_AFTER = 40  # acknowledged writes before the SIGKILL
DEADLINE_S = 120  # a bound on every loop, never an assertion


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


class Writers:
    """Client threads posting notes over HTTP until stopped or refused; they keep what was acknowledged."""

    def __init__(self, base: str, token: str, pid: str, label: str) -> None:
        self.base, self.token, self.pid, self.label = base, token, pid, label
        self.acknowledged: list[tuple[int, str]] = []
        self.lock = threading.Condition()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(CLIENTS)]

    def run(self, i: int) -> None:
        deadline = time.monotonic() + DEADLINE_S
        for k in range(MAX_WRITES_PER_CLIENT):
            if self.stop.is_set() or time.monotonic() > deadline:
                return
            text = f"{self.label}-{i}-{k}"
            try:
                status, body = request_json(
                    "POST",
                    f"{self.base}/api/v1/partnerships/{self.pid}/events",
                    self.token,
                    {"type": "note_added", "occurred_on": "2026-01-15", "text": text},
                    timeout=10,
                )
            except (
                OSError,
                http.client.HTTPException,
            ):  # the server is gone: this write's fate is unknown, and that is allowed
                return
            if status != 201:
                return
            with self.lock:
                self.acknowledged.append((body["version"], text))
                self.lock.notify_all()

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def wait_for(self, count: int) -> None:
        with self.lock:
            self.lock.wait_for(lambda: len(self.acknowledged) >= count, timeout=DEADLINE_S)
            assert len(self.acknowledged) >= count, "the clients did not get enough writes through"

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(DEADLINE_S)
        assert not any(t.is_alive() for t in self.threads)


def test_acknowledged_writes_survive_sigkill_of_the_server(tmp_path: Path, env: dict[str, str]) -> None:
    """SIGKILL during a stream of writes, twice: after each restart every 201 is in the log; audit verify exits 0."""
    officer = add_user(tmp_path, env, "ala", "officer")
    auditor = add_user(tmp_path, env, "ewa", "auditor")
    server = Server(tmp_path, env, "serve-0")
    try:
        assert server.position == 0  # --no-demo: nothing loaded
        status, created = request_json(
            "POST",
            f"{server.base}/api/v1/partnerships",
            officer,
            {"partner_name": "Gmina Odporna", "partner_country": "SK", "partner_kind": "municipality"},
        )
        assert status == 201, created
        pid = created["id"]
        acknowledged: list[tuple[int, str]] = [(1, "")]
        for round_ in range(2):
            writers = Writers(server.base, officer, pid, f"round{round_}")
            writers.start()
            try:
                writers.wait_for(KILL_AFTER)
                server.kill()
            finally:
                writers.join()
            acknowledged += writers.acknowledged

            server = Server(tmp_path, env, f"serve-{round_ + 1}")
            status, events = request_json("GET", f"{server.base}/api/v1/partnerships/{pid}/events", officer)
            assert status == 200
            kept = {(e["version"], e["data"].get("text", "")) for e in events["items"]}
            missing = [a for a in acknowledged if a not in kept]
            assert missing == [], f"acknowledged writes lost in round {round_}: {missing[:5]}"
            versions = [e["version"] for e in events["items"]]
            assert versions == list(range(1, len(versions) + 1))

            log = all_log_entries(server.base, auditor)
            assert [e["position"] for e in log] == list(range(1, len(log) + 1))
            assert len(log) == stored_count(env["TRACKER_DATABASE"]) == server.position

        # the restarted server takes writes as before
        status, body = request_json(
            "POST",
            f"{server.base}/api/v1/partnerships/{pid}/events",
            officer,
            {"type": "note_added", "occurred_on": "2026-01-15", "text": "after the crashes"},
        )
        assert status == 201, body
        status, report = request_json("GET", f"{server.base}/api/v1/audit/verify", auditor)
        assert status == 200 and report["ok"], report
    finally:
        server.stop()

    verify = tracker(tmp_path, "audit", "verify", env=env)
    assert verify.returncode == 0, (verify.stdout, verify.stderr)
    assert verify.stdout.decode().startswith("intact:")


def test_store_commits_durably(tmp_path: Path) -> None:
    """A commit is on disk before the 201: SQLite runs in WAL mode with synchronous=FULL; on PostgreSQL the
    tracker's sessions keep synchronous_commit on (nothing in the tracker turns durability off), and the
    server syncs to disk (fsync), unless it is the suite's throwaway cluster started without it on purpose
    (``PGCI_FAST=1``, .ci/pg-start.sh: a crash of PostgreSQL or of the app still loses nothing there)."""
    services = open_services(database_of(tmp_path))
    try:
        for datastore in (services.tracker.recorder.datastore, services.db.datastore):
            with datastore.transaction(commit=False) as cursor:
                if services.config.is_postgres:
                    cursor.execute("SHOW fsync")
                    fsync = next(iter(cursor.fetchone().values()))
                    assert fsync == "on" or os.environ.get("PGCI_FAST") == "1", fsync
                    cursor.execute("SHOW synchronous_commit")
                    assert next(iter(cursor.fetchone().values())) != "off"
                    continue
                cursor.execute("PRAGMA journal_mode")
                assert cursor.fetchone()[0].lower() == "wal"
                cursor.execute("PRAGMA synchronous")
                assert cursor.fetchone()[0] >= 2  # FULL (2) or EXTRA (3)
    finally:
        services.close()
