"""Who may do what: 401 without (good) credentials, 403 where the roles table says no, admin may everything."""

from __future__ import annotations

from uuid import UUID

import pytest

from .helpers import API, assert_error, establish, log_position, nothing_recorded, register

PID = "{pid}"
RID = "{rid}"

#: Every endpoint that needs credentials: (method, path template, JSON body or None).
PROTECTED = [
    ("GET", "/partnerships", None),
    ("POST", "/partnerships", {"partner_name": "Ladispoli", "partner_country": "IT", "partner_kind": "city"}),
    ("GET", f"/partnerships/{PID}", None),
    ("GET", f"/partnerships/{PID}/events", None),
    ("POST", f"/partnerships/{PID}/events", {"type": "note_added", "occurred_on": "2020-01-01", "text": "x"}),
    ("GET", "/events", None),
    ("GET", "/audit/verify", None),
    ("GET", "/register", None),
    ("GET", "/reminders", None),
    ("POST", f"/reminders/{RID}/acknowledge", {"note": "seen"}),
]

#: The roles table: which role may call which endpoint (admin may everything).
MAY = {
    ("GET", "/partnerships"): {"officer", "auditor", "manager", "admin"},
    ("POST", "/partnerships"): {"officer", "admin"},
    ("GET", f"/partnerships/{PID}"): {"officer", "auditor", "manager", "admin"},
    ("GET", f"/partnerships/{PID}/events"): {"officer", "auditor", "manager", "admin"},
    ("POST", f"/partnerships/{PID}/events"): {"officer", "admin"},
    ("GET", "/events"): {"auditor", "admin"},
    ("GET", "/audit/verify"): {"auditor", "admin"},
    ("GET", "/register"): {"officer", "auditor", "manager", "admin"},
    ("GET", "/reminders"): {"officer", "auditor", "manager", "admin"},
    ("POST", f"/reminders/{RID}/acknowledge"): {"manager", "admin"},
}
ROLES = ("officer", "auditor", "manager", "admin")
#: The success status of each endpoint: 201 for what creates an event resource, 200 otherwise.
CREATED = {("POST", "/partnerships"), ("POST", f"/partnerships/{PID}/events")}


@pytest.fixture
def world(client, services, headers):
    """One active partnership (Bar) with an open inactivity reminder; ids to fill the path templates."""
    bar = register(client, headers["officer"])
    establish(client, headers["officer"], bar["id"], "X/1")
    flagged = services.tracker.flag_inactivity(UUID(bar["id"]), today=services.today(), days=365)
    assert flagged is not None
    services.projection.catch_up()
    reminders = client.get(f"{API}/reminders", headers=headers["manager"]).get_json()["items"]
    assert len(reminders) == 1
    return {"pid": bar["id"], "rid": reminders[0]["id"]}


def call(client, method, template, body, world, headers):
    path = API + template.format(**world)
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, json=body, headers=headers)


BAD_CREDENTIALS = [
    {},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic YWxhOmFsYQ=="},
    {"Authorization": "not-a-token"},
]


@pytest.mark.parametrize(("method", "template", "body"), PROTECTED)
@pytest.mark.parametrize("credentials", BAD_CREDENTIALS, ids=lambda c: c.get("Authorization", "none"))
def test_no_or_bad_credentials_are_401(client, services, world, method, template, body, credentials):
    """Every endpoint but health and openapi.json is 401 without a valid token, and records nothing."""
    with nothing_recorded(services, client):
        assert_error(call(client, method, template, body, world, credentials), 401)


def test_someone_elses_token_with_a_typo_is_401(client, services, tokens, world):
    """A token that differs from a real one in one character is 401."""
    token = tokens["admin"]
    typo = token[:-1] + ("A" if token[-1] != "A" else "B")
    with nothing_recorded(services, client):
        assert_error(client.get(f"{API}/partnerships", headers={"Authorization": f"Bearer {typo}"}), 401)


def test_a_sent_token_that_is_not_valid_is_told_from_a_missing_one(client, tokens):
    """Both are 401 with the same code; the message says whether a token is missing or not valid."""
    missing = client.get(f"{API}/partnerships")
    bad = client.get(f"{API}/partnerships", headers={"Authorization": "Bearer no-such-token"})
    assert (missing.status_code, bad.status_code) == (401, 401)
    assert missing.json["code"] == bad.json["code"] == "unauthorised"
    assert "send Authorization: Bearer TOKEN" in missing.json["error"]
    assert bad.json["error"].startswith("the token is not valid")


def test_401_comes_before_validation(client, services, world):
    """Without credentials even a malformed request is 401 (nothing is revealed to strangers)."""
    with nothing_recorded(services, client):
        response = client.post(f"{API}/partnerships", data="{", content_type="application/json")
        assert_error(response, 401)
        assert_error(client.get(f"{API}/partnerships/not-a-uuid"), 401)
        assert_error(client.get(f"{API}/partnerships", query_string={"limit": "x"}), 401)


@pytest.mark.parametrize(
    ("role", "method", "template", "body"),
    [(role, m, t, b) for m, t, b in PROTECTED for role in ROLES if role not in MAY[(m, t)]],
)
def test_roles_refused_are_403(client, services, headers, world, role, method, template, body):
    """Each role the roles table does not allow is refused with 403, and the refusal records nothing."""
    with nothing_recorded(services, client):
        assert_error(call(client, method, template, body, world, headers[role]), 403)


def test_403_comes_before_validation(client, services, headers, world):
    """A role that may not write is refused with 403 whatever it sends."""
    with nothing_recorded(services, client):
        response = client.post(
            f"{API}/partnerships", data="{", content_type="application/json", headers=headers["auditor"]
        )
        assert_error(response, 403)
        response = client.post(
            f"{API}/partnerships/{world['pid']}/events", json={"type": "nonsense"}, headers=headers["manager"]
        )
        assert_error(response, 403)


@pytest.mark.parametrize(
    ("role", "method", "template", "body"),
    [(role, m, t, b) for m, t, b in PROTECTED for role in ROLES if role in MAY[(m, t)]],
)
def test_roles_allowed_succeed(client, services, headers, world, role, method, template, body):
    """Each role may do what the roles table says (admin everything); a write moves the log by one."""
    before = log_position(services)
    response = call(client, method, template, body, world, headers[role])
    assert response.status_code == (201 if (method, template) in CREATED else 200), response.get_json()
    assert log_position(services) == before + (1 if method == "POST" else 0)


def test_bearer_scheme_is_case_insensitive(client, tokens):
    """The auth scheme is matched without regard to case, as HTTP says."""
    response = client.get(f"{API}/partnerships", headers={"Authorization": f"bearer {tokens['manager']}"})
    assert response.status_code == 200


def test_anonymous_may_read_health_and_the_openapi_document_only(client):
    """Anonymous visitors get /health and /openapi.json."""
    assert client.get(f"{API}/health").status_code == 200
    assert client.get(f"{API}/openapi.json").status_code == 200
    assert_error(client.get(f"{API}/reminders"), 401)
