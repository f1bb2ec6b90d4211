"""`Idempotency-Key` through the real server (waitress; on PostgreSQL too): a client that sends the same POST
again with its key, one after the other or eight at once, gets one event and the same answer."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import Server, add_user, cli_env, request_json


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    env = cli_env(tmp_path)
    token = add_user(tmp_path, env, "ala", "officer")
    server = Server(tmp_path, env, "idempotency")
    try:
        yield server, token
    finally:
        server.stop()


def post(base: str, path: str, token: str, body: Any, key: str) -> tuple[int, dict[str, Any], str | None]:
    request = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), response.headers.get("Location")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), e.headers.get("Location")


def log_length(server: Server, token: str) -> int:
    status, health = request_json("GET", f"{server.base}/api/v1/health", token)
    assert status == 200
    return health["position"]


def test_a_registration_repeated_with_its_key_is_one_partnership(served: tuple[Server, str]) -> None:
    server, token = served
    body = {"partner_name": "Gmina Kobuleti", "partner_country": "GE", "partner_kind": "municipality"}
    first = post(server.base, "/api/v1/partnerships", token, body, "rejestracja-kobuleti")
    assert first[0] == 201
    again = post(server.base, "/api/v1/partnerships", token, body, "rejestracja-kobuleti")
    assert again == first  # status, body and Location: the client learns the id of its own write
    status, listed = request_json("GET", f"{server.base}/api/v1/partnerships", token)
    assert status == 200 and [p["id"] for p in listed["items"]] == [first[1]["id"]]


def test_eight_copies_at_once_record_one_note(served: tuple[Server, str]) -> None:
    """A client library retrying in parallel: one event; every copy waits for the first's answer and answers
    201 with it (never a 409 against its own write, never a second event)."""
    server, token = served
    body = {"partner_name": "Miasto Bar", "partner_country": "ME", "partner_kind": "city"}
    status, partnership = request_json("POST", f"{server.base}/api/v1/partnerships", token, body)
    assert status == 201
    path = f"/api/v1/partnerships/{partnership['id']}/events"
    note = {"type": "note_added", "occurred_on": "2020-01-01", "text": "Rozmowa z partnerem"}
    before = log_length(server, token)
    answers: list[tuple[int, dict[str, Any], str | None]] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        answers.append(post(server.base, path, token, note, "notatka-1"))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert log_length(server, token) == before + 1
    created = [a for a in answers if a[0] == 201]
    assert len(created) == 8 and all(a == created[0] for a in created)
    retried = post(server.base, path, token, note, "notatka-1")
    assert retried == created[0] and log_length(server, token) == before + 1
