"""A real `tracker serve`, under waitress and under gunicorn, as it stands when exposed (issue 13, parts 4 and 7):
forwarded headers believed only from the trusted proxy, big bodies refused before they are read, half-open
connections that block nobody, and the inputs that once gave a 500 answered with a clear 4xx."""

from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import TRACKER, Server, cli_env, request_json

pytestmark = pytest.mark.slow

MODES = {"waitress": (), "gunicorn": ("--workers", "2")}
PASSWORD = "correct-horse-42"


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _officer(tmp_path: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(TRACKER), "users", "add", "ala", "--role", "officer", "--password", PASSWORD],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.decode().splitlines()[-1]


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


def _serve(tmp_path: Path, mode: str, name: str, **env: str) -> Server:
    return Server(tmp_path, cli_env(tmp_path, **env), f"{name}-{mode}", *MODES[mode])


@pytest.mark.parametrize(
    ("proxy", "believed"), [("127.0.0.1", True), (None, False), ("10.9.9.9", False)], ids=["ours", "unset", "other"]
)
def test_https_from_the_proxy_is_believed_only_when_it_is_the_trusted_one(
    tmp_path: Path, mode: str, proxy: str | None, believed: bool
) -> None:
    """`X-Forwarded-Proto: https` gives a Secure session cookie and HSTS only from TRACKER_TRUSTED_PROXY."""
    server = _serve(tmp_path, mode, "proxy", **({"TRACKER_TRUSTED_PROXY": proxy} if proxy else {}))
    try:
        status, headers, _ = _get(f"{server.base}/login", {"X-Forwarded-Proto": "https"})
        assert status == 200
        cookie = headers["Set-Cookie"]
        assert ("Secure" in cookie) is believed, cookie
        assert ("Strict-Transport-Security" in headers) is believed, headers
        status, headers, _ = _get(f"{server.base}/login")  # plain http, even from the proxy
        assert "Secure" not in headers["Set-Cookie"] and "Strict-Transport-Security" not in headers
    finally:
        server.stop()


def test_a_body_over_the_limit_is_refused_before_it_is_sent(tmp_path: Path, mode: str) -> None:
    """A 200 MB POST is answered 413 after its first 64 KiB: nothing buffers or spools the rest; nothing recorded."""
    env = cli_env(tmp_path)
    token = _officer(tmp_path, env)
    server = Server(tmp_path, env, f"body-{mode}", *MODES[mode])
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as s:
            s.sendall(
                b"POST /api/v1/partnerships HTTP/1.1\r\nHost: tracker\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {token}\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
            )
            s.sendall(b"[" * 65536)
            reply = s.recv(4096)  # bounded by the socket's timeout; before the fix waitress waited for 200 MB
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        status, page = request_json("GET", f"{server.base}/api/v1/partnerships", token)
        assert status == 200 and page["total"] == 0
    finally:
        server.stop()


def test_half_open_connections_block_nobody(tmp_path: Path, mode: str) -> None:
    """Connections that never finish their request leave the server answering others (105 used to stop waitress).

    Waitress: 150 connections each sending half a request take a socket each and no thread. Gunicorn's gthread
    worker lends each new connection a thread for up to 5 s while it waits for the first byte, so 40 silent ones
    only delay the others (and one that sends half a request keeps its thread): docs/deploy.md puts a reverse
    proxy in front, which passes on only whole requests.
    """
    server = _serve(tmp_path, mode, "slow")
    sockets: list[socket.socket] = []
    try:
        for _ in range(150 if mode == "waitress" else 40):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            if mode == "waitress":
                s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: tra")
            sockets.append(s)
        status, body = request_json("GET", f"{server.base}/api/v1/health", timeout=120)
        assert status == 200 and body["status"] == "ok"
    finally:
        for s in sockets:
            s.close()
        server.stop()


class Session:
    """A signed-in browser (cookies kept, redirects not followed)."""

    def __init__(self, base: str) -> None:
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body), timeout=60) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def sign_in(self, next_path: str) -> tuple[int, dict[str, str], str]:
        page = self.open("/login")[2]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        query = urllib.parse.urlencode({"next": next_path})
        return self.open(f"/login?{query}", {"username": "ala", "password": PASSWORD, "csrf_token": token})


@pytest.fixture
def exposed(tmp_path: Path, mode: str) -> Iterator[tuple[Server, str, str]]:
    env = cli_env(tmp_path)
    token = _officer(tmp_path, env)
    server = Server(tmp_path, env, f"findings-{mode}", *MODES[mode])
    status, created = request_json(
        "POST",
        f"{server.base}/api/v1/partnerships",
        token,
        {"partner_name": "Gmina Testowa", "partner_country": "DE", "partner_kind": "municipality"},
    )
    assert status == 201, created
    yield server, token, created["id"]
    server.stop()


def test_the_inputs_that_gave_500_now_get_a_clear_4xx(exposed: tuple[Server, str, str]) -> None:
    """Each of the issue's 500s, sent to the real server: a 4xx (or the page), never a 5xx, nothing recorded."""
    server, token, pid = exposed
    auth = {"Authorization": f"Bearer {token}"}
    api = f"{server.base}/api/v1"
    long_q = urllib.parse.quote("a%" * 25_000)  # 50,000 characters, SQLite's "pattern too complex"
    checks = {
        "long q": _get(f"{api}/partnerships?q={long_q}", auth)[0],
        "200-char q": _get(f"{api}/partnerships?q={urllib.parse.quote('ą' * 201)}", auth)[0],
        "known_at year 1": _get(f"{api}/partnerships/{pid}?known_at=0001-01-01T00:30", auth)[0],
        "known_at year 9999": _get(
            f"{api}/partnerships/{pid}?known_at={urllib.parse.quote('9999-12-31T23:59:59-01:00')}", auth
        )[0],
        "register known_at year 1": _get(f"{api}/register?known_at=0001-01-01T00:30", auth)[0],
        "register known_at year 9999": _get(
            f"{api}/register?known_at={urllib.parse.quote('9999-12-31T23:59:59-01:00')}", auth
        )[0],
    }
    nested = urllib.request.Request(
        f"{api}/partnerships", data=b"[" * 100_000 + b"]" * 100_000, method="POST", headers=auth
    )
    try:
        urllib.request.urlopen(nested, timeout=60)
    except urllib.error.HTTPError as e:
        checks["nested JSON"] = e.code
        assert json.loads(e.read())["code"] == "malformed_json"
    status, _ = request_json(
        "POST",
        f"{api}/partnerships/{pid}/events",
        token,
        {"type": "event_retracted", "retracts": 10**30, "reason": "x", "occurred_on": "2020-01-01"},
    )
    checks["retracts 30 digits"] = status
    browser = Session(server.base)
    status, headers, _ = browser.sign_in("/x\r\nSet-Cookie: evil=1")
    checks["CR/LF in next"] = status
    assert status == 302 and "\n" not in headers["Location"] and "evil" not in headers.get("Set-Cookie", "")
    checks["UI retract version 30 digits"] = browser.open(f"/partnerships/{pid}/events/{'9' * 30}/retract")[0]
    checks["UI known_at year 1"] = browser.open(f"/partnerships/{pid}?known_at=0001-01-01T00:30")[0]
    checks["UI known_at year 9999"] = browser.open(
        f"/partnerships/{pid}?known_at={urllib.parse.quote('9999-12-31T23:59:59-01:00')}"
    )[0]
    checks["UI long q"] = browser.open(f"/?q={long_q}")[0]
    checks["UI language next CR/LF"] = browser.open("/language/en?next=/x%0D%0ASet-Cookie:%20evil=1")[0]

    assert all(status < 500 for status in checks.values()), checks
    assert checks["nested JSON"] == 400 and checks["CR/LF in next"] == 302
    assert 400 <= checks["long q"] < 500 and checks["200-char q"] == 422
    assert 400 <= checks["retracts 30 digits"] < 500 and checks["UI retract version 30 digits"] == 404
    status, events = request_json("GET", f"{api}/partnerships/{pid}/events", token)
    assert status == 200 and len(events["items"]) == 1  # only the registration: nothing else was recorded
    assert "Traceback" not in server.output()
