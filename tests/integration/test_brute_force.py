"""Guessing passwords and tokens against a real `tracker serve`: limited per address and per name, the same
work for unknown names, and a flood of sign-ins that cannot take the server's memory (issue 13, part 3).

Client addresses are simulated through the trusted proxy (``TRACKER_TRUSTED_PROXY=127.0.0.1`` and
``X-Forwarded-For``), as a reverse proxy in front of the tracker would send them.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import statistics
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .helpers import TRACKER, Server, cli_env

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-42"
MIB = 1024 * 1024
#: What one argon2 computation takes (argon2-cffi's default memory_cost, 64 MiB).
ARGON2_MEMORY = 64 * MIB
MODES = {"waitress": (), "gunicorn": ("--workers", "2")}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """A cookie-keeping client of the login form, coming from ``address`` (through the trusted proxy)."""

    def __init__(self, base: str, address: str = "10.0.0.1") -> None:
        self.base = base
        self.address = address
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        request.add_header("X-Forwarded-For", self.address)
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def sign_in(self, name: str, password: str) -> tuple[int, dict[str, str], str]:
        status, _, page = self.open("/login")
        assert status == 200, page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.open("/login", {"username": name, "password": password, "csrf_token": token})


def _env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, TRACKER_TRUSTED_PROXY="127.0.0.1")


def _add_with_password(tmp_path: Path, env: dict[str, str], name: str, role: str = "officer") -> str:
    result = subprocess.run(
        [str(TRACKER), "users", "add", name, "--role", role, "--password", PASSWORD],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.decode().splitlines()[-1]


@pytest.fixture
def served(tmp_path: Path) -> tuple[Server, dict[str, str]]:
    env = _env(tmp_path)
    tokens = {"ala": _add_with_password(tmp_path, env, "ala"), "ola": _add_with_password(tmp_path, env, "ola")}
    server = Server(tmp_path, env, "brute")
    yield server, tokens
    server.stop()


def test_failed_sign_ins_from_one_address_are_stopped_then_even_the_right_password_waits(served) -> None:
    """Ten wrong passwords from one address are answered 401; the eleventh attempt, right or wrong, is 429."""
    server, _ = served
    guesser = Browser(server.base, "10.0.0.7")
    names = ["ala", "ola", "nobody", "ala", "ola", "nobody", "x1", "x2", "x3", "x4"]  # at most 5 per name
    assert [guesser.sign_in(name, "wrong-guess")[0] for name in names] == [401] * 10
    status, headers, page = guesser.sign_in("ala", PASSWORD)
    assert status == 429
    assert int(headers["Retry-After"]) >= 1
    # another address is not held back, and signs in
    assert Browser(server.base, "10.0.0.8").sign_in("ala", PASSWORD)[0] == 302


def test_one_name_guessed_from_many_addresses_is_stopped(served) -> None:
    """A guesser who spreads the attempts for one name over many addresses gets 429 after five failures."""
    server, _ = served
    statuses = [Browser(server.base, f"10.0.1.{i}").sign_in("ala", f"guess-{i}")[0] for i in range(6)]
    assert statuses == [401] * 5 + [429]
    assert Browser(server.base, "10.0.1.99").sign_in("ala", PASSWORD)[0] == 429  # the name waits out its window
    assert Browser(server.base, "10.0.1.99").sign_in("ola", PASSWORD)[0] == 302  # other names are not


def test_bad_api_tokens_from_one_address_are_stopped(served) -> None:
    """Twenty unknown tokens are 401; then the address gets 429 (JSON, with Retry-After), others still pass."""
    server, tokens = served

    def health_of(token: str, address: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(f"{server.base}/api/v1/partnerships")
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("X-Forwarded-For", address)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    assert [health_of(f"guess-{i}", "10.0.2.1")[0] for i in range(20)] == [401] * 20
    status, headers, body = health_of("guess-21", "10.0.2.1")
    assert status == 429 and b'"code":"too_many_attempts"' in body.replace(b" ", b"")
    assert int(headers["Retry-After"]) >= 1
    assert health_of(tokens["ala"], "10.0.2.1")[0] == 429  # the address waits, whatever it sends
    assert health_of(tokens["ala"], "10.0.2.2")[0] == 200


def test_unknown_names_cost_what_known_names_cost(served) -> None:
    """Unknown names are checked against a dummy argon2 hash: their answers cost the server as much as a wrong
    password does.

    Measured as the server process's CPU time per attempt (what argon2 spends), which other load on the
    machine hardly moves, unlike the answer's wall time. Relative, not a threshold: before, an unknown name
    cost about 60 times less than a known one.
    """
    server, _ = served
    pids = _serving_processes(server)

    def cost(name: str, i: int) -> float:
        browser = Browser(server.base, f"10.0.3.{i}")
        browser.open("/login")  # the form first, so only the attempt itself is measured
        status, _, page = browser.open("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        before = sum(_cpu_seconds(pid) for pid in pids)
        status, _, _ = browser.open("/login", {"username": name, "password": "wrong-guess", "csrf_token": token})
        assert status == 401
        return sum(_cpu_seconds(pid) for pid in pids) - before

    known = statistics.median(cost("ala" if i % 2 else "ola", i) for i in range(4))
    unknown = statistics.median(cost(f"nobody{i}", 10 + i) for i in range(4))
    assert unknown > known / 3, (unknown, known)


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) the process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss(pid: int) -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _serving_processes(server: Server) -> list[int]:
    """The processes that run the app: waitress's one, or gunicorn's workers (the master's children)."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    return [int(pid) for pid in children] or [server.process.pid]


@pytest.mark.parametrize("mode", MODES)
def test_a_flood_of_sign_ins_cannot_exhaust_memory(tmp_path: Path, mode: str) -> None:
    """Twenty-four sign-ins, eight at a time per process, from as many addresses: at most two argon2 checks
    run at once, so each serving process grows by far less than the 8 x 64 MiB that eight would take."""
    env = _env(tmp_path)
    _add_with_password(tmp_path, env, "ala")
    server = Server(tmp_path, env, f"flood-{mode}", *MODES[mode])
    try:
        for _ in range(4):  # pages served (each worker built its app at start)
            Browser(server.base, "10.0.4.0").open("/login")
        before = {pid: _peak_rss(pid) for pid in _serving_processes(server)}
        attempts = 8 * len(before) * 3

        def attempt(i: int) -> int:
            return Browser(server.base, f"10.1.{i // 250}.{i % 250}").sign_in("ala" if i < 4 else f"nobody{i}", "nope")[
                0
            ]

        with ThreadPoolExecutor(8 * len(before)) as pool:
            statuses = list(pool.map(attempt, range(attempts)))
        assert set(statuses) <= {401, 503}, statuses
        assert statuses.count(401) >= attempts // 2, statuses  # the flood was really hashed, not refused
        growth = {pid: _peak_rss(pid) - before[pid] for pid in before}
        assert all(g < 4 * ARGON2_MEMORY for g in growth.values()), {p: g // MIB for p, g in growth.items()}
    finally:
        server.stop()
    assert "Traceback" not in server.output()


def test_hashing_slots_are_configurable_and_refused_by_name(tmp_path: Path) -> None:
    """TRACKER_PASSWORD_SLOTS sets the bound; a value that is no count is refused naming the variable."""
    env = {**cli_env(tmp_path), "TRACKER_PASSWORD_SLOTS": "zero"}
    result = subprocess.run(
        [str(TRACKER), "users", "add", "ala", "--role", "officer"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
    )
    assert result.returncode != 0
    assert b"TRACKER_PASSWORD_SLOTS" in result.stderr
    assert b"ala" not in result.stdout  # nothing was created


def test_every_sign_in_costs_one_argon2_check(services) -> None:
    """Known name, unknown name, a user without a password: each attempt is one argon2 verification."""
    services.users.add("ala", "officer", password=PASSWORD)
    services.users.add("bot", "officer")  # a token-only user
    gate = services.users.passwords
    for name, password in (("ala", "wrong"), ("nobody", "wrong"), ("bot", "whatever"), ("ala", PASSWORD)):
        before = gate.verifications
        services.users.check_password(name, password)
        assert gate.verifications == before + 1, name
    assert services.users.check_password("ala", PASSWORD) is not None
    assert services.users.check_password("nobody", "wrong") is None
