"""Served processes for the suite: the real ``tracker serve`` (and ``tracker`` commands), the bare endpoint,
HTTP clients on keep-alive connections, and the peak memory of a child process.

Every server runs in a session of its own on a free loopback port, its output in a log file of its folder,
and is stopped (SIGTERM, then SIGKILL) by its own process group id.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: The ``tracker`` script beside the interpreter running the suite (the venv's), else the venv's of the checkout.
TRACKER = next(
    (p for p in (Path(sys.executable).with_name("tracker"), REPO / ".venv" / "bin" / "tracker") if p.exists()),
    Path("tracker"),
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tracker_env(database: str, **extra: str) -> dict[str, str]:
    """The environment of a ``tracker`` process on ``database`` (no other ``TRACKER_*`` of the caller's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    return {**env, "TRACKER_DATABASE": database, **extra}


def tracker_command(database: str, *args: str, cwd: Path, timeout: float = 600) -> str:
    """Run ``tracker ARGS`` on ``database``; its stdout (fails with its stderr when it exits non-zero)."""
    result = subprocess.run(
        [str(TRACKER), *args], cwd=cwd, env=tracker_env(database), capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"tracker {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return result.stdout


def add_user(database: str, name: str, role: str, *, cwd: Path) -> str:
    """``tracker users add NAME --role ROLE``: the API token it prints on its last line."""
    return tracker_command(database, "users", "add", name, "--role", role, cwd=cwd).splitlines()[-1].strip()


def memory_kib(pid: int) -> dict[str, int]:
    """``VmHWM`` (peak resident set) and ``VmRSS`` of a live process, in KiB, from ``/proc/PID/status``."""
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0])
    return out


class Child:
    """A server process in a session of its own on a free loopback port; ``stop()`` ends it (and only it)."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], name: str, health: str) -> None:
        self.port = free_port()
        self.log_path = cwd / f"{name}-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [*argv, "--port", str(self.port)],
            cwd=cwd,
            env=dict(env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait(health)
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait(self, health: str, deadline_s: float = 120) -> None:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited {self.process.returncode}: {self.log_path.read_text()[-800:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", health)
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer {health} in {deadline_s} s")

    def memory(self) -> dict[str, int]:
        return memory_kib(self.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)
        self.log.close()


@contextmanager
def tracker_server(database: str, folder: Path, *, threads: int = 8) -> Iterator[Child]:
    """``tracker serve --no-demo --no-jobs`` (waitress, as ``make run`` uses it) on ``database``."""
    server = Child(
        [str(TRACKER), "serve", "--host", "127.0.0.1", "--threads", str(threads), "--no-demo", "--no-jobs"],
        cwd=folder,
        env=tracker_env(database),
        name="tracker-serve",
        health="/api/v1/health",
    )
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def bare_server(database: str, folder: Path, *, threads: int = 8) -> Iterator[Child]:
    """``bench/bare_app.py`` under waitress with the same threads: one INSERT + COMMIT per POST."""
    server = Child(
        [sys.executable, "-m", "bench.bare_app", "--database", database, "--threads", str(threads)],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))},
        name="bare",
        health="/health",
    )
    try:
        yield server
    finally:
        server.stop()


class Client:
    """One keep-alive HTTP/1.1 connection with a Bearer token; every answer is read to its end."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.conn.connect()
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        self.conn.request(method, path, body=data, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def run_clients(port: int, token: str | None, clients: int, work: Callable[[Client, int], None]) -> float:
    """``clients`` threads, each with its own connection (opened beforehand), running ``work(client, index)``
    at once; the seconds from the common start to the last one's end. The first failure is raised."""
    connections = [Client(port, token) for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def body(index: int) -> None:
        barrier.wait()
        try:
            work(connections[index], index)
        except BaseException as e:  # noqa: BLE001 (handed to the caller)
            failures.append(e)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    for c in connections:
        c.close()
    if failures:
        raise failures[0]
    return seconds


def wait_peak(process: subprocess.Popen, poll: float = 0.05) -> tuple[int, int]:
    """Wait for a child, sampling its ``VmHWM`` every ``poll`` seconds; (exit code, peak RSS in KiB).

    ``VmHWM`` is the high-water mark of the child's own memory since its ``exec`` (the kernel's ``ru_maxrss``
    of a reaped child is not used: it keeps the forking parent's resident set too). Only the last ``poll``
    seconds before the child exits go unseen.
    """
    seen = 0
    while process.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            seen = max(seen, memory_kib(process.pid).get("VmHWM", 0))
        time.sleep(poll)
    return process.returncode, seen
