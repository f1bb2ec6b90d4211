"""Small helpers for the HTTP API tests: register, record, assert the error shape, assert nothing was recorded."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from backend import Store
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from application.services import Services

API = "/api/v1"
GENESIS = "0" * 64

#: A minimal valid body (besides ``occurred_on``) for every event type an officer can record.
EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "letter_of_intent_signed": {"signatories": ["Starosta Piaseczyński", "Mayor of Bar"]},
    "agreement_signed": {
        "agreement_kind": "partnership",
        "parties": ["Powiat Piaseczyński", "Bar"],
        "areas": ["sport"],
    },
    "council_resolution_adopted": {
        "purpose": "establish",
        "resolution_number": "XXV/4/09",
        "body": "Rada Powiatu",
        "areas": ["culture"],
    },
    "school_joined": {"school_name": "Liceum im. Mikołaja Kopernika", "side": "local", "town": "Piaseczno"},
    "youth_exchange_planned": {"planned_for": "2030-07-01", "description": "Summer camp"},
    "youth_exchange_held": {"ends_on": "2012-07-10", "participants": 24, "host_town": "Bar", "schools": ["LO Bar"]},
    "activity_held": {"activity_kind": "visit", "title": "Study visit"},
    "cooperation_suspended": {"reason": "Elections"},
    "cooperation_resumed": {"reason": "New council"},
    "partnership_terminated": {"reason": "The partner municipality was merged"},
    "partner_renamed": {"partner_name": "Opština Bar"},
    "inactivity_period_set": {"days": 1095},
    "note_added": {"text": "Zapis z posiedzenia"},
    "event_retracted": {"retracts": 2, "reason": "Entered by mistake"},
}

BAR = {"partner_name": "Bar", "partner_country": "ME", "partner_kind": "municipality", "areas": ["culture"]}


def log_position(services: Services) -> int:
    """How many events the store holds (the same measure as ``tests/conftest.py``'s ``log_position``)."""
    return Store(services.config.database).stored_count()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(client: FlaskClient, headers: Mapping[str, str], **fields: Any) -> dict[str, Any]:
    """Register a partnership (Bar, Montenegro unless told otherwise); returns the 201 Partnership."""
    body = {**BAR, **fields}
    response = client.post(f"{API}/partnerships", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def record(
    client: FlaskClient, headers: Mapping[str, str], pid: str, event_type: str, occurred_on: str, **fields: Any
) -> dict[str, Any]:
    """Record one event; returns the 201 Event."""
    body = {"type": event_type, "occurred_on": occurred_on, **fields}
    response = client.post(f"{API}/partnerships/{pid}/events", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def establish(
    client: FlaskClient, headers: Mapping[str, str], pid: str, number: str = "XXV/4/09", occurred_on: str = "2009-03-27"
) -> dict[str, Any]:
    """The council's resolution establishing the partnership (Bar's XXV/4/09 of 27 March 2009); the 201 Event."""
    return record(
        client, headers, pid, "council_resolution_adopted", occurred_on, purpose="establish", resolution_number=number
    )


def post_event(
    client: FlaskClient, headers: Mapping[str, str], pid: str, body: Any, *, if_match: str | None = None
) -> TestResponse:
    """POST an event body (any JSON value) to the partnership, with an optional If-Match header."""
    sent = {**headers, "If-Match": if_match} if if_match is not None else dict(headers)
    return client.post(f"{API}/partnerships/{pid}/events", json=body, headers=sent)


def get_partnership(client: FlaskClient, headers: Mapping[str, str], pid: str, **query: str) -> dict[str, Any]:
    response = client.get(f"{API}/partnerships/{pid}", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def health_position(client: FlaskClient) -> int:
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    return response.get_json()["position"]


#: A stable code: lower-case words joined by underscores (docs/api.md lists them).
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def assert_error(response: TestResponse, status: int, *field_names: str) -> dict[str, Any]:
    """The contract's error: that status, JSON ``{"error": str, "code": str, "fields"?: {name: [str]},
    "field_codes"?: {name: [code]}}`` naming the fields, with a code for each field's message."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    assert set(body) <= {"error", "code", "fields", "field_codes"}, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body.get("code"), str) and CODE.fullmatch(body["code"]), body
    fields = body.get("fields", {})
    assert isinstance(fields, dict)
    for name, messages in fields.items():
        assert isinstance(name, str)
        assert isinstance(messages, list) and messages, (name, messages)
        assert all(isinstance(m, str) and m for m in messages), (name, messages)
    codes = body.get("field_codes", {})
    assert ("fields" in body) == ("field_codes" in body), body
    assert {name: len(c) for name, c in codes.items()} == {name: len(m) for name, m in fields.items()}, body
    assert all(isinstance(c, str) and CODE.fullmatch(c) for c in sum(codes.values(), [])), body
    for name in field_names:
        assert name in fields, f"{name!r} not named in {body}"
    return body


@contextmanager
def nothing_recorded(services: Services, client: FlaskClient) -> Iterator[None]:
    """Assert the block leaves the log where it was: in the store and as /health reports it."""
    before, health_before = log_position(services), health_position(client)
    yield
    assert log_position(services) == before
    assert health_position(client) == health_before


def is_uuid(value: Any) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def canonical_json(entry: Mapping[str, Any]) -> str:
    """The canonical content of a log entry, computed here independently of the project's code."""
    body = {
        k: entry[k]
        for k in ("data", "occurred_on", "partnership_id", "position", "recorded_at", "recorded_by", "type", "version")
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def expected_hash(previous_hash: str, entry: Mapping[str, Any]) -> str:
    return hashlib.sha256((previous_hash + canonical_json(entry)).encode("utf-8")).hexdigest()
