"""GET /api/v1/access-log: every change to users (who, when, what, to whom), hash-chained like the log; and what a
change to a user does to API tokens at once. The tamper tests change rows behind the program's back."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from backend import Store
from flask.testing import FlaskClient

from application.services import Services

from .helpers import API, GENESIS, assert_error, bearer


def access_log(client: FlaskClient, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = client.get(f"{API}/access-log", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def independent_hash(previous: str, entry: dict[str, Any]) -> str:
    """The documented recipe (docs/audit.md), computed here without the project's code."""
    body = {k: entry[k] for k in ("action", "actor", "data", "position", "recorded_at", "subject")}
    content = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((previous + content).encode("utf-8")).hexdigest()


def test_who_gave_whom_which_rights(client: FlaskClient, services: Services, headers: dict) -> None:
    """The four users of the fixture, then root makes jan an officer and disables him: each change is an entry with
    who, when, what and to whom, and the chain recomputes from the documented recipe."""
    services.users.set_role("jan", "officer", actor="root")
    services.users.disable("jan", actor="root")
    body = access_log(client, headers["auditor"])
    assert body["next"] is None
    items = body["items"]
    assert [(e["action"], e["subject"]) for e in items] == [
        ("user_added", "ala"),
        ("user_added", "ewa"),
        ("user_added", "jan"),
        ("user_added", "root"),
        ("role_changed", "jan"),
        ("user_disabled", "jan"),
    ]
    assert items[0]["data"] == {"role": "officer", "email": "ala@example.org"}
    assert items[4]["actor"] == "root" and items[4]["data"] == {"from": "manager", "to": "officer"}
    previous = GENESIS
    for position, entry in enumerate(items, start=1):
        assert set(entry) == {"position", "recorded_at", "actor", "action", "subject", "data", "hash"}
        assert entry["position"] == position
        previous = independent_hash(previous, entry)
        assert entry["hash"] == previous
    assert access_log(client, headers["admin"]) == body


def test_pages_follow_next(client: FlaskClient, services: Services, headers: dict) -> None:
    for i in range(5):
        services.users.add(f"user{i}", "officer", actor="root")
    first = access_log(client, headers["auditor"], limit=4)
    assert [e["position"] for e in first["items"]] == [1, 2, 3, 4] and first["next"] == 4
    second = access_log(client, headers["auditor"], limit=4, after=first["next"])
    assert [e["position"] for e in second["items"]] == [5, 6, 7, 8] and second["next"] == 8
    third = access_log(client, headers["auditor"], limit=4, after=second["next"])
    assert [e["position"] for e in third["items"]] == [9] and third["next"] is None
    assert access_log(client, headers["auditor"], after=10**30) == {"items": [], "next": None}


def test_only_auditors_and_admins_read_it(client: FlaskClient, headers: dict) -> None:
    assert client.get(f"{API}/access-log").status_code == 401
    for role in ("officer", "manager"):
        assert_error(client.get(f"{API}/access-log", headers=headers[role]), 403)


def test_bad_paging_is_422_naming_the_parameter(client: FlaskClient, headers: dict) -> None:
    assert_error(client.get(f"{API}/access-log?limit=0", headers=headers["auditor"]), 422, "limit")
    assert_error(client.get(f"{API}/access-log?after=-1", headers=headers["auditor"]), 422, "after")


def test_a_disabled_users_token_and_a_replaced_token_are_refused_at_once(
    client: FlaskClient, services: Services, headers: dict, tokens: dict
) -> None:
    """Disabling, a new password and a revocation end the token; a new token replaces the old one."""
    assert client.get(f"{API}/partnerships", headers=headers["officer"]).status_code == 200
    services.users.disable("ala", actor="root")
    assert_error(client.get(f"{API}/partnerships", headers=headers["officer"]), 401)
    services.users.enable("ala", actor="root")
    assert_error(client.get(f"{API}/partnerships", headers=headers["officer"]), 401)  # stays revoked
    fresh = services.users.new_token("ala", actor="root")
    assert client.get(f"{API}/partnerships", headers=bearer(fresh)).status_code == 200
    services.users.reset_password("ala", actor="root")
    assert_error(client.get(f"{API}/partnerships", headers=bearer(fresh)), 401)
    newer = services.users.new_token("ala", actor="root")
    services.users.revoke_tokens("ala", actor="root")
    assert_error(client.get(f"{API}/partnerships", headers=bearer(newer)), 401)
    assert client.get(f"{API}/partnerships", headers=headers["auditor"]).status_code == 200  # nobody else's


def test_a_role_change_applies_to_the_token_at_once(client: FlaskClient, services: Services, headers: dict) -> None:
    assert client.get(f"{API}/access-log", headers=headers["officer"]).status_code == 403
    services.users.set_role("ala", "auditor", actor="root")
    assert client.get(f"{API}/access-log", headers=headers["officer"]).status_code == 200


# --- tampering: the access log's own check, and GET /audit/verify covering both logs ---------------------------


def test_verify_is_unchanged_while_the_access_log_is_intact(client: FlaskClient, headers: dict) -> None:
    body = client.get(f"{API}/audit/verify", headers=headers["auditor"]).get_json()
    assert body == {"ok": True, "checked": 0, "head": {"position": 0, "hash": GENESIS}, "problems": []}


def test_an_entry_changed_behind_the_programs_back_is_found(
    client: FlaskClient, services: Services, headers: dict
) -> None:
    """Someone rewrites who made user 2 (the chain breaks there), and /audit/verify is no longer ok."""
    Store(services.config.database).execute("UPDATE tracker_access_log SET actor = 'nobody' WHERE position = 2")
    report = services.verify_access_log()
    assert not report["ok"]
    assert report["problems"][0]["position"] == 2 and report["problems"][0]["kind"] == "hash"
    body = client.get(f"{API}/audit/verify", headers=headers["auditor"]).get_json()
    assert body["ok"] is False
    assert body["problems"][0]["kind"] == "access_log" and "access log position 2" in body["problems"][0]["detail"]


def test_a_right_given_outside_the_program_is_found(services: Services, tokens: dict) -> None:
    """A role written straight into the users' table, with no entry, does not match the access log's replay."""
    Store(services.config.database).execute("UPDATE tracker_users SET role = 'admin' WHERE name = 'ala'")
    report = services.verify_access_log()
    assert not report["ok"]
    assert report["problems"] == [
        {
            "position": 1,
            "kind": "users",
            "detail": "user 'ala' has role 'admin' but the access log last gave 'officer'",
        }
    ]


def test_a_user_inserted_outside_the_program_is_found(services: Services, tokens: dict) -> None:
    Store(services.config.database).execute(
        "INSERT INTO tracker_users (name, role, token_hash, created_at) VALUES ('mole', 'admin', 'x', '2026-01-01')"
    )
    problems = services.verify_access_log()["problems"]
    assert [p["kind"] for p in problems] == ["users"] and "'mole'" in problems[0]["detail"]


def test_a_removed_last_entry_is_found_with_a_kept_digest(services: Services, tokens: dict) -> None:
    """Deleting the newest entry (and its change) leaves a consistent chain: the digest an auditor kept proves it."""
    head = services.users.access_log.head()
    services.users.set_role("jan", "officer", actor="root")
    kept = services.users.access_log.head()
    assert services.verify_access_log((kept["position"], kept["hash"]))["ok"]
    Store(services.config.database).execute(
        f"DELETE FROM tracker_access_log WHERE position = {kept['position']}",
        "UPDATE tracker_users SET role = 'manager' WHERE name = 'jan'",
    )
    assert services.verify_access_log((head["position"], head["hash"]))["ok"]
    report = services.verify_access_log((kept["position"], kept["hash"]))
    assert not report["ok"] and report["problems"][0]["kind"] == "digest"


def test_the_access_log_is_not_in_the_partnerships_log(client: FlaskClient, services: Services, headers: dict) -> None:
    """Users are kept apart: changing them appends nothing to the log of partnerships."""
    services.users.set_role("jan", "officer", actor="root")
    assert client.get(f"{API}/events", headers=headers["auditor"]).get_json() == {"items": [], "next": None}
