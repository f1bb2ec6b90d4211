"""Helpers of the web UI tests: sign in, post a form with its CSRF token, write events straight through the Tracker."""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from typing import Any
from uuid import UUID

from flask.testing import FlaskClient

from application.services import Services

PASSWORD = "correct-horse-42"
USERS = {"officer": "ala", "auditor": "ewa", "manager": "jan", "admin": "root"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> None:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": name, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], *, form_page: str | None = None) -> Any:
    """POST a form as a browser does: take the CSRF token from the page the form is on, then send."""
    token = csrf_token(client.get(form_page or path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def post_and_confirm(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    """Submit an event form, then "Record it" on its check-your-answers page (the values it carries)."""
    review = post_form(client, path, data)
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and 'name="confirm"' in html, html
    confirm = html.split('name="confirm"', 1)[0].rsplit("<form", 1)[1]
    kept: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', confirm):
        kept.setdefault(name, []).append(unescape(value))
    return client.post(path, data={**kept, "confirm": "1"})


def register(services: Services, name: str = "Bar", country: str = "ME", **fields: Any) -> str:
    """Register a partnership straight through the Tracker (as the officer ala); returns its id."""
    body = {
        "partner_name": name,
        "partner_country": country,
        "partner_kind": "municipality",
        "local_party": "Powiat Piaseczyński",
        "areas": ["culture"],
        **fields,
    }
    recorded = services.tracker.register_partnership(body, recorded_by="ala", today=services.today())
    services.projection.catch_up()
    return str(recorded.partnership_id)


def record(services: Services, pid: str, event_type: str, occurred_on: date, **fields: Any) -> int:
    """Record one event straight through the Tracker (as ala); returns its version."""
    recorded = services.tracker.record_event(
        UUID(pid), event_type, {"occurred_on": occurred_on, **fields}, recorded_by="ala", today=services.today()
    )
    services.projection.catch_up()
    return recorded.version


def log_position(services: Services) -> int:
    return services.tracker.recorder.max_notification_id() or 0
