"""Honest failure: with the store down or full, a real `tracker serve` answers 503 with Retry-After (JSON under
/api/, an HTML page elsewhere), /api/v1/health says what is wrong, and service comes back by itself.

PostgreSQL (TEST_BACKEND=postgres): the test starts a throwaway cluster of its own (.ci/pg-start.sh), so it
can stop and start it under a running server without disturbing the shared one.

SQLite: the fault is a real one from the kernel: the server runs with a small RLIMIT_FSIZE, so the database
file cannot grow (write() fails as on a full disk, and SQLite reports an error); raising the limit of the
running process (prlimit) is the disk freed again.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from backend import ORGANISATION, POSTGRES

from .helpers import REPO, Server, add_user, tracker

#: A client that waits this long has met a hang; every answer here must come well before it.
CLIENT_TIMEOUT_S = 15


def call(method: str, url: str, token: str | None = None, body: Any = None, key: str | None = None) -> dict[str, Any]:
    """One request; its status, headers, JSON body (or text) and how long it took."""
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if key:
        request.add_header("Idempotency-Key", key)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT_S) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    elapsed = time.monotonic() - started
    text = raw.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    return {"status": status, "headers": headers, "body": parsed, "elapsed": elapsed}


def assert_unavailable(answer: dict[str, Any]) -> None:
    assert answer["status"] == 503, answer
    assert int(answer["headers"]["Retry-After"]) > 0
    assert answer["body"]["code"] == "unavailable"
    assert "unavailable" in answer["body"]["error"]


def note(text: str) -> dict[str, str]:
    return {"type": "note_added", "occurred_on": "2026-11-26", "text": text}


def registration(name: str) -> dict[str, Any]:
    return {"partner_name": name, "partner_country": "DE", "partner_kind": "municipality", "areas": ["education"]}


def env_for(database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "PG"))}
    return {**env, "TRACKER_DATABASE": database, "TRACKER_ORGANISATION": ORGANISATION}


# --- PostgreSQL stopped and started under a running server ----------------------------------------------------


class Cluster:
    """A throwaway PostgreSQL cluster of this test's own (.ci/pg-start.sh), stoppable and startable."""

    def __init__(self) -> None:
        out = subprocess.run(
            ["bash", str(REPO / ".ci" / "pg-start.sh")],
            env={**os.environ, "PGCI_FAST": "1"},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        values = dict(re.findall(r"(\w+)=(\S+)", out))
        self.dir, self.bin, self.url = values["PGCI_DIR"], values["PGCI_BIN"], values["TEST_DATABASE_URL"]
        self.port = values["PGPORT"]
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-w", "-t", "30", *args],
            capture_output=True,
            timeout=60,
            check=True,
        )

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        """The same data, port and options as .ci/pg-start.sh gave it."""
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=300"
        options += " -c fsync=off -c full_page_writes=off"
        self.pg_ctl("-l", f"{self.dir}/server.log", "-o", options, "start")

    def remove(self) -> None:
        subprocess.run(
            ["bash", str(REPO / ".ci" / "pg-stop.sh")],
            env={**os.environ, "PGCI_DIR": self.dir, "PGCI_BIN": self.bin},
            capture_output=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def cluster():
    own = Cluster()
    try:
        yield own
    finally:
        own.remove()


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL outage: runs with TEST_BACKEND=postgres")
@pytest.mark.timeout(300)
def test_postgresql_stopped_answers_503_at_once_and_recovers_without_a_restart(tmp_path, cluster):
    env = env_for(cluster.url)
    result = tracker(tmp_path, "db", "init", env=env)
    assert result.returncode == 0, result.stderr
    token = add_user(tmp_path, env, "olga", "officer")
    server = Server(tmp_path, env, "serve")
    try:
        api = f"{server.base}/api/v1"
        created = call("POST", f"{api}/partnerships", token, registration("Gmina Przed"))
        assert created["status"] == 201, created
        pid = created["body"]["id"]
        acknowledged = []
        first = call("POST", f"{api}/partnerships/{pid}/events", token, note("before the outage"), key="k-before")
        assert first["status"] == 201, first
        acknowledged.append("before the outage")

        cluster.stop()
        write = call("POST", f"{api}/partnerships/{pid}/events", token, note("during the outage"), key="k-during")
        read = call("GET", f"{api}/partnerships/{pid}", token)
        health = call("GET", f"{api}/health")
        write_again = call("POST", f"{api}/partnerships/{pid}/events", token, note("during the outage"), key="k-during")
        for answer in (write, read, write_again):
            assert_unavailable(answer)
        assert health["status"] == 503, health
        assert int(health["headers"]["Retry-After"]) > 0
        assert health["body"]["status"] == "unavailable"
        assert "PostgreSQL" in health["body"]["store"]
        assert cluster.url.split("@")[0].split(":")[-1] not in json.dumps(health["body"])  # no password
        page = call("GET", f"{server.base}/", token)  # the web UI: its error page, in Polish by default
        assert page["status"] == 503 and int(page["headers"]["Retry-After"]) > 0
        assert "text/html" in page["headers"]["Content-Type"] and "503" in page["body"]
        print(
            f"\nPG down: POST {write['elapsed']:.2f}s, GET {read['elapsed']:.2f}s, health {health['elapsed']:.2f}s, "
            f"POST again {write_again['elapsed']:.2f}s"
        )

        time.sleep(3)  # past the breaker's window: the next request probes the server again, and is refused
        later = call("GET", f"{api}/partnerships/{pid}", token)
        assert_unavailable(later)
        print(f"PG down, after the window: GET {later['elapsed']:.2f}s")

        cluster.start()
        restarted = time.monotonic()
        for tries in range(1, 241):  # noqa: B007 - bounded: the server must come back by itself, without a restart
            again = call("POST", f"{api}/partnerships/{pid}/events", token, note("after the outage"), key="k-after")
            if again["status"] == 201:
                break
            if again["body"].get("code") == "idempotency_key_busy":  # its previous try's claim (stale in a minute)
                assert again["status"] == 503 and "Retry-After" in again["headers"]
            else:
                assert_unavailable(again)
            time.sleep(0.5)
        else:
            raise AssertionError("writes did not succeed again after PostgreSQL was back")
        acknowledged.append("after the outage")
        print(f"recovered {time.monotonic() - restarted:.2f}s after PostgreSQL was started ({tries} tries)")
        # The refused request's key: its claim could not be released while the store was down, so its retry is
        # "still running" (503 with Retry-After, after waiting for it) until the claim goes stale
        # (application/replies.py), then runs.
        busy_since = time.monotonic()
        for _ in range(150):  # bounded
            retried = call("POST", f"{api}/partnerships/{pid}/events", token, note("during the outage"), key="k-during")
            if retried["body"].get("code") != "idempotency_key_busy":
                break
            assert retried["status"] == 503 and "Retry-After" in retried["headers"]
            time.sleep(1)
        print(f"retry with the same key answered {retried['status']} after {time.monotonic() - busy_since:.1f}s")
        assert retried["status"] == 201, retried
        acknowledged.append("during the outage")
        assert call("GET", f"{api}/health")["status"] == 200

        events = call("GET", f"{api}/partnerships/{pid}/events", token)
        assert events["status"] == 200
        texts = [e["data"]["text"] for e in events["body"]["items"] if e["type"] == "note_added"]
        assert sorted(texts) == sorted(acknowledged)  # every acknowledged write exactly once, nothing else
    finally:
        server.stop()
    assert "Exception on" not in server.output()  # no request ended in an unhandled error (a bare 500)


# --- SQLite: the database file cannot grow (a full disk, from the kernel) --------------------------------------


def limit_file_size(size: int | None) -> None:
    """In the child, before exec: files it writes may not grow past ``size`` bytes (the soft limit only)."""
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size if size is not None else hard, hard))


class LimitedServer(Server):
    """A server whose files cannot grow beyond ``limit`` bytes until :meth:`free` raises the limit."""

    limit = 0

    def free(self) -> None:
        _, hard = resource.prlimit(self.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(self.process.pid, resource.RLIMIT_FSIZE, (hard, hard))


@pytest.mark.skipif(POSTGRES, reason="the SQLite file fault runs with TEST_BACKEND=sqlite")
@pytest.mark.timeout(300)
def test_sqlite_that_cannot_grow_answers_503_and_recovers(tmp_path, monkeypatch):
    database = str(tmp_path / "events.db")
    env = env_for(database)
    token = add_user(tmp_path, env, "olga", "officer")
    setup = Server(tmp_path, env, "setup")  # makes every table, then goes
    try:
        created = call("POST", f"{setup.base}/api/v1/partnerships", token, registration("Gmina Przed"))
        assert created["status"] == 201, created
    finally:
        setup.stop()
    pid = created["body"]["id"]
    biggest = max(p.stat().st_size for p in tmp_path.glob("events.db*"))
    limit = biggest + 256 * 1024

    real_popen = subprocess.Popen

    def limited_popen(*args: Any, **kwargs: Any) -> subprocess.Popen:
        return real_popen(*args, preexec_fn=lambda: limit_file_size(limit), **kwargs)  # noqa: PLW1509

    monkeypatch.setattr(subprocess, "Popen", limited_popen)
    server = LimitedServer(tmp_path, env, "serve")
    monkeypatch.setattr(subprocess, "Popen", real_popen)
    try:
        api = f"{server.base}/api/v1"
        before = call("GET", f"{api}/partnerships/{pid}/events", token)
        assert before["status"] == 200
        refused = None
        for i in range(200):  # bounded: the file reaches its limit after a few dozen big notes
            answer = call("POST", f"{api}/partnerships/{pid}/events", token, note(f"{i}: " + "x" * 3900), key=f"k{i}")
            if answer["status"] != 201:
                refused = (i, answer)
                break
        assert refused is not None, "the file never reached its limit"
        i, answer = refused
        assert_unavailable(answer)
        print(f"\nSQLite full: 503 after {i} notes, in {answer['elapsed']:.2f}s; {answer['body']['error']}")
        # reads still work. The refused note may be in the log after all: SQLite can report the failure of a
        # commit whose pages did reach the file (its outcome is unknown to the server, as with a lost reply).
        events = call("GET", f"{api}/partnerships/{pid}/events", token)
        assert events["status"] == 200
        texts = [e["data"]["text"] for e in events["body"]["items"] if e["type"] == "note_added"]
        assert [t for t in texts if not t.startswith(f"{i}: ")] == [f"{n}: " + "x" * 3900 for n in range(i)]
        assert_unavailable(call("POST", f"{api}/partnerships", token, registration("Gmina Pełna")))

        server.free()  # the disk has room again: the same server, not restarted, writes again
        # The refused request's key could not be released while the disk was full: the retry with the same key
        # is "still running" (503 with Retry-After) until the claim goes stale (application/replies.py).
        busy_since = time.monotonic()
        for _ in range(150):  # bounded
            again = call("POST", f"{api}/partnerships/{pid}/events", token, note(f"{i}: " + "x" * 3900), key=f"k{i}")
            if again["body"].get("code") != "idempotency_key_busy":
                break
            assert again["status"] == 503 and "Retry-After" in again["headers"]
            time.sleep(1)
        print(f"retry with the same key answered {again['status']} after {time.monotonic() - busy_since:.1f}s")
        assert again["status"] == 201, again
        after = call("POST", f"{api}/partnerships/{pid}/events", token, note("after"), key="k-after")
        assert after["status"] == 201, after
        events = call("GET", f"{api}/partnerships/{pid}/events", token)
        texts = [e["data"]["text"] for e in events["body"]["items"] if e["type"] == "note_added"]
        # every acknowledged write exactly once
        refused_text = f"{i}: " + "x" * 3900
        assert sorted(t for t in texts if t != refused_text) == sorted(
            [f"{n}: " + "x" * 3900 for n in range(i)] + ["after"]
        )
        # once, whether or not the refused COMMIT landed after all (SQLite can report the failure of a COMMIT
        # whose pages reached the file): the retry resumes the stale claim and finds the earlier write, if any
        assert texts.count(refused_text) == 1, f"the refused write is in the log {texts.count(refused_text)} times"
    finally:
        server.stop()
    assert "Exception on" not in server.output(), server.output()[-3000:]


# --- which errors are outages ----------------------------------------------------------------------------------


def _wrapped(error: Exception) -> Exception:
    """``error`` as the library raises it: its own exception, raised from the driver's."""
    from eventsourcing.persistence import OperationalError

    try:
        try:
            raise error
        except Exception as e:
            raise OperationalError(str(e)) from e
    except OperationalError as wrapped:
        return wrapped


def test_outages_are_told_from_programming_errors():
    import sqlite3

    import psycopg
    import psycopg_pool

    from infrastructure.outage import StoreUnavailable, store_outage

    assert store_outage(_wrapped(sqlite3.OperationalError("database or disk is full"))).reason.endswith("full")
    assert store_outage(_wrapped(sqlite3.OperationalError("database is locked"))) is not None
    assert store_outage(_wrapped(sqlite3.OperationalError("unable to open database file"))) is not None
    assert store_outage(_wrapped(sqlite3.OperationalError('near "SELEC": syntax error'))) is None
    assert store_outage(_wrapped(sqlite3.OperationalError("no such table: view_log"))) is None
    assert store_outage(_wrapped(psycopg_pool.PoolTimeout("couldn't get a connection after 3.00 sec"))).unreachable
    assert store_outage(_wrapped(psycopg.OperationalError("connection failed: Connection refused"))).unreachable
    assert store_outage(psycopg.errors.DiskFull("could not extend file")).reason == "PostgreSQL's disk is full"
    assert store_outage(psycopg.errors.SyntaxError("syntax error at or near")) is None
    assert store_outage(psycopg.errors.UndefinedTable("relation does not exist")) is None
    assert store_outage(StoreUnavailable("PostgreSQL cannot be reached")).unreachable
    assert store_outage(ValueError("not a store error")) is None


def test_a_programming_error_in_the_store_stays_a_500(tmp_path):
    """An SQL syntax error is a bug: 500, not a 503 that invites retries; a full disk is a 503."""
    import sqlite3

    from web import create_app

    from .helpers import open_services

    services = open_services(tmp_path / "events.db")
    try:
        app = create_app(services.config, services=services)

        @app.get("/api/v1/_broken")
        def _broken():
            raise sqlite3.OperationalError('near "SELEC": syntax error')

        @app.get("/api/v1/_full")
        def _full():
            raise _wrapped(sqlite3.OperationalError("database or disk is full"))

        client = app.test_client()
        app.testing = False  # the production path: an unhandled error is Flask's 500
        assert client.get("/api/v1/_broken").status_code == 500
        full = client.get("/api/v1/_full")
        assert full.status_code == 503 and full.headers["Retry-After"] == "2"
        assert full.get_json()["code"] == "unavailable"
    finally:
        services.close()
