"""Process supervision, through real `tracker serve` processes on a loopback port.

- gunicorn (`--workers 2`): when the master is SIGKILLed, its workers die with it (each asks the kernel for a
  parent-death signal), so a server started at once on the same port binds it and answers, even while clients
  held connections open on the old workers (those kept the listening socket open for the whole graceful
  timeout before the fix, and the restart exited with "Connection in use");
- SIGTERM or SIGINT stops `tracker serve` cleanly under gunicorn and under waitress: exit code 0, no traceback,
  no worker left behind, the scheduled jobs (waitress on the embedded store runs them) stopped with it.

Every wait is bounded by a generous deadline; none is a timing assertion.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backend import POSTGRES

from .helpers import TRACKER, cli_env, eventually, free_port, tracker, wait_for_health

pytestmark = pytest.mark.slow

DEADLINE_S = 60  # a bound on every wait, never a timing assertion


class Serving:
    """`tracker serve --host 127.0.0.1 --port PORT --no-demo ARGS` in a session of its own, output to a file."""

    def __init__(self, tmp_path: Path, env: dict[str, str], port: int, name: str, *args: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = tmp_path / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(TRACKER), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-demo", *args],
                cwd=tmp_path,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_health(self) -> None:
        try:
            wait_for_health(self.base, self.process, deadline_s=DEADLINE_S)
        except AssertionError as e:
            raise AssertionError(f"{e}; its output:\n{self.output()}") from None

    def clean_up(self) -> None:
        """Whatever is left of the session (the test failed half-way): SIGKILL it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Callable[..., Serving]]:
    started: list[Serving] = []

    def start(env: dict[str, str], port: int, name: str, *args: str) -> Serving:
        server = Serving(tmp_path, env, port, name, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.clean_up()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A deployment's environment: `tracker db init` once on the test's fresh store."""
    env = cli_env(tmp_path, init=False)
    result = tracker(tmp_path, "db", "init", env=env)
    assert result.returncode == 0, result.stderr
    return env


# --- processes, from /proc --------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rpartition(")")[2].split()  # after "pid (comm)": state, ppid, ...
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Whether the process still runs (a zombie waiting for its parent to reap it has ended)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def children(pid: int) -> set[int]:
    """The running processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] not in ("Z", "X"):
                found.add(int(entry.name))
    return found


def workers_of(server: Serving, count: int) -> set[int]:
    """The pids of the master's ``count`` workers, once all of them have been forked."""

    def forked() -> set[int] | None:
        found = children(server.pid)
        return found if len(found) == count else None

    return eventually(forked, f"{count} workers")


def stopped_cleanly(server: Serving, sig: int) -> None:
    """Send ``sig`` to the server's main process alone; it must exit 0 without a traceback."""
    os.kill(server.pid, sig)
    try:
        code = server.process.wait(DEADLINE_S)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the server did not stop on {signal.Signals(sig).name}:\n{server.output()}") from None
    output = server.output()
    assert code == 0, f"exit code {code} on {signal.Signals(sig).name}:\n{output}"
    assert "Traceback" not in output, output


def hold_connections(port: int, count: int) -> list[socket.socket]:
    """``count`` clients in the middle of a request (headers not finished): in-flight work for the workers."""
    held = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
        client.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        held.append(client)
    return held


# --- gunicorn -------------------------------------------------------------------------------------------


def test_after_sigkill_of_the_gunicorn_master_a_restart_binds_the_same_port(
    env: dict[str, str], serving: Callable[..., Serving]
) -> None:
    """SIGKILL the master of `serve --workers 2` while clients hold connections to its workers, start a new one
    on the same port at once: its workers' listening sockets died with the old master, so it binds and answers;
    no old worker is left; SIGTERM then stops the new one with exit 0 and takes its workers along."""
    port = free_port()
    first = serving(env, port, "first", "--workers", "2")
    first.wait_for_health()
    old_workers = workers_of(first, 2)
    clients = hold_connections(port, 8)
    try:
        os.kill(first.pid, signal.SIGKILL)
        first.process.wait(DEADLINE_S)

        second = serving(env, port, "second", "--workers", "2")

        def old_workers_gone() -> bool:
            if second.process.poll() is not None:  # before the fix: "Connection in use", then "Can't connect"
                raise AssertionError(f"the restart exited with {second.process.returncode}:\n{second.output()}")
            return not any(alive(pid) for pid in old_workers)

        # the old workers first, so that the answer below is the new server's own
        eventually(old_workers_gone, "the old master's workers are gone")
        second.wait_for_health()
        new_workers = workers_of(second, 2)
        assert "Connection in use" not in second.output()
        assert not new_workers & old_workers
    finally:
        for client in clients:
            client.close()

    stopped_cleanly(second, signal.SIGTERM)
    eventually(lambda: not any(alive(pid) for pid in new_workers), "the workers stopped with their master")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
def test_gunicorn_stops_cleanly_on_a_signal(env: dict[str, str], serving: Callable[..., Serving], sig: int) -> None:
    """`serve --workers 2` answers, then SIGTERM (systemd's stop) or SIGINT (Ctrl+C) to the master alone: exit 0,
    no traceback, every worker gone, and the port is free for the next start."""
    port = free_port()
    server = serving(env, port, "gunicorn", "--workers", "2")
    server.wait_for_health()
    workers = workers_of(server, 2)
    stopped_cleanly(server, sig)
    assert not any(alive(pid) for pid in workers), "a worker outlived its master"

    again = serving(env, port, "again", "--workers", "2")
    again.wait_for_health()
    stopped_cleanly(again, signal.SIGTERM)


# --- waitress -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
def test_waitress_stops_cleanly_on_a_signal(env: dict[str, str], serving: Callable[..., Serving], sig: int) -> None:
    """`serve` (waitress; on the embedded store it also runs the scheduled jobs) stops on SIGTERM or SIGINT with
    exit 0 and no traceback; the jobs stopped with it, so a `tracker scheduler` may take their lock at once."""
    port = free_port()
    server = serving(env, port, "waitress", "--workers", "1")
    server.wait_for_health()
    runs_jobs = not POSTGRES
    if runs_jobs:
        assert "Scheduled jobs running in this process" in server.output()
    stopped_cleanly(server, sig)
    assert not children(server.pid)

    if runs_jobs:  # the scheduler lock was the serving process's: it is free now
        scheduler = subprocess.Popen(
            [str(TRACKER), "scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert scheduler.stdout is not None
            line = scheduler.stdout.readline()
            assert "scheduler running" in line, (line, scheduler.stderr.read() if scheduler.poll() is not None else "")
        finally:
            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(DEADLINE_S) == 0
