"""A load-and-fault run (issue 15): real ``tracker serve`` processes under 16 HTTP writers while the store and
the processes fail, then a check that every acknowledged write is in the log exactly once.

.venv/bin/python -m bench.faults                       # both stores, 60 s of load each
.venv/bin/python -m bench.faults --seconds 15 --store sqlite

It is not part of ``python -m bench`` (it measures no goal: it breaks things on purpose). It prints a table per
store and, as its last line of stdout, one JSON object with every figure. Nothing is judged by wall-clock: the
exit status is 1 only when a correctness check fails (an acknowledged write missing or twice in the log, a
text recorded twice, versions or log positions not contiguous, ``tracker audit verify`` failing, a 500, a 409 or
422 for a client's own write, a reminder mailed under two Message-IDs). See bench/README.md, "Faults".

SQLite: one ``tracker serve --threads 16``; at 1/3 of the load it is SIGKILLed and started again on the same
port; at 2/3 the disk is "full" (the running server's RLIMIT_FSIZE lowered with prlimit to just above its
biggest file) for a few seconds. ``tracker scheduler`` mails reminders to an SMTP server on loopback, which
SIGKILLs the scheduler once, after accepting a message and before the scheduler could mark it sent.

PostgreSQL: a throwaway durable cluster (.ci/pg-start.sh), two servers on it (gunicorn ``--workers 2`` and
waitress), the writers spread over both; at 1/3 PostgreSQL is restarted (``pg_ctl restart -m fast``), at 1/2 the
gunicorn master is SIGKILLed (its workers left to themselves, as after a crash) and started again on its port, at
2/3 PostgreSQL is stopped for 5 s and started again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import say, table, temp_dir
from bench.servers import REPO, TRACKER, free_port

WRITERS = 16
#: A request that takes longer than this is a hang: it counts as a connection error ("timeout").
CLIENT_TIMEOUT_S = 30.0
#: A good client retries after a 503 or a lost connection; this often (shorter than Retry-After, so that the
#: recovery figure is not rounded up to Retry-After's 2 s).
RETRY_PAUSE_S = 0.5
#: A write answered "503 busy" (its first try's claim left open by a crash; the server waited 5 s for it) is set
#: aside and retried after the load (the claim goes stale after a minute, application/replies.py); the writer goes
#: on with a new write. Writers with If-Match never set a write aside (their next If-Match depends on it).
#: Every this many writes a writer registers a partnership (with its own Idempotency-Key) instead of a note.
REGISTER_EVERY = 25
#: Writers 0..IF_MATCH_WRITERS-1 write with If-Match into a partnership of their own (nobody else writes there,
#: so any 409 they get is about their own write); the others write without If-Match into shared partnerships.
IF_MATCH_WRITERS = 4
SHARED_PARTNERSHIPS = 6
INACTIVE_PARTNERSHIPS = 5  # reminders for the scheduler to mail (SQLite run)
KILL_SCHEDULER_AT_MAIL = 3  # the SMTP server SIGKILLs the scheduler after accepting this message
NOTE_ON = "2026-01-15"
ORGANISATION = "Powiat Piaseczyński"
SENDER = "tracker@powiat.example"
MANAGER = "jan@powiat.example"
START_DEADLINE_S = 90.0
PG_STOPPED_S = 5.0
#: The load goes on at least this long after the last fault is over (a fault may end after ``--seconds``).
AFTER_LAST_FAULT_S = 5.0


# --- processes -------------------------------------------------------------------------------------------------


def env_for(database: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "PG"))}
    return {**env, "TRACKER_DATABASE": database, "TRACKER_ORGANISATION": ORGANISATION, **extra}


def run_tracker(env: dict[str, str], cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TRACKER), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def token_of(env: dict[str, str], cwd: Path, name: str, role: str, *extra: str) -> str:
    result = run_tracker(env, cwd, "users", "add", name, "--role", role, *extra)
    if result.returncode != 0:
        raise RuntimeError(f"tracker users add {name}: {result.stderr.strip()}")
    return result.stdout.splitlines()[-1].strip()


def port_taken(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def answers(base_port: int) -> bool:
    """Whether something answers HTTP on the port (any status: /health is 503 while the store is down)."""
    conn = http.client.HTTPConnection("127.0.0.1", base_port, timeout=3)
    try:
        conn.request("GET", "/api/v1/health")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


class Serve:
    """``tracker serve --no-demo --no-jobs ARGS`` on one loopback port for the whole run, restartable there."""

    def __init__(self, folder: Path, env: dict[str, str], name: str, *args: str) -> None:
        self.folder, self.env, self.name, self.args = folder, env, name, args
        self.port = free_port()
        self.groups: list[int] = []  # every session started, so that orphaned workers are stopped too
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.port_held_after_kill_s: float | None = None

    def start(self) -> float:
        """Start it (again, until it binds: bounded); seconds until it answered."""
        started = time.monotonic()
        deadline = started + START_DEADLINE_S
        while time.monotonic() < deadline:
            self.starts += 1
            with (self.folder / f"{self.name}.log").open("ab") as log:
                self.process = subprocess.Popen(
                    [str(TRACKER), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-demo", "--no-jobs"]
                    + list(self.args),
                    cwd=self.folder,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.groups.append(self.process.pid)
            while time.monotonic() < deadline and self.process.poll() is None:
                if answers(self.port):
                    return time.monotonic() - started
                time.sleep(0.1)
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not start in {START_DEADLINE_S:.0f} s: see {self.name}.log")

    def kill(self) -> None:
        """SIGKILL the server's main process only (gunicorn's workers are left to notice by themselves)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def restart_after_kill(self) -> float:
        """Wait (bounded) until nothing holds the port any more, then start again; seconds to answering."""
        since = time.monotonic()
        while port_taken(self.port) and time.monotonic() < since + START_DEADLINE_S:
            time.sleep(0.1)
        self.port_held_after_kill_s = time.monotonic() - since
        return self.port_held_after_kill_s + self.start()

    def limit_files(self, size: int | None) -> None:
        """The running server's files may not grow beyond ``size`` bytes (None: as far as the hard limit)."""
        assert self.process is not None
        _, hard = resource.prlimit(self.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(self.process.pid, resource.RLIMIT_FSIZE, (hard if size is None else size, hard))

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for group in self.groups:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(group, sig)
            if self.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(20)


class Cluster:
    """A throwaway durable PostgreSQL cluster of the run's own (.ci/pg-start.sh), stoppable and restartable."""

    def __init__(self) -> None:
        out = subprocess.run(
            ["bash", str(REPO / ".ci" / "pg-start.sh")],
            env={k: v for k, v in os.environ.items() if k != "PGCI_FAST"},
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        ).stdout
        values = dict(re.findall(r"(\w+)=(\S+)", out))
        self.dir, self.bin, self.url, self.port = (
            values["PGCI_DIR"],
            values["PGCI_BIN"],
            values["TEST_DATABASE_URL"],
            values["PGPORT"],
        )
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []

    def pg_ctl(self, *args: str) -> None:
        """``pg_ctl ARGS``; no pipes: a server it starts would hold them open (its output goes to server.log)."""
        result = subprocess.run(
            [*self.as_postgres, f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-w", "-t", "60", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} exited {result.returncode}: see {self.dir}/server.log")

    def restart(self) -> None:
        self.pg_ctl("-l", f"{self.dir}/server.log", "-m", "fast", "restart")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=300"
        self.pg_ctl("-l", f"{self.dir}/server.log", "-o", options, "start")

    def remove(self) -> None:
        subprocess.run(
            ["bash", str(REPO / ".ci" / "pg-stop.sh")],
            env={**os.environ, "PGCI_DIR": self.dir, "PGCI_BIN": self.bin},
            capture_output=True,
            timeout=120,
            check=False,
        )


# --- SMTP on loopback, and the scheduler -----------------------------------------------------------------------


class Smtp:
    """aiosmtpd on a free loopback port, keeping every message; it SIGKILLs ``victim`` once, right after
    accepting message number ``kill_at`` (stored, its 250 not yet sent: the scheduler cannot have marked it)."""

    def __init__(self, kill_at: int) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.messages: list[bytes] = []
        self.kill_at = kill_at
        self.victim: int | None = None
        self.killed = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        self.messages.append(envelope.original_content)
        if len(self.messages) == self.kill_at and self.victim is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.victim, signal.SIGKILL)
            self.victim = None
            self.killed.set()
        await asyncio.sleep(0)
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def message_ids(self) -> list[tuple[str, str]]:
        """(Subject, Message-ID) of every accepted message."""
        import email
        import email.policy

        parsed = [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.messages]
        return [(str(m["Subject"]), str(m["Message-ID"])) for m in parsed]


class SchedulerRun:
    """``tracker scheduler`` mailing to ``smtp``; restarted once after the SMTP server killed it."""

    def __init__(self, folder: Path, env: dict[str, str], smtp: Smtp) -> None:
        self.folder, self.env, self.smtp = folder, env, smtp
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.restarted_after_s: float | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def _start(self, victim: bool) -> subprocess.Popen:
        """Start it; again while it says another scheduler holds the lock (the killed one's, until released).
        ``victim``: the SMTP server is to kill this one."""
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            self.starts += 1
            with (self.folder / "scheduler.log").open("ab") as log:
                process = subprocess.Popen(
                    [str(TRACKER), "scheduler"], cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT
                )
            if victim:
                self.smtp.victim = process.pid
            try:
                if process.wait(2) != 1:  # not "another scheduler runs" (killed already, or failed): as it is
                    return process
            except subprocess.TimeoutExpired:
                return process
            if time.monotonic() > deadline or self.stopping.is_set():
                raise RuntimeError("tracker scheduler did not start: see scheduler.log")
            time.sleep(0.5)

    def _run(self) -> None:
        self.process = self._start(victim=True)
        while not self.smtp.killed.wait(0.2):
            if self.stopping.is_set():
                return
        self.process.wait(30)
        killed_at = time.monotonic()
        self.process = self._start(victim=False)
        self.restarted_after_s = time.monotonic() - killed_at

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(START_DEADLINE_S + 10)
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


# --- the writers -----------------------------------------------------------------------------------------------


@dataclass
class Write:
    """One write of a client: its request (the same bytes on every retry) and what became of it."""

    kind: str  # "note" or "registration"
    path: str
    body: bytes
    key: str
    text: str  # the note's text, or the registration's partner name
    pid: str | None = None
    if_match: int | None = None
    status: int | None = None  # the final answer (None: never answered)
    answer: dict[str, Any] = field(default_factory=dict)
    history: list[tuple[float, str]] = field(default_factory=list)  # (seconds into the load, answer) per try


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    attempted: int = 0
    sent: int = 0
    answers: Counter = field(default_factory=Counter)
    elapsed_503: list[float] = field(default_factory=list)  # store unavailable
    elapsed_busy: list[float] = field(default_factory=list)  # the key's first try still running (waited 5 s)
    elapsed_error: list[float] = field(default_factory=list)
    longest: float = 0.0
    acked_at: list[float] = field(default_factory=list)  # monotonic times of every 201
    writes: list[Write] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def answer(self, what: str, elapsed: float, at: float) -> None:
        with self.lock:
            self.sent += 1
            self.answers[what] += 1
            self.longest = max(self.longest, elapsed)
            if what == "503":
                self.elapsed_503.append(elapsed)
            elif what == "503 busy":
                self.elapsed_busy.append(elapsed)
            elif what in ("connection error", "timeout"):
                self.elapsed_error.append(elapsed)
            elif what == "201":
                self.acked_at.append(at)

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(text)


class Writers:
    """16 client threads, each on its own keep-alive connection to its server, until ``seconds`` pass; then
    each resolves (bounded by ``drain_s``) the writes it set aside."""

    def __init__(
        self, ports: Sequence[int], token: str, own: Sequence[dict], shared: Sequence[str], label: str
    ) -> None:
        self.ports, self.token, self.own, self.shared, self.label = ports, token, own, shared, label
        self.stats = Stats()
        self.stop_new = threading.Event()
        self.drain_until = float("inf")
        self.t0 = time.monotonic()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(WRITERS)]

    def start(self) -> None:
        self.t0 = time.monotonic()
        for t in self.threads:
            t.start()

    def finish(self, drain_s: float) -> None:
        self.drain_until = time.monotonic() + drain_s
        self.stop_new.set()
        for t in self.threads:
            t.join(drain_s + CLIENT_TIMEOUT_S + 10)

    # -- one client ----------------------------------------------------------------------------------------------

    def _make(self, i: int, k: int) -> Write:
        key = f"{self.label}-w{i}-{k}"
        if k % REGISTER_EVERY == 0:
            name = f"Gmina {self.label} {i}-{k}"
            body = {"partner_name": name, "partner_country": "DE", "partner_kind": "municipality"}
            return Write("registration", "/api/v1/partnerships", json.dumps(body).encode(), key, name)
        text = f"{self.label} w{i} n{k}"
        body = {"type": "note_added", "occurred_on": NOTE_ON, "text": text}
        if i < IF_MATCH_WRITERS:
            pid, if_match = self.own[i]["id"], self.own[i]["version"]
        else:
            pid, if_match = self.shared[i % len(self.shared)], None
        path = f"/api/v1/partnerships/{pid}/events"
        return Write("note", path, json.dumps(body).encode(), key, text, pid=pid, if_match=if_match)

    def _run(self, i: int) -> None:
        port = self.ports[i % len(self.ports)]
        conn: list[http.client.HTTPConnection | None] = [None]
        set_aside: list[Write] = []
        k = 0
        while not self.stop_new.is_set():
            k += 1
            write = self._make(i, k)
            with self.stats.lock:
                self.stats.attempted += 1
                self.stats.writes.append(write)
            # a client writing with If-Match never sets a write aside: its next If-Match depends on the outcome
            if not self._send(port, conn, write, self.stop_new.is_set, set_aside=write.if_match is None):
                set_aside.append(write)
            elif write.status == 201 and write.if_match is not None:
                self.own[i]["version"] = write.answer["version"]
            elif write.status == 409 and write.if_match is not None:
                self.own[i]["version"] = self._version_of(port, conn, write.pid) or self.own[i]["version"]
        # the load is over: resolve the writes left without an answer (same key, same body), bounded
        for write in set_aside:
            self._send(port, conn, write, lambda: time.monotonic() > self.drain_until, set_aside=False)
        if conn[0] is not None:
            conn[0].close()

    def _version_of(self, port: int, conn: list, pid: str | None) -> int | None:
        status, body, _ = self._request(port, conn, "GET", f"/api/v1/partnerships/{pid}", None, {})
        return body.get("version") if status == 200 else None

    def _request(
        self, port: int, conn: list, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int | str, dict[str, Any], float]:
        """One request on the thread's connection (a new one after any error); (status or error, body, seconds)."""
        started = time.monotonic()
        try:
            if conn[0] is None:
                conn[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_S)
            conn[0].request(
                method,
                path,
                body=body,
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **headers},
            )
            response = conn[0].getresponse()
            raw = response.read()
            try:
                parsed = json.loads(raw or b"{}")
            except ValueError:
                parsed = {"raw": raw[:300].decode("utf-8", "replace")}
            if response.getheader("Connection", "").lower() == "close":
                self._drop(conn)
            return response.status, parsed if isinstance(parsed, dict) else {"raw": parsed}, time.monotonic() - started
        except TimeoutError:
            self._drop(conn)
            return "timeout", {}, time.monotonic() - started
        except (OSError, http.client.HTTPException):
            self._drop(conn)
            return "connection error", {}, time.monotonic() - started

    @staticmethod
    def _drop(conn: list) -> None:
        if conn[0] is not None:
            conn[0].close()
            conn[0] = None

    def _send(self, port: int, conn: list, write: Write, give_up: Callable[[], bool], *, set_aside: bool) -> bool:
        """Send ``write`` until it is answered (True) or set aside / given up (False): retries after 503s and
        lost connections, with the same key and body, as a good client does."""
        headers = {"Idempotency-Key": write.key}
        if write.if_match is not None:
            headers["If-Match"] = str(write.if_match)
        first = True
        while True:
            if not first:
                with self.stats.lock:
                    self.stats.answers["retries"] += 1
            first = False
            status, body, elapsed = self._request(port, conn, "POST", write.path, write.body, headers)
            now = time.monotonic()
            what = str(status)
            if status == 503:
                what = "503 busy" if body.get("code") == "idempotency_key_busy" else "503"
            self.stats.answer(what, elapsed, now)
            write.history.append((round(now - elapsed - self.t0, 2), f"{what} after {elapsed:.2f} s"))
            if status == 503 or isinstance(status, str):
                busy = status == 503 and body.get("code") == "idempotency_key_busy"
                if set_aside and busy:
                    return False  # its first try's claim is open until stale: retried after the load
                if give_up():
                    return False
                time.sleep(RETRY_PAUSE_S)
                continue
            write.status, write.answer = status, body
            if status == 500:
                self.stats.problem(f"500 for {write.kind} {write.key}: {json.dumps(body)[:200]}")
            elif status == 409:
                self.stats.problem(
                    f"409 for {write.kind} {write.key} (If-Match {write.if_match}; no other client writes there):"
                    f" {json.dumps(body)[:300]}"
                )
            elif status != 201:
                self.stats.problem(f"{status} for {write.kind} {write.key} (a valid request): {json.dumps(body)[:300]}")
            return True


# --- what the log holds ----------------------------------------------------------------------------------------


def get_json(port: int, token: str, path: str) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def post_json(port: int, token: str, path: str, body: dict, key: str) -> dict[str, Any]:
    """A setup write, retried (same key) until it is answered 201 (bounded)."""
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(
                "POST",
                path,
                body=json.dumps(body),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": key,
                },
            )
            response = conn.getresponse()
            answer = json.loads(response.read() or b"{}")
            if response.status == 201:
                return answer
            if response.status != 503:
                raise RuntimeError(f"setup write {path} answered {response.status}: {answer}")
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(RETRY_PAUSE_S)
    raise RuntimeError(f"setup write {path} was not answered 201 in time")


def whole_log(port: int, token: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    after = 0
    for _ in range(100_000):  # bounded paging
        status, page = get_json(port, token, f"/api/v1/events?after={after}&limit=1000")
        if status != 200:
            raise RuntimeError(f"GET /api/v1/events answered {status}: {page}")
        entries += page["items"]
        if page["next"] is None:
            return entries
        after = page["next"]
    raise RuntimeError("the log did not end")


def check(
    port: int, officer: str, auditor: str, writes: Sequence[Write], partnerships: Sequence[str]
) -> tuple[dict[str, Any], list[str]]:
    """The correctness checks over the log; (counts, failures)."""
    failures: list[str] = []
    log = whole_log(port, auditor)
    positions = [e["position"] for e in log]
    if positions != list(range(1, len(log) + 1)):
        gaps = sorted(set(range(1, (max(positions) if positions else 0) + 1)) - set(positions))[:10]
        failures.append(f"log positions not contiguous (missing {gaps}, {len(positions)} entries)")
    versions: dict[str, list[int]] = {}
    notes: Counter = Counter()
    note_at: set[tuple[str, int, str]] = set()
    names: Counter = Counter()
    for e in log:
        versions.setdefault(e["partnership_id"], []).append(e["version"])
        data = e.get("data") or {}
        if e["type"] == "note_added":
            notes[data.get("text")] += 1
            note_at.add((e["partnership_id"], e["version"], data.get("text")))
        elif e["type"] == "partnership_registered":
            names[data.get("partner_name")] += 1
    for pid, vs in versions.items():
        if sorted(vs) != list(range(1, len(vs) + 1)):
            failures.append(f"versions of {pid} not contiguous: {sorted(vs)[:20]}...")
    twice = [t for t, n in notes.items() if n > 1] + [n for n, c in names.items() if c > 1]
    if twice:
        failures.append(f"{len(twice)} writes recorded more than once, e.g. {twice[:5]}")
        by_text = {w.text: w for w in writes}
        for text in twice[:5]:
            kept = [
                {k: e.get(k) for k in ("position", "partnership_id", "version", "recorded_at")}
                for e in log
                if (e.get("data") or {}).get("text", (e.get("data") or {}).get("partner_name")) == text
            ]
            w = by_text.get(text)
            tries = w.history if w else []
            failures.append(f"  {text!r} (key {w.key if w else '?'}): in the log {kept}; the client's tries {tries}")
    acked = [w for w in writes if w.status == 201]
    missing = []
    for w in acked:
        if w.kind == "note":
            if (w.pid, w.answer.get("version"), w.text) not in note_at:
                missing.append(w.key)
        elif names[w.text] != 1 or w.answer.get("id") not in versions:
            missing.append(w.key)
    if missing:
        failures.append(f"{len(missing)} acknowledged writes not in the log as acknowledged, e.g. {missing[:5]}")
    # the same through each partnership's own list of events
    through_partnerships = 0
    for pid in partnerships:
        status, body = get_json(port, officer, f"/api/v1/partnerships/{pid}/events")
        if status != 200:
            failures.append(f"GET /partnerships/{pid}/events answered {status}")
            continue
        kept = {(e["version"], (e.get("data") or {}).get("text")) for e in body["items"]}
        for w in acked:
            if w.kind == "note" and w.pid == pid:
                through_partnerships += 1
                if (w.answer.get("version"), w.text) not in kept:
                    failures.append(f"acknowledged note {w.key} not in GET /partnerships/{pid}/events")
    unresolved = [w for w in writes if w.status is None]
    counts = {
        "log_entries": len(log),
        "acknowledged_in_log_once": len(acked) - len(missing),
        "acknowledged_checked_per_partnership": through_partnerships,
        "recorded_twice": len(twice),
        "unresolved_writes": len(unresolved),
        "unresolved_recorded": sum(1 for w in unresolved if notes[w.text] or names[w.text]),
    }
    return counts, failures


# --- figures ---------------------------------------------------------------------------------------------------


def p95(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def recovery(stats: Stats, back: float) -> float | None:
    """Seconds from ``back`` (the store or server available again) to the first 201 answered after it."""
    after = [t for t in stats.acked_at if t >= back]
    return round(min(after) - back, 2) if after else None


class Timeline:
    """The run's clock: faults at fixed seconds of the load, and when each was over ("back")."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.faults: list[dict[str, Any]] = []

    def at(self, seconds: float) -> None:
        time.sleep(max(0.0, self.t0 + seconds - time.monotonic()))

    def end(self, seconds: float) -> float:
        """Wait for the end of the load: ``seconds`` in, and at least :data:`AFTER_LAST_FAULT_S` after the last
        fault was over (so that recovery is measured on new writes); the load's real length."""
        last = max((f["back"] for f in self.faults), default=self.t0)
        time.sleep(max(0.0, self.t0 + seconds - time.monotonic(), last + AFTER_LAST_FAULT_S - time.monotonic()))
        return time.monotonic() - self.t0

    def fault(self, name: str, do: Callable[[], Any], undo: Callable[[], Any] | None = None, hold: float = 0) -> None:
        began = time.monotonic()
        do()
        if hold:
            time.sleep(hold)
        extra = undo() if undo else None
        back = time.monotonic()
        self.faults.append({"fault": name, "at_s": round(began - self.t0, 2), "back": back, "extra": extra})
        say(f"  {began - self.t0:6.1f} s  {name}: back after {back - began:.1f} s")


def figures(stats: Stats, timeline: Timeline, seconds: float) -> dict[str, Any]:
    answers = dict(stats.answers)
    retries = answers.pop("retries", 0)
    acked = sum(1 for w in stats.writes if w.status == 201)
    return {
        "seconds": round(seconds, 1),
        "writers": WRITERS,
        "attempted": stats.attempted,
        "acknowledged": acked,
        "requests": stats.sent,
        "retries": retries,
        "answers": answers,
        "max_s_to_503": round(max(stats.elapsed_503), 2) if stats.elapsed_503 else None,
        "p95_s_to_503": round(p95(stats.elapsed_503), 3) if stats.elapsed_503 else None,
        "max_s_to_503_busy": round(max(stats.elapsed_busy), 2) if stats.elapsed_busy else None,
        "max_s_to_connection_error": round(max(stats.elapsed_error), 2) if stats.elapsed_error else None,
        "longest_request_s": round(stats.longest, 2),
        "faults": [
            {
                "fault": f["fault"],
                "at_s": f["at_s"],
                "recovery_s": recovery(stats, f["back"]),
                **({"detail": f["extra"]} if f["extra"] else {}),
            }
            for f in timeline.faults
        ],
    }


def print_figures(store: str, result: dict[str, Any]) -> None:
    rows = [
        ("writes attempted", result["attempted"]),
        ("acknowledged (201)", result["acknowledged"]),
        ("requests sent / retries", f"{result['requests']} / {result['retries']}"),
        *[(f"answers {k}", v) for k, v in sorted(result["answers"].items())],
        ("time to a 503 (store down): max / p95 (s)", f"{result['max_s_to_503']} / {result['p95_s_to_503']}"),
        ("time to a 503 busy (key's first try open): max (s)", result["max_s_to_503_busy"]),
        ("time to a connection error: max (s)", result["max_s_to_connection_error"]),
        ("longest request (s)", result["longest_request_s"]),
        *[(f"recovery after {f['fault']} (s)", f["recovery_s"]) for f in result["faults"]],
        *[(k.replace("_", " "), v) for k, v in result["checks"].items()],
        *[(k.replace("_", " "), v) for k, v in result.get("mail", {}).items()],
        ("audit verify exit", result["audit_verify_exit"]),
        ("correct", "yes" if not result["failures"] else "NO"),
    ]
    say()
    say(table([(k, str(v)) for k, v in rows], (f"{store}: {result['seconds']:.0f} s, {WRITERS} writers", "")))
    for f in result["faults"]:
        if f.get("detail"):
            say(f"  {f['fault']}: {f['detail']}")
    for failure in result["failures"]:
        say(f"  FAILED: {failure}")


# --- the two runs ----------------------------------------------------------------------------------------------


def setup_partnerships(port: int, officer: str, label: str) -> tuple[list[dict], list[str]]:
    """Before the load: a partnership of its own for each If-Match writer, and the shared ones."""
    own = [
        post_json(
            port,
            officer,
            "/api/v1/partnerships",
            {"partner_name": f"Gmina {label} own {i}", "partner_country": "CZ", "partner_kind": "municipality"},
            f"{label}-own-{i}",
        )
        for i in range(IF_MATCH_WRITERS)
    ]
    shared = [
        post_json(
            port,
            officer,
            "/api/v1/partnerships",
            {"partner_name": f"Gmina {label} shared {i}", "partner_country": "SK", "partner_kind": "municipality"},
            f"{label}-shared-{i}",
        )["id"]
        for i in range(SHARED_PARTNERSHIPS)
    ]
    return [{"id": o["id"], "version": o["version"]} for o in own], shared


def finish(
    port: int,
    officer: str,
    auditor: str,
    writers: Writers,
    timeline: Timeline,
    seconds: float,
    partnerships: Sequence[str],
) -> dict[str, Any]:
    """The figures of the run and the checks of the log; the writers' own findings (500s, 409s) first."""
    result = figures(writers.stats, timeline, seconds)
    counts, failures = check(port, officer, auditor, writers.stats.writes, partnerships)
    result["checks"] = counts
    result["failures"] = [*writers.stats.problems, *failures]
    return result


def audit(result: dict[str, Any], env: dict[str, str], folder: Path) -> None:
    """``tracker audit verify``; on any failure the run's folder (store, server logs) is kept for a look."""
    verify = run_tracker(env, folder, "audit", "verify")
    result["audit_verify_exit"] = verify.returncode
    if verify.returncode != 0:
        result["failures"].append(f"tracker audit verify exited {verify.returncode}: {verify.stdout[-300:]}")
    if result["failures"]:
        kept = Path(tempfile.gettempdir()) / f"{folder.name}-kept"
        shutil.copytree(folder, kept, dirs_exist_ok=True)
        result["kept"] = str(kept)


def run_sqlite(seconds: float, drain_s: float) -> dict[str, Any]:
    say(f"SQLite: one `tracker serve --threads 16`, {WRITERS} writers, {seconds:.0f} s")
    with temp_dir("faults-sqlite") as folder:
        dead_smtp = f"smtp://127.0.0.1:{free_port()}"  # nothing listens: the scan's mail waits in the outbox
        env = env_for(str(folder / "events.db"), TRACKER_MAIL_FROM=SENDER, TRACKER_SMTP_URL=dead_smtp)
        officer = token_of(env, folder, "ola", "officer")
        auditor = token_of(env, folder, "ewa", "auditor")
        token_of(env, folder, "jan", "manager", "--email", MANAGER)
        server = Serve(folder, env, "serve", "--threads", "16")
        smtp = Smtp(KILL_SCHEDULER_AT_MAIL)
        scheduler: SchedulerRun | None = None
        try:
            server.start()
            for i in range(INACTIVE_PARTNERSHIPS):  # quiet since 2020: the scan opens a reminder for each
                created = post_json(
                    server.port,
                    officer,
                    "/api/v1/partnerships",
                    {
                        "partner_name": f"Gmina Cicha {i}",
                        "partner_country": "DE",
                        "partner_kind": "municipality",
                        "occurred_on": "2015-03-01",
                    },
                    f"quiet-{i}",
                )
                post_json(
                    server.port,
                    officer,
                    f"/api/v1/partnerships/{created['id']}/events",
                    {"type": "agreement_signed", "occurred_on": "2020-01-01", "agreement_kind": "partnership"},
                    f"quiet-{i}-agreement",
                )
            scan = run_tracker(env, folder, "scan-inactivity")
            say(f"  inactivity scan: {scan.stdout.strip().splitlines()[:1]} (exit {scan.returncode})")
            own, shared = setup_partnerships(server.port, officer, "sqlite")
            smtp.controller.start()
            scheduler = SchedulerRun(folder, {**env, "TRACKER_SMTP_URL": smtp.url}, smtp)

            writers = Writers([server.port], officer, own, shared, "sqlite")
            timeline = Timeline()
            writers.start()
            scheduler.start()
            timeline.at(seconds / 3)

            def restart_server() -> str:
                server.restart_after_kill()
                return f"port held {server.port_held_after_kill_s:.1f} s after the kill, {server.starts - 1} starts"

            timeline.fault("server SIGKILL + restart", server.kill, restart_server)
            timeline.at(2 * seconds / 3)
            full_s = min(5.0, seconds / 6)

            def fill_disk() -> None:
                server.limit_files((folder / "events.db").stat().st_size + 64 * 1024)

            def free_disk() -> str:
                """Once the writers have met the full disk (a 503, bounded wait), keep it full ``full_s``."""
                since, before = time.monotonic(), writers.stats.answers["503"]
                while writers.stats.answers["503"] == before and time.monotonic() < since + 30:
                    time.sleep(0.05)
                met = time.monotonic() - since
                time.sleep(full_s)
                server.limit_files(None)
                return f"first 503 {met:.1f} s after the limit (events.db + 64 KiB), then full {full_s:.1f} s more"

            timeline.fault("disk full", fill_disk, free_disk)
            loaded = timeline.end(seconds)
            writers.finish(drain_s)
            scheduler.stop()
            partnerships = [o["id"] for o in own] + shared
            result = finish(server.port, officer, auditor, writers, timeline, loaded, partnerships)
            mails = smtp.message_ids()
            by_subject: dict[str, set[str]] = {}
            for subject, mid in mails:
                by_subject.setdefault(subject, set()).add(mid)
            result["mail"] = {
                "reminders": INACTIVE_PARTNERSHIPS,
                "reminder_mails_arrived": len(mails),
                "distinct_message_ids": len({mid for _, mid in mails}),
                "scheduler_killed": smtp.killed.is_set(),
                "scheduler_starts": scheduler.starts,
            }
            split = [s for s, ids in by_subject.items() if len(ids) > 1]
            if split:
                result["failures"].append(f"a reminder mailed under more than one Message-ID: {split[:3]}")
            if len(by_subject) < INACTIVE_PARTNERSHIPS:
                result["failures"].append(f"only {len(by_subject)} of {INACTIVE_PARTNERSHIPS} reminders were mailed")
        finally:
            if scheduler is not None:
                scheduler.stop()
            with contextlib.suppress(Exception):
                smtp.controller.stop()
            server.stop()
        audit(result, env, folder)
        return result


def run_postgres(seconds: float, drain_s: float) -> dict[str, Any]:
    say(f"PostgreSQL: `tracker serve --workers 2` and `tracker serve` (waitress) on one database, {WRITERS} writers")
    cluster = Cluster()
    servers: list[Serve] = []
    try:
        with temp_dir("faults-postgres") as folder:
            env = env_for(cluster.url)
            init = run_tracker(env, folder, "db", "init")
            if init.returncode != 0:
                raise RuntimeError(f"tracker db init: {init.stderr}")
            officer = token_of(env, folder, "ola", "officer")
            auditor = token_of(env, folder, "ewa", "auditor")
            gunicorn = Serve(folder, env, "serve-gunicorn", "--workers", "2", "--threads", "8")
            waitress = Serve(folder, env, "serve-waitress", "--threads", "8")
            servers = [gunicorn, waitress]
            for s in servers:
                s.start()
            own, shared = setup_partnerships(gunicorn.port, officer, "postgres")
            writers = Writers([gunicorn.port, waitress.port], officer, own, shared, "postgres")
            timeline = Timeline()
            writers.start()
            timeline.at(seconds / 3)
            timeline.fault("PostgreSQL restart -m fast", cluster.restart)
            timeline.at(seconds / 2)

            def restart_gunicorn() -> str:
                gunicorn.restart_after_kill()
                return f"port held {gunicorn.port_held_after_kill_s:.1f} s after the kill, {gunicorn.starts - 1} starts"

            timeline.fault("gunicorn master SIGKILL + restart", gunicorn.kill, restart_gunicorn)
            timeline.at(2 * seconds / 3)
            timeline.fault(f"PostgreSQL stopped {PG_STOPPED_S:.0f} s", cluster.stop, cluster.start, hold=PG_STOPPED_S)
            loaded = timeline.end(seconds)
            writers.finish(drain_s)
            partnerships = [o["id"] for o in own] + shared
            result = finish(waitress.port, officer, auditor, writers, timeline, loaded, partnerships)
            for s in servers:
                s.stop()
            audit(result, env, folder)
            return result
    finally:
        for s in servers:
            s.stop()
        cluster.remove()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of load per store (default 60)")
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--drain",
        type=float,
        default=90.0,
        help="after the load, seconds for the writes left without an answer to be resolved (default 90: a claim "
        "left by a crash goes stale after 60 s)",
    )
    args = parser.parse_args(argv)
    # SIGTERM ends the run as Ctrl+C does: through the clean-ups (servers, scheduler, the cluster)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict[str, Any] = {}
    if args.store in ("sqlite", "both"):
        results["sqlite"] = run_sqlite(args.seconds, args.drain)
        print_figures("SQLite", results["sqlite"])
    if args.store in ("postgres", "both"):
        results["postgres"] = run_postgres(args.seconds, args.drain)
        print_figures("PostgreSQL", results["postgres"])
    ok = all(not r["failures"] for r in results.values())
    print(json.dumps({"faults": results, "ok": ok}, ensure_ascii=False), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
