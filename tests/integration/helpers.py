"""Helpers shared by the integration tests: real stores (SQLite files or PostgreSQL schemas, see
``tests/backend.py``), the `tracker` script, raw rows.

Run as a script it is a writer process for the cross-process tests (see :func:`main`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from backend import ORGANISATION, Store, database_for

REPO = Path(__file__).resolve().parents[2]
TRACKER = REPO / ".venv" / "bin" / "tracker"
PYTHON = REPO / ".venv" / "bin" / "python"
TODAY = date(2026, 11, 26)

REGISTRATION = {
    "partner_name": "Gmina Testowa",
    "partner_country": "DE",
    "partner_kind": "municipality",
    "local_party": "Powiat Piaseczyński",
    "areas": ["education"],
    "occurred_on": date(2015, 3, 1),
}


def database_of(folder: Path, *, init: bool = True) -> str:
    """The TRACKER_DATABASE of the store belonging to ``folder`` (its tables made, unless ``init=False``)."""
    return database_for(folder, init=init)


def open_services(database: str | Path) -> Any:
    """A fresh composition root (Tracker, views, users) over the store."""
    from application.config import Config
    from application.services import build_services

    return build_services(Config(database=str(database), fixed_today=TODAY, organisation=ORGANISATION))


def bare_projection(database: str | Path) -> tuple[Any, Any]:
    """A second Tracker and Projection over the same store, without catching up (the caller closes the Tracker)."""
    from infrastructure.store import Db
    from projections.projection import Projection, views_recorder

    tracker_app = _open_tracker(str(database))
    return tracker_app, Projection(tracker_app, Db(views_recorder(tracker_app)))


def register(tracker: Any, name: str = "Gmina Testowa", **fields: Any) -> UUID:
    """Register a partnership directly through the Tracker (the read models are not touched)."""
    recorded = tracker.register_partnership(
        {**REGISTRATION, "partner_name": name, **fields}, recorded_by="test", today=TODAY
    )
    return recorded.partnership_id


def record(tracker: Any, pid: UUID, event_type: str, **fields: Any) -> Any:
    fields.setdefault("occurred_on", date(2020, 1, 1))
    return tracker.record_event(pid, event_type, fields, recorded_by="test", today=TODAY)


def view_rows(database: str | Path) -> dict[str, list[tuple]]:
    """Every row of every read-model table, in key order, read with a plain connection."""
    return Store(database).view_rows()


def tracking_position(database: str | Path) -> int:
    return Store(database).tracking_position()


def stored_count(database: str | Path) -> int:
    return Store(database).stored_count()


def cli_env(tmp_path: Path, *, init: bool = True, **extra: str) -> dict[str, str]:
    """The environment of a ``tracker`` command on the store of ``tmp_path`` (``extra`` may override it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    return {**env, "TRACKER_DATABASE": database_for(tmp_path, init=init), "TRACKER_ORGANISATION": ORGANISATION, **extra}


def tracker(tmp_path: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> Any:
    """Run the installed ``tracker`` script in ``tmp_path``; the CompletedProcess (bytes out, text err)."""
    result = subprocess.run(
        [str(TRACKER), *args],
        cwd=tmp_path,
        env=dict(env) if env is not None else cli_env(tmp_path),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    result.stderr = result.stderr.decode("utf-8", "replace")
    return result


def log_entries(db: Any, *, after: int = 0, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every log entry in position order, read from the read model page by page (``queries.log_page``)."""
    from projections.queries import log_page

    while True:
        page = log_page(db, after=after, limit=batch)
        yield from page["items"]
        if page["next"] is None:
            return
        after = page["next"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_json(
    method: str, url: str, token: str | None = None, body: Any = None, timeout: float = 30
) -> tuple[int, dict[str, Any]]:
    """One JSON request over loopback; (status, body) whatever the status."""
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def wait_for_health(base: str, process: subprocess.Popen, deadline_s: float = 60) -> int:
    """Poll /api/v1/health until it answers (bounded); returns the position it reports."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before answering")
        try:
            status, body = request_json("GET", f"{base}/api/v1/health", timeout=2)
            if status == 200:
                return body["position"]
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not answer /api/v1/health in time")


def add_user(tmp_path: Path, env: Mapping[str, str], name: str, role: str) -> str:
    """`tracker users add NAME --role ROLE`; the token it prints."""
    result = tracker(tmp_path, "users", "add", name, "--role", role, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode().splitlines()[-1]


def all_log_entries(base: str, token: str) -> list[dict[str, Any]]:
    """The whole log through ``GET /api/v1/events``, page after page (bounded)."""
    entries: list[dict[str, Any]] = []
    after = 0
    for _ in range(1000):  # bounded paging
        status, page = request_json("GET", f"{base}/api/v1/events?after={after}&limit=1000", token)
        assert status == 200, page
        entries += page["items"]
        if page["next"] is None:
            return entries
        after = page["next"]
    raise AssertionError("the log did not end")


class Server:
    """`tracker serve --no-demo [--no-jobs] [ARGS]` on a free loopback port, its output to ``tmp_path/NAME.log``.

    It runs in a session of its own, so that stopping it also stops gunicorn's workers. ``program`` is the
    ``tracker`` script to run (the checkout's by default; another installation's in test_installed_package).
    The scheduled jobs stay off (``--no-jobs``) unless ``jobs=True``, so that a test's log holds only its writes.
    """

    def __init__(
        self, tmp_path: Path, env: Mapping[str, str], name: str, *args: str, program: Path = TRACKER, jobs: bool = False
    ) -> None:
        if not jobs:
            args = ("--no-jobs", *args)
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(program), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-demo", *args],
            cwd=tmp_path,
            env=dict(env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.position = wait_for_health(self.base, self.process)
        except BaseException:
            self.stop()
            raise

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL the server (and its workers): no clean-up of any kind."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        else:  # the session's other processes (gunicorn workers) must not outlive it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def _open_tracker(database: str, *, create_tables: bool = True) -> Any:
    from application.config import Config
    from domain.tracker import Tracker

    return Tracker(env=Config(database=database, create_tables=create_tables).eventsourcing_env())


def _ready() -> None:
    """Say "ready" and wait for the parent's "go" line, so that every writer process starts at once."""
    print("ready", flush=True)
    sys.stdin.readline()


def write_notes(database: str, pid: str, count: int, label: str) -> None:
    """Record ``count`` notes without an expected version; print each acknowledged version."""
    tracker_app = _open_tracker(database, create_tables=False)
    try:
        _ready()
        for i in range(count):
            recorded = tracker_app.record_event(
                UUID(pid),
                "note_added",
                {"occurred_on": TODAY, "text": f"{label}-{i}"},
                recorded_by=label,
                today=TODAY,
            )
            print(recorded.version, flush=True)
    finally:
        tracker_app.close()


def write_expecting(database: str, pid: str, version: int, label: str) -> None:
    """Record one note expecting ``version``; print "ok VERSION" or "stale"."""
    from domain.errors import StaleVersion

    tracker_app = _open_tracker(database, create_tables=False)
    try:
        _ready()
        try:
            recorded = tracker_app.record_event(
                UUID(pid),
                "note_added",
                {"occurred_on": TODAY, "text": label},
                recorded_by=label,
                today=TODAY,
                expected_version=version,
            )
        except StaleVersion:
            print("stale", flush=True)
        else:
            print(f"ok {recorded.version}", flush=True)
    finally:
        tracker_app.close()


def start_writers(commands: Sequence[Sequence[str]]) -> list[subprocess.Popen]:
    """Start one writer process per command (arguments of this script), wait until each is ready, then let go."""
    processes = [
        subprocess.Popen(
            [str(PYTHON), __file__, *command],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO / "tests")},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    for p in processes:
        line = p.stdout.readline()
        assert line.strip() == "ready", f"writer did not start: {line!r} {p.stderr.read() if p.poll() else ''}"
    for p in processes:
        p.stdin.write("go\n")
        p.stdin.flush()
    return processes


def finish_writers(processes: Sequence[subprocess.Popen], timeout: float = 300) -> list[list[str]]:
    """Each writer's printed lines (after "ready"); fails when one exited non-zero."""
    outputs = []
    for p in processes:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err
        outputs.append(out.split())
    return outputs


def main(argv: Sequence[str]) -> int:
    if len(argv) == 5 and argv[0] == "write-notes":
        write_notes(argv[1], argv[2], int(argv[3]), argv[4])
        return 0
    if len(argv) == 5 and argv[0] == "write-expecting":
        write_expecting(argv[1], argv[2], int(argv[3]), argv[4])
        return 0
    print("usage: helpers.py write-notes DATABASE PID COUNT LABEL | write-expecting DATABASE PID VERSION LABEL")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def eventually(check: Callable[[], Any], what: str, deadline_s: float = 60) -> Any:
    """Poll ``check`` until it answers something true (bounded by ``deadline_s``, never a timing assertion);
    that answer."""
    deadline = time.monotonic() + deadline_s
    while not (answer := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not so after {deadline_s} s")
        time.sleep(0.05)
    return answer


@contextlib.contextmanager
def committed_then_failing(services: Any) -> Iterator[None]:
    """Every save commits, then fails as the store does when its COMMIT's outcome is unknown (SQLite reporting
    a failed COMMIT that did land; PostgreSQL's connection dead before its answer): the API answers 503."""
    import sqlite3

    from eventsourcing.persistence import OperationalError

    original = services.tracker.save

    def save(*aggregates: Any, **kwargs: Any) -> Any:
        original(*aggregates, **kwargs)  # committed
        try:
            raise sqlite3.OperationalError("disk I/O error")
        except sqlite3.OperationalError as e:
            raise OperationalError(str(e)) from e

    services.tracker.save = save  # type: ignore[method-assign]
    try:
        yield
    finally:
        services.tracker.save = original  # type: ignore[method-assign]
