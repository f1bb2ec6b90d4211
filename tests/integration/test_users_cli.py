"""`tracker users list|disable|enable|set-role|reset-password|new-token|revoke-tokens` on a real store, against a
real `tracker serve` process: a change ends the user's browser sessions and API token at once, every change is in
the access log, `tracker audit verify` covers the access log too, and the demo users get random passwords."""

from __future__ import annotations

import getpass
import re
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from backend import Store

from .helpers import TRACKER, Server, cli_env, free_port, request_json, tracker, wait_for_health

TOKEN = re.compile(r"[A-Za-z0-9_-]{32,}")
ACCESS_DIGEST = re.compile(r"^access:(\d+):([0-9a-f]{64})$")


def ok(tmp_path: Path, *args: str, env: dict | None = None) -> list[str]:
    result = tracker(tmp_path, *args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8").splitlines()


def one_line_error(result: Any) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def access_rows(tmp_path: Path) -> list[tuple]:
    return Store(cli_env(tmp_path)["TRACKER_DATABASE"]).rows(
        "SELECT position, actor, action, subject FROM tracker_access_log ORDER BY position"
    )


def user_rows(tmp_path: Path) -> list[tuple]:
    return Store(cli_env(tmp_path)["TRACKER_DATABASE"]).rows(
        "SELECT name, role, disabled_at, password_hash, token_hash FROM tracker_users ORDER BY name"
    )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """A browser without JavaScript: a cookie jar, forms with their CSRF token, redirects seen, not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict[str, str], form_page: str) -> tuple[int, str]:
        _, html = self.get(form_page)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def sign_in(self, name: str, password: str) -> int:
        return self.post("/login", {"username": name, "password": password}, form_page="/login")[0]

    def session_cookie(self) -> str:
        return next(c.value for c in self.jar if c.name == "session")

    def with_cookie(self, value: str) -> Browser:
        """Another browser holding a copy of this session cookie."""
        other = Browser(self.base)
        other.opener.addheaders = [("Cookie", f"session={value}")]
        return other


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    """`tracker serve` on the test's store, with an admin, an officer (ala) and an auditor (ewa) made by the CLI."""
    env = cli_env(tmp_path)
    ok(tmp_path, "users", "add", "root", "--role", "admin", "--password", "root-password-1")
    tokens = {
        name: ok(tmp_path, "users", "add", name, "--role", role, "--password", f"{name}-password-1")[-1]
        for name, role in (("ala", "officer"), ("ewa", "auditor"))
    }
    server = Server(tmp_path, env, "serve")
    try:
        yield server, tokens
    finally:
        server.stop()


def test_a_change_from_the_command_line_ends_sessions_and_tokens_at_once(
    tmp_path: Path, served: tuple[Server, dict[str, str]]
) -> None:
    """Ala works in the browser and by token; `tracker users disable ala` ends both for the running server at
    once, and a copy of her cookie is worthless; enabled again she signs in with a new password only."""
    server, tokens = served
    ala = Browser(server.base)
    assert ala.sign_in("ala", "ala-password-1") == 302
    assert ala.get("/")[0] == 200
    copy = ala.with_cookie(ala.session_cookie())
    assert copy.get("/")[0] == 200
    assert request_json("GET", f"{server.base}/api/v1/partnerships", tokens["ala"])[0] == 200

    out = ok(tmp_path, "users", "disable", "ala")
    assert out == ["disabled ala: API token revoked, 1 session(s) ended"]
    assert ala.get("/")[0] == 302 and copy.get("/")[0] == 302
    assert request_json("GET", f"{server.base}/api/v1/partnerships", tokens["ala"])[0] == 401
    assert Browser(server.base).sign_in("ala", "ala-password-1") == 401

    ok(tmp_path, "users", "enable", "ala")
    password = ok(tmp_path, "users", "reset-password", "ala")[-1]
    assert Browser(server.base).sign_in("ala", "ala-password-1") == 401
    assert Browser(server.base).sign_in("ala", password) == 302
    assert request_json("GET", f"{server.base}/api/v1/partnerships", tokens["ala"])[0] == 401  # stays revoked
    token = ok(tmp_path, "users", "new-token", "ala")[-1]
    assert TOKEN.fullmatch(token)
    assert request_json("GET", f"{server.base}/api/v1/partnerships", token)[0] == 200


def test_a_new_password_a_revocation_and_a_new_role_end_the_sessions(
    tmp_path: Path, served: tuple[Server, dict[str, str]]
) -> None:
    server, tokens = served
    ewa = Browser(server.base)
    assert ewa.sign_in("ewa", "ewa-password-1") == 302
    ok(tmp_path, "users", "reset-password", "ewa", "--password", "ewa-password-2")
    assert ewa.get("/")[0] == 302
    assert request_json("GET", f"{server.base}/api/v1/events", tokens["ewa"])[0] == 401

    assert ewa.sign_in("ewa", "ewa-password-2") == 302
    token = ok(tmp_path, "users", "new-token", "ewa")[-1]
    assert ok(tmp_path, "users", "revoke-tokens", "ewa")[-1] == "revoked the API token of ewa; 1 session(s) ended"
    assert ewa.get("/")[0] == 302
    assert request_json("GET", f"{server.base}/api/v1/events", token)[0] == 401

    assert ewa.sign_in("ewa", "ewa-password-2") == 302
    assert ewa.get("/audit/")[0] == 200
    ok(tmp_path, "users", "set-role", "ewa", "manager")
    assert ewa.get("/")[0] == 302
    assert ewa.sign_in("ewa", "ewa-password-2") == 302
    assert ewa.get("/audit/")[0] == 403


def test_signing_out_ends_the_session_on_the_server(served: tuple[Server, dict[str, str]]) -> None:
    """A cookie copied before signing out does not work after it."""
    server, _ = served
    ala = Browser(server.base)
    assert ala.sign_in("ala", "ala-password-1") == 302
    copy = ala.with_cookie(ala.session_cookie())
    assert ala.post("/logout", {}, form_page="/")[0] == 302
    assert copy.get("/")[0] == 302


def test_every_change_is_in_the_access_log_with_who_made_it(tmp_path: Path) -> None:
    """The commands name the operator's account as the actor; `users list` shows the state; verify covers both."""
    ok(tmp_path, "users", "add", "root", "--role", "admin")
    ok(tmp_path, "users", "add", "ala", "--role", "officer", "--email", "ala@example.org")
    ok(tmp_path, "users", "set-role", "ala", "manager")
    ok(tmp_path, "users", "disable", "ala")
    ok(tmp_path, "users", "enable", "ala")
    ok(tmp_path, "users", "reset-password", "ala")
    ok(tmp_path, "users", "new-token", "ala")
    ok(tmp_path, "users", "revoke-tokens", "ala")
    actor = f"cli:{getpass.getuser()}"
    assert access_rows(tmp_path) == [
        (1, actor, "user_added", "root"),
        (2, actor, "user_added", "ala"),
        (3, actor, "role_changed", "ala"),
        (4, actor, "user_disabled", "ala"),
        (5, actor, "user_enabled", "ala"),
        (6, actor, "password_reset", "ala"),
        (7, actor, "token_issued", "ala"),
        (8, actor, "tokens_revoked", "ala"),
    ]
    listing = ok(tmp_path, "users", "list")
    assert listing[0].split() == ["name", "role", "state", "password", "token", "sessions", "email"]
    assert listing[1].split() == ["ala", "manager", "enabled", "set", "revoked", "0", "ala@example.org"]
    assert listing[2].split() == ["root", "admin", "enabled", "none", "active", "0", "-"]
    out = ok(tmp_path, "audit", "verify")
    assert out[0].startswith("intact: 0 entries")
    assert out[1].startswith("access log intact: 8 entries, head access:8:")
    assert Store(cli_env(tmp_path)["TRACKER_DATABASE"]).stored_count() == 0  # nothing in the partnerships' log


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["disable", "nobody"], "name"),
        (["enable", "ala"], "name"),  # not disabled
        (["set-role", "ala", "king"], "role"),
        (["set-role", "ala", "officer"], "role"),  # already
        (["set-role", "root", "auditor"], "name"),  # the last admin
        (["disable", "root"], "name"),  # the last admin
        (["reset-password", "ala", "--password", "short"], "password"),
        (["reset-password", "nobody"], "name"),
        (["new-token", "nobody"], "name"),
        (["revoke-tokens", "nobody"], "name"),
    ],
)
def test_a_refused_change_is_one_line_naming_the_field_and_records_nothing(
    tmp_path: Path, args: list[str], field: str
) -> None:
    ok(tmp_path, "users", "add", "root", "--role", "admin")
    ok(tmp_path, "users", "add", "ala", "--role", "officer", "--password", "ala-password-1")
    before_log, before_users = access_rows(tmp_path), user_rows(tmp_path)
    result = tracker(tmp_path, "users", *args)
    assert one_line_error(result).startswith(f"error: {field}: ")
    assert result.stdout == b""
    assert access_rows(tmp_path) == before_log
    assert user_rows(tmp_path) == before_users


def test_audit_verify_finds_a_tampered_access_log_and_keeps_the_partnership_log_line_first(tmp_path: Path) -> None:
    """The auditor keeps `tracker audit digest --access`; a rewritten entry, a right given in the database and a
    removed newest entry all make `tracker audit verify` exit 1 naming the access log."""
    ok(tmp_path, "users", "add", "root", "--role", "admin")
    ok(tmp_path, "users", "add", "ala", "--role", "officer")
    (digest,) = ok(tmp_path, "audit", "digest", "--access")
    assert ACCESS_DIGEST.match(digest) and digest.startswith("access:2:")
    assert ok(tmp_path, "audit", "verify", "--digest", digest)[1].startswith("access log intact: 2 entries")
    store = Store(cli_env(tmp_path)["TRACKER_DATABASE"])

    store.execute('UPDATE tracker_access_log SET data = \'{"role":"auditor","email":null}\' WHERE position = 2')
    result = tracker(tmp_path, "audit", "verify")
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("intact: 0 entries")  # the partnerships' log is fine
    assert lines[1].startswith("access log BROKEN at position 2: hash:")

    store.execute(
        'UPDATE tracker_access_log SET data = \'{"email":null,"role":"officer"}\' WHERE position = 2',
        "UPDATE tracker_users SET role = 'admin' WHERE name = 'ala'",
    )
    result = tracker(tmp_path, "audit", "verify")
    assert result.returncode == 1
    assert "user 'ala' has role 'admin' but the access log last gave 'officer'" in result.stdout.decode()

    store.execute(
        "UPDATE tracker_users SET role = 'officer' WHERE name = 'ala'",
        "DELETE FROM tracker_users WHERE name = 'ala'",
        "DELETE FROM tracker_access_log WHERE position = 2",
    )
    assert tracker(tmp_path, "audit", "verify").returncode == 0  # consistent again: only the digest can tell
    result = tracker(tmp_path, "audit", "verify", "--digest", digest)
    assert result.returncode == 1
    assert "access log BROKEN at position 2: digest:" in result.stdout.decode()


def test_a_malformed_access_digest_is_one_line(tmp_path: Path) -> None:
    one_line_error(tracker(tmp_path, "audit", "verify", "--digest", "access:1:abc"))


def test_the_demo_users_get_random_passwords_shown_once(tmp_path: Path) -> None:
    """`tracker serve` on an empty store prints each demo user's own random password; it signs in, and the
    published demo password does not. A second start creates and prints nothing."""
    env = cli_env(tmp_path)
    outputs = []
    for _ in range(2):
        port = free_port()
        log_path = tmp_path / f"serve-{len(outputs)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(TRACKER), "serve", "--port", str(port), "--no-jobs"],
                cwd=tmp_path,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wait_for_health(f"http://127.0.0.1:{port}", process)
                text = log_path.read_text()
                logins = dict(re.findall(r"login (\S+) / password (\S+)", text))
                if logins:
                    assert set(logins) == {"urzednik", "audytor", "kierownik", "admin"}
                    assert len(set(logins.values())) == 4 and "demo-haslo" not in text
                    assert Browser(f"http://127.0.0.1:{port}").sign_in("audytor", logins["audytor"]) == 302
                    assert Browser(f"http://127.0.0.1:{port}").sign_in("audytor", "demo-haslo") == 401
                outputs.append(logins)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    assert outputs[0] and outputs[1] == {}
    assert [row[2] for row in access_rows(tmp_path)] == ["user_added"] * 4
