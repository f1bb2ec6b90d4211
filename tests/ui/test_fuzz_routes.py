"""Every route of the app (the UI's and the API's), with hostile values in every path, query and form parameter,
as every role and as an anonymous visitor: never a 5xx (issue 13, part 7; schemathesis covers the API's schema).

The walk reads the routes from ``app.url_map``, so a page added later is walked too, and the form fields from
the pages themselves, so every field a form has gets every hostile value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from backend import POSTGRES
from flask import Flask, url_for
from flask.testing import FlaskClient

from .helpers import CSRF

#: Long strings, control characters and CR/LF, extreme dates and numbers, nesting, injection-looking text.
#: (Query strings carry 2,000 characters in every parameter at once; the 50,000-character ``q`` through a real
#: server, whose URL limits answer first, is in tests/integration/test_exposure.py. Forms carry 50,000.)
HOSTILE = (
    "x" * 2_000,
    "a%" * 1_000,
    "\x00\x01\x7f\r\n\x1b[31m\u2028\u2029",
    "/x\r\nSet-Cookie: evil=1",
    "9" * 30,
    "-1",
    "0001-01-01T00:30",
    "9999-12-31T23:59:59-01:00",
    "0000-00-00",
    "10000-01-01",
    "[" * 2000 + "]" * 2000,
    "' OR 1=1 --%_\\{0}{{7*7}}",
)
#: Query parameters the pages and the API read (added to whatever a form on the page names).
QUERY_NAMES = (
    "q", "as_of", "known_at", "status", "country", "area", "inactive", "next", "lang", "page", "after", "before",
    "limit", "offset", "period", "action", "report_lang", "digest", "type", "format", "open", "role",
)  # fmt: skip
#: Path arguments: a real value where one exists, then hostile ones (a slash-free sample of HOSTILE).
PATH_VALUES: dict[str, tuple[Any, ...]] = {
    "version": (1, 10**30),
    "code": ("en", "xx", "\r\n"),
    "event_type": ("agreement_signed", "inactivity_flagged", "nope"),
    "fmt": ("jsonl", "csv", "exe"),
    "rid": ("00000000-0000-0000-0000-000000000000", "9" * 30),
    "name": ("nobody", "x" * 300, "\x00"),
    "filename": ("nothing.css", "..%2F..%2Fetc%2Fpasswd"),
}
NAME_ATTRIBUTE = re.compile(r'name="([^"]+)"')
#: Routes a signed-in walk must not take: signing out ends the session the rest of the walk needs.
SKIP = {"auth.logout"}


def _paths(app: Flask, pid: str) -> Iterator[tuple[str, str, frozenset[str]]]:
    """(endpoint, path, methods) for every route and every value of its path arguments."""
    values = {**PATH_VALUES, "pid": (pid, "9" * 30)}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in SKIP:
                continue
            methods = frozenset(rule.methods - {"HEAD", "OPTIONS"})
            combos: list[dict[str, Any]] = [{}]
            for arg in sorted(rule.arguments):
                combos = [{**c, arg: v} for c in combos for v in values.get(arg, ("x",))]
            for combo in combos:
                yield rule.endpoint, url_for(rule.endpoint, **combo), methods


def _field_names(client: FlaskClient, path: str) -> set[str]:
    page = client.get(path)
    if page.status_code != 200 or page.mimetype != "text/html":
        return set()
    return set(NAME_ATTRIBUTE.findall(page.get_data(as_text=True))) - {"csrf_token"}


def _status(response: Any) -> int:
    """The status, after reading a streamed body to its end (an export streams: its errors come late)."""
    try:
        response.get_data()
    finally:
        response.close()
    return response.status_code


def _csrf(client: FlaskClient) -> str:
    match = CSRF.search(client.get("/login").get_data(as_text=True))
    return match.group(1) if match else ""


@pytest.mark.slow
@pytest.mark.skipif(POSTGRES, reason="input handling does not depend on the store: walked once, in the SQLite run")
def test_no_route_answers_5xx_to_hostile_input(
    app: Flask, signed_in: Callable[..., FlaskClient], bar: str, users: dict[str, str]
) -> None:
    clients = {role: signed_in(role) for role in ("officer", "auditor", "manager", "admin")}
    clients["anonymous"] = app.test_client()
    failures: list[str] = []
    walked = 0
    for who, client in clients.items():
        token = _csrf(client)
        for endpoint, path, methods in _paths(app, bar):
            fields = _field_names(client, path) if "GET" in methods else set()
            for value in HOSTILE:
                names = set(QUERY_NAMES) | fields
                if "GET" in methods:
                    status = _status(client.get(path, query_string={name: value for name in QUERY_NAMES}))
                    walked += 1
                    if status >= 500:
                        failures.append(f"{who} GET {endpoint} {path} {value[:20]!r}: {status}")
                if "POST" in methods:
                    value = "x" * 50_000 if value == HOSTILE[0] else value
                    # "confirm" too: an event form then takes its recording path, the stricter one
                    form = {name: value for name in names} | {"csrf_token": token, "confirm": "1"}
                    status = _status(client.post(path, data=form))
                    walked += 1
                    if status >= 500:
                        failures.append(f"{who} POST {endpoint} {path} {value[:20]!r}: {status}")
    assert not failures, "\n".join(failures[:40])
    assert walked > 1000  # the walk really went everywhere
