"""Concurrent writers on one store (SQLite file or PostgreSQL schema): without If-Match every acknowledged
write is kept, with If-Match exactly one of the racers wins. Threads through the Flask app, and OS processes."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from backend import Store
from flask import Flask

from .helpers import TODAY, bare_projection, finish_writers, register, start_writers

THREADS = 8
PER_THREAD = 25


@pytest.fixture
def database(services: Any) -> str:
    """The TRACKER_DATABASE of the test's store (the one ``services`` and ``app`` are over)."""
    return services.config.database


def stored_versions(database: str, pid: UUID) -> list[int]:
    return Store(database).stored_versions(pid)


def stored_texts(database: str) -> Counter:
    """How often each note text is in the store (read straight from the events' JSON state)."""
    return Counter(json.loads(state)["text"] for state in Store(database).stored_states("NoteAdded"))


def run_threads(count: int, target: Callable[[int], None]) -> list[BaseException]:
    """Start ``count`` threads at once (a barrier), wait for them (bounded); the errors they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported by the caller
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads), "a writer thread hung"
    return errors


def register_over_http(app: Flask, officer: dict[str, str]) -> tuple[UUID, int]:
    response = app.test_client().post(
        "/api/v1/partnerships",
        json={"partner_name": "Gmina Wyścigowa", "partner_country": "CZ", "partner_kind": "municipality"},
        headers=officer,
    )
    assert response.status_code == 201, response.get_json()
    return UUID(response.get_json()["id"]), response.get_json()["version"]


def assert_contiguous(database: str, pid: UUID, expected: int) -> None:
    assert stored_versions(database, pid) == list(range(1, expected + 1))


def test_racing_writers_without_if_match_are_all_kept(
    app: Flask, headers: dict[str, dict[str, str]], database: str
) -> None:
    """8 threads x 25 notes on one partnership, no If-Match: all 201, versions 2..201 each acknowledged once."""
    pid, _ = register_over_http(app, headers["officer"])
    acknowledged: list[tuple[int, str]] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        client = app.test_client()
        for k in range(PER_THREAD):
            text = f"t{i}-{k}"
            response = client.post(
                f"/api/v1/partnerships/{pid}/events",
                json={"type": "note_added", "occurred_on": "2026-01-15", "text": text},
                headers=headers["officer"],
            )
            assert response.status_code == 201, response.get_json()
            body = response.get_json()
            assert body["data"]["text"] == text
            with lock:
                acknowledged.append((body["version"], text))

    assert run_threads(THREADS, write) == []
    n = THREADS * PER_THREAD
    assert sorted(v for v, _ in acknowledged) == list(range(2, n + 2))
    assert_contiguous(database, pid, n + 1)
    assert stored_texts(database) == Counter(text for _, text in acknowledged)

    client = app.test_client()
    events = client.get(f"/api/v1/partnerships/{pid}/events", headers=headers["officer"]).get_json()["items"]
    assert {(e["version"], e["data"].get("text")) for e in events[1:]} == set(acknowledged)
    assert client.get(f"/api/v1/partnerships/{pid}", headers=headers["officer"]).get_json()["version"] == n + 1
    log = client.get("/api/v1/events?limit=1000", headers=headers["auditor"]).get_json()
    assert [e["position"] for e in log["items"]] == list(range(1, n + 2))
    assert log["next"] is None


def if_match_race(app: Flask, officer: dict[str, str], pid: UUID, version: int, label: str) -> list[tuple[int, Any]]:
    """THREADS requests at once, each with ``If-Match: version``; their (status, body)."""
    statuses: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        tag = f'"{version}"' if i % 2 else str(version)  # both forms the contract accepts
        response = app.test_client().post(
            f"/api/v1/partnerships/{pid}/events",
            json={"type": "note_added", "occurred_on": "2026-01-15", "text": f"{label}-{i}"},
            headers={**officer, "If-Match": tag},
        )
        with lock:
            statuses.append((response.status_code, response.get_json()))

    assert run_threads(THREADS, write) == []
    return statuses


def test_if_match_race_has_exactly_one_winner(
    app: Flask, services: Any, headers: dict[str, dict[str, str]], database: str
) -> None:
    """K threads sending If-Match: current version at once: one 201, the rest 409, the log moves by one; each round."""
    pid, version = register_over_http(app, headers["officer"])
    for round_ in range(5):
        before = Store(database).stored_count()
        statuses = if_match_race(app, headers["officer"], pid, version, f"r{round_}")
        codes = Counter(code for code, _ in statuses)
        assert codes == {201: 1, 409: THREADS - 1}, statuses
        winner = next(body for code, body in statuses if code == 201)
        assert winner["version"] == version + 1
        assert all("error" in body for code, body in statuses if code == 409)
        assert Store(database).stored_count() == before + 1
        version += 1
    assert_contiguous(database, pid, version)


def test_writer_processes_without_expected_version_are_all_kept(services: Any, database: str) -> None:
    """4 OS processes x 40 notes on one partnership: every acknowledged version is stored once, no gaps."""
    pid = register(services.tracker)
    processes, per_process = 4, 40
    outputs = finish_writers(
        start_writers([["write-notes", str(database), str(pid), str(per_process), f"p{i}"] for i in range(processes)])
    )
    acknowledged = [int(v) for out in outputs for v in out]
    n = processes * per_process
    assert len(acknowledged) == n
    assert sorted(acknowledged) == list(range(2, n + 2))
    assert_contiguous(database, pid, n + 1)
    assert stored_texts(database) == Counter(f"p{i}-{k}" for i in range(processes) for k in range(per_process))
    # the read models follow the other processes' writes, each once
    services.projection.catch_up()
    versions = [r[0] for r in Store(database).rows("SELECT version FROM view_events ORDER BY version")]
    assert versions == list(range(1, n + 2))


def test_writer_processes_and_server_threads_together_are_all_kept(
    app: Flask, services: Any, headers: dict[str, dict[str, str]], database: str
) -> None:
    """Two writer processes and four request threads at once on one partnership: every write kept, no gaps."""
    pid, _ = register_over_http(app, headers["officer"])
    writers = start_writers([["write-notes", str(database), str(pid), "30", f"p{i}"] for i in range(2)])
    acknowledged: list[int] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        client = app.test_client()
        for k in range(20):
            response = client.post(
                f"/api/v1/partnerships/{pid}/events",
                json={"type": "note_added", "occurred_on": "2026-01-15", "text": f"t{i}-{k}"},
                headers=headers["officer"],
            )
            assert response.status_code == 201, response.get_json()
            with lock:
                acknowledged.append(response.get_json()["version"])

    assert run_threads(4, write) == []
    acknowledged += [int(v) for out in finish_writers(writers) for v in out]
    n = 2 * 30 + 4 * 20
    assert sorted(acknowledged) == list(range(2, n + 2))
    assert_contiguous(database, pid, n + 1)
    services.projection.catch_up()
    response = app.test_client().get(f"/api/v1/partnerships/{pid}/events", headers=headers["officer"])
    assert [e["version"] for e in response.get_json()["items"]] == list(range(1, n + 2))


def test_if_match_race_across_processes_has_exactly_one_winner(services: Any, database: str) -> None:
    """4 OS processes expecting the same version: exactly one writes, the others are told the version is stale."""
    pid = register(services.tracker)
    outputs = finish_writers(
        start_writers([["write-expecting", str(database), str(pid), "1", f"p{i}"] for i in range(4)])
    )
    results = [" ".join(out) for out in outputs]
    assert sorted(results) == ["ok 2", "stale", "stale", "stale"]
    assert_contiguous(database, pid, 2)


def test_second_tracker_instance_sees_and_extends_the_same_history(services: Any, database: str) -> None:
    """Two Tracker instances in one process alternate writes on one partnership; versions stay contiguous."""
    pid = register(services.tracker)
    other, _ = bare_projection(database)
    try:
        for k in range(10):
            for name, tracker in (("a", services.tracker), ("b", other)):
                tracker.record_event(
                    pid, "note_added", {"occurred_on": TODAY, "text": f"{name}{k}"}, recorded_by=name, today=TODAY
                )
    finally:
        other.close()
    assert_contiguous(database, pid, 21)
