"""Group commit (infrastructure/group_commit.py): many writers' events in one durable commit, nothing lost.

In the process: sixteen writers at once over eight partnerships (so writers of one group also race for one
partnership's next version): every note is recorded exactly once, versions stay contiguous, the read models
follow, and commits held several writes. Through the real server: sixteen HTTP writers, the server killed
with SIGKILL mid-load: every write answered 201 is in the log exactly once after a restart.
"""

from __future__ import annotations

import collections
import threading
from datetime import date
from pathlib import Path
from uuid import UUID

from application.services import Services
from projections import queries
from projections.inline import InlinePostgresRecorder, InlineSQLiteRecorder

from .helpers import Server, add_user, cli_env, request_json

WRITERS = 16


def register(services: Services, n: int) -> UUID:
    fields = {"partner_name": f"Gmina {n}", "partner_country": "SK", "partner_kind": "municipality"}
    return services.register_partnership(fields, user="ala").partnership_id


def test_sixteen_writers_at_once_each_note_once_in_fewer_commits(services: Services) -> None:
    recorder = services.tracker.recorder
    assert isinstance(recorder, (InlineSQLiteRecorder, InlinePostgresRecorder))
    group = recorder.group
    pids = [register(services, n) for n in range(8)]
    commits, writes = group.commits, group.writes
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(i: int) -> None:
        start.wait()
        try:
            for k in range(12):
                fields = {"occurred_on": date(2026, 1, 15), "text": f"w{i}-{k}"}
                services.record_event(pids[(i + k) % len(pids)], "note_added", fields, user="ala")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    texts = collections.Counter()
    for pid in pids:
        events = queries.list_events(services.db, str(pid))
        assert [e["version"] for e in events] == list(range(1, len(events) + 1))
        texts.update(e["data"]["text"] for e in events if e["type"] == "note_added")
    assert texts == collections.Counter({f"w{i}-{k}": 1 for i in range(WRITERS) for k in range(12)})
    assert services.verify()["ok"]
    # the writes went through in fewer durable commits than writes (conflicting attempts count as writes)
    assert group.writes - writes >= WRITERS * 12
    assert group.commits - commits < group.writes - writes


def test_sixteen_http_writers_lose_no_acknowledged_write_when_the_server_is_killed(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    token = add_user(tmp_path, env, "ala", "officer")
    server = Server(tmp_path, env, "group-0", "--threads", str(WRITERS))
    acknowledged: list[tuple[str, int, str]] = []
    lock = threading.Condition()
    stop = threading.Event()
    try:
        pids = []
        for n in range(WRITERS):
            body = {"partner_name": f"Gmina {n}", "partner_country": "SK", "partner_kind": "municipality"}
            status, created = request_json("POST", f"{server.base}/api/v1/partnerships", token, body)
            assert status == 201, created
            pids.append(created["id"])

        def write(i: int) -> None:
            for k in range(5000):  # a bound: the kill comes long before
                if stop.is_set():
                    return
                text = f"w{i}-{k}"
                body = {"type": "note_added", "occurred_on": "2026-01-15", "text": text}
                try:
                    status, answer = request_json(
                        "POST", f"{server.base}/api/v1/partnerships/{pids[i]}/events", token, body, timeout=10
                    )
                except OSError:  # the server is gone: this write's fate is unknown, and that is allowed
                    return
                if status != 201:
                    return
                with lock:
                    acknowledged.append((pids[i], answer["version"], text))
                    lock.notify_all()

        threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
        for t in threads:
            t.start()
        with lock:
            assert lock.wait_for(lambda: len(acknowledged) >= 300, timeout=120), "too few writes got through"
        server.kill()
        stop.set()
        for t in threads:
            t.join(60)
        server = Server(tmp_path, env, "group-1")
        kept = collections.Counter()
        for pid in pids:
            status, events = request_json("GET", f"{server.base}/api/v1/partnerships/{pid}/events", token)
            assert status == 200
            versions = [e["version"] for e in events["items"]]
            assert versions == list(range(1, len(versions) + 1))
            kept.update((pid, e["version"], e["data"].get("text")) for e in events["items"])
        assert [a for a in acknowledged if kept[a] != 1] == []  # every 201 is there, once
        assert max(kept.values()) == 1
    finally:
        stop.set()
        server.stop()
