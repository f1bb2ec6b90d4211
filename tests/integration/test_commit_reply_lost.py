"""A write whose COMMIT answer is lost on the wire is kept once and answered truthfully (issue 15), through a
real ``tracker serve`` whose PostgreSQL connection passes a TCP proxy (tests/integration/pg_proxy.py) that
lets the COMMIT of the events' insert reach the server and then closes the connection instead of forwarding
the server's answer. The tracker cannot know whether its write went through; the tests check what it then
tells the client and what the log holds: the write once, never a second copy, never a 409 naming it.

Two faults: the answer alone lost (the server stays up: the tracker reconnects, its retried insert meets
its own rows, and it answers 201), and the server gone right after the commit (the proxy then closes every
connection and refuses new ones until the test lets them in: 503, and the retry with the same
Idempotency-Key finds the write; a registration without a key names in its 503 the partnership it made).

PostgreSQL only (TEST_BACKEND=postgres): the proxy stands between the server and the suite's cluster.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from backend import POSTGRES, database_for

from .helpers import Server, add_user, all_log_entries, cli_env, tracker
from .pg_proxy import PgProxy
from .test_store_outage import note, registration

pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="a proxy in front of PostgreSQL: runs with TEST_BACKEND=postgres"),
    pytest.mark.timeout(300),
]

#: The statement after which the COMMIT's answer is lost: the library's insert into the events table.
EVENTS_INSERT = rb"INSERT\s+INTO\s+\S*tracker_events"


@dataclass
class Served:
    server: Server
    proxy: PgProxy
    officer: str
    auditor: str
    env: dict[str, str]  # the store's own address (for `tracker audit verify`), not through the proxy
    tmp_path: Path

    @property
    def api(self) -> str:
        return f"{self.server.base}/api/v1"

    def post(self, path: str, body: Any, *, key: str | None = None, if_match: int | None = None) -> dict[str, Any]:
        return call("POST", f"{self.api}{path}", self.officer, body, key=key, if_match=if_match)

    def lose_next_commit_answer(self) -> None:
        self.proxy.drop_commit_replies(1, after=EVENTS_INSERT)

    def events(self, pid: str) -> list[dict[str, Any]]:
        answer = call("GET", f"{self.api}/partnerships/{pid}/events", self.officer)
        assert answer["status"] == 200, answer
        return answer["body"]["items"]

    def log(self) -> list[dict[str, Any]]:
        return all_log_entries(self.server.base, self.auditor)

    def verify(self) -> None:
        result = tracker(self.tmp_path, "audit", "verify", env=self.env)
        assert result.returncode == 0, (result.stdout, result.stderr)


def call(
    method: str, url: str, token: str, body: Any = None, *, key: str | None = None, if_match: int | None = None
) -> dict[str, Any]:
    """One request; its status, headers and JSON body."""
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    if key is not None:
        request.add_header("Idempotency-Key", key)
    if if_match is not None:
        request.add_header("If-Match", str(if_match))
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    return {"status": status, "headers": headers, "body": json.loads(raw or b"null")}


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{port}"))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    database = database_for(tmp_path)
    target = urlsplit(database)
    env = cli_env(tmp_path)
    officer = add_user(tmp_path, env, "ola", "officer")
    auditor = add_user(tmp_path, env, "ewa", "auditor")
    with PgProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        proxied = {**env, "TRACKER_DATABASE": through(database, proxy.port)}
        server = Server(tmp_path, proxied, "proxied")
        try:
            yield Served(server, proxy, officer, auditor, env, tmp_path)
        finally:
            server.stop()
            print(
                f"\nthe wire since the proxy was last armed (COMMITs sent: {proxy.commits.count('simple')} simple, "
                f"{proxy.commits.count('extended')} extended; answers dropped: {proxy.dropped}):"
            )
            print("\n".join(proxy.wire))
    assert "Exception on" not in server.output(), server.output()[-3000:]  # no bare 500


def notes(events: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["text"] for e in events if e["type"] == "note_added"]


def test_a_note_without_if_match_is_written_once_and_answered_with_its_version(served: Served) -> None:
    created = served.post("/partnerships", registration("Gmina Proxy"))
    assert created["status"] == 201, created
    pid = created["body"]["id"]
    before = len(served.log())

    served.lose_next_commit_answer()
    answer = served.post(f"/partnerships/{pid}/events", note("lost answer"))
    print(f"\nnote without If-Match, COMMIT answer dropped: {answer['status']} {answer['body']}")
    assert served.proxy.dropped == 1 and served.proxy.armed == 0
    assert answer["status"] == 201, answer
    assert answer["body"]["version"] == 2
    assert notes(served.events(pid)) == ["lost answer"]
    assert len(served.log()) == before + 1
    served.verify()


def test_with_if_match_the_lost_answer_is_not_a_conflict_with_itself(served: Served) -> None:
    created = served.post("/partnerships", registration("Gmina Proxy"))
    pid = created["body"]["id"]
    served.lose_next_commit_answer()
    answer = served.post(f"/partnerships/{pid}/events", note("with If-Match"), if_match=1)
    print(f"\nnote with If-Match 1, COMMIT answer dropped: {answer['status']} {answer['body']}")
    assert served.proxy.dropped == 1
    assert answer["status"] == 201, answer  # not 409 naming version 2, its own write, as someone else's
    assert answer["body"]["version"] == 2
    assert notes(served.events(pid)) == ["with If-Match"]
    # the client, not knowing, sends it again with the same If-Match: its write, not a conflict, not a copy
    again = served.post(f"/partnerships/{pid}/events", note("with If-Match"), if_match=1)
    assert again["status"] == 201 and again["body"]["version"] == 2, again
    assert notes(served.events(pid)) == ["with If-Match"]
    served.verify()


def test_a_registration_with_a_key_is_one_partnership_and_its_retry_the_same_id(served: Served) -> None:
    served.lose_next_commit_answer()
    answer = served.post("/partnerships", registration("Gmina Klucz"), key="reg-1")
    print(f"\nregistration with a key, COMMIT answer dropped: {answer['status']} {answer['body'].get('id')}")
    assert served.proxy.dropped == 1
    assert answer["status"] == 201, answer
    retried = served.post("/partnerships", registration("Gmina Klucz"), key="reg-1")
    assert retried["status"] == 201 and retried["body"]["id"] == answer["body"]["id"], retried
    listed = call("GET", f"{served.api}/partnerships", served.officer)["body"]
    assert [p["id"] for p in listed["items"]] == [answer["body"]["id"]]
    assert [e["type"] for e in served.log()] == ["partnership_registered"]
    served.verify()


def test_a_registration_without_a_key_is_answered_with_the_one_partnership_it_made(served: Served) -> None:
    served.lose_next_commit_answer()
    answer = served.post("/partnerships", registration("Gmina Bez Klucza"))
    print(f"\nregistration without a key, COMMIT answer dropped: {answer['status']} {answer['body'].get('id')}")
    assert served.proxy.dropped == 1
    assert answer["status"] == 201, answer  # the client knows its partnership: it has no reason to send it again
    listed = call("GET", f"{served.api}/partnerships", served.officer)["body"]
    assert [p["id"] for p in listed["items"]] == [answer["body"]["id"]]
    assert len(served.log()) == 1
    served.verify()


def retry_until_answered(served: Served, path: str, body: Any, key: str, **headers: Any) -> dict[str, Any]:
    """The same POST with the same key until it is not "still running" (503 idempotency_key_busy) or 503."""
    for _ in range(200):  # bounded: a claim left open goes stale within a minute (application/replies.py)
        answer = served.post(path, body, key=key, **headers)
        busy = answer["body"].get("code") == "idempotency_key_busy"
        if not busy and answer["status"] != 503:
            return answer
        assert int(answer["headers"]["Retry-After"]) > 0
        time.sleep(1)
    raise AssertionError("the retry was never answered")


def test_the_server_gone_right_after_the_commit_a_note_retried_with_its_key_is_kept_once(served: Served) -> None:
    created = served.post("/partnerships", registration("Gmina Proxy"))
    pid = created["body"]["id"]
    served.proxy.drop_commit_replies(1, after=EVENTS_INSERT, then_down=True)
    answer = served.post(f"/partnerships/{pid}/events", note("gone"), key="note-1")
    print(f"\nnote with a key, COMMIT answer dropped, server gone: {answer['status']} {answer['body']}")
    assert served.proxy.dropped == 1
    served.proxy.up()
    if answer["status"] == 503:
        assert int(answer["headers"]["Retry-After"]) > 0
        answer = retry_until_answered(served, f"/partnerships/{pid}/events", note("gone"), "note-1")
        print(f"its retry with the same key: {answer['status']}")
    assert answer["status"] == 201, answer
    assert answer["body"]["version"] == 2
    assert notes(served.events(pid)) == ["gone"]
    served.verify()


def test_the_server_gone_right_after_the_commit_a_registration_without_a_key_is_named_in_the_503(
    served: Served,
) -> None:
    """Without a key nothing ties a retry to this request, so a retry would register a second partnership:
    the 503 names the partnership that may have been recorded, and the client finds it there."""
    served.proxy.drop_commit_replies(1, after=EVENTS_INSERT, then_down=True)
    answer = served.post("/partnerships", registration("Gmina Bez Klucza"))
    print(f"\nregistration without a key, COMMIT answer dropped, server gone: {answer['status']} {answer['body']}")
    assert served.proxy.dropped == 1
    assert answer["status"] == 503, answer
    assert int(answer["headers"]["Retry-After"]) > 0
    pid = answer["body"]["partnership_id"]
    served.proxy.up()
    for _ in range(100):  # bounded: the server finds the store back after the breaker's window
        found = call("GET", f"{served.api}/partnerships/{pid}", served.officer)
        if found["status"] != 503:
            break
        time.sleep(0.5)
    assert found["status"] == 200, found  # it was recorded: the client has no reason to register it again
    assert found["body"]["partner_name"] == "Gmina Bez Klucza"
    assert len(served.log()) == 1
    served.verify()
