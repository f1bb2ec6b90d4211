"""GET /api/v1/reminders and POST /api/v1/reminders/ID/acknowledge after a real inactivity scan."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from backend import ORGANISATION
from conftest import backend_database
from flask.testing import FlaskClient

from application import jobs
from application.config import Config
from application.services import Services

from .helpers import API, assert_error, log_position, nothing_recorded, record, register

TODAY = date(2026, 11, 26)
REMINDER_KEYS = {"id", "partnership_id", "kind", "opened_on", "open", "acknowledged_by", "acknowledged_at", "note"}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The store under tmp_path with the office's "today" fixed, so the scan and the API agree on the date."""
    return Config(database=backend_database(tmp_path), fixed_today=TODAY, organisation=ORGANISATION)


@pytest.fixture
def scanned(client: FlaskClient, headers: dict[str, dict[str, str]], services: Services) -> dict[str, Any]:
    """Bar (quiet since 2020: an inactive reminder) and Kotor (an overdue exchange plan), after a scan."""
    bar = register(client, headers["officer"])
    record(client, headers["officer"], bar["id"], "agreement_signed", "2020-01-01", agreement_kind="partnership")
    kotor = register(client, headers["officer"], partner_name="Kotor")
    record(client, headers["officer"], kotor["id"], "agreement_signed", "2026-01-01", agreement_kind="partnership")
    record(client, headers["officer"], kotor["id"], "youth_exchange_planned", "2026-02-01", planned_for="2026-06-01")
    report = jobs.scan_inactivity(services, TODAY)
    assert sorted((f["partner_name"], f["kind"]) for f in report.flagged) == [
        ("Bar", "inactive"),
        ("Kotor", "exchange_overdue"),
    ]
    reminders = {r["partnership_id"]: r for r in list_reminders(client, headers["manager"])}
    return {"bar": bar, "kotor": kotor, "inactive": reminders[bar["id"]], "overdue": reminders[kotor["id"]]}


def list_reminders(client: FlaskClient, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/reminders", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"items"}
    return body["items"]


def acknowledge(client: FlaskClient, headers: dict[str, str], rid: str, body: Any = None, **kwargs: Any) -> Any:
    if body is None and not kwargs:
        return client.post(f"{API}/reminders/{rid}/acknowledge", headers=headers)
    return client.post(f"{API}/reminders/{rid}/acknowledge", headers=headers, json=body, **kwargs)


def events_of(client: FlaskClient, headers: dict[str, str], pid: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/partnerships/{pid}/events", headers=headers)
    assert response.status_code == 200
    return response.get_json()["items"]


# --- listing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "auditor", "manager", "admin"])
def test_every_role_lists_the_reminders_the_scan_opened(
    client: FlaskClient, headers: dict[str, dict[str, str]], scanned: dict[str, Any], role: str
) -> None:
    """After a scan every role reads both reminders, open, with the contract's Reminder fields."""
    items = list_reminders(client, headers[role])
    assert len(items) == 2
    for item in items:
        assert REMINDER_KEYS <= set(item)
        assert item["open"] is True
        assert item["opened_on"] == TODAY.isoformat()
        assert (item["acknowledged_by"], item["acknowledged_at"], item["note"]) == (None, None, None)
    inactive, overdue = scanned["inactive"], scanned["overdue"]
    assert (inactive["kind"], inactive["partnership_id"], inactive["last_activity_on"]) == (
        "inactive",
        scanned["bar"]["id"],
        "2020-01-01",
    )
    assert (overdue["kind"], overdue["partnership_id"], overdue["planned_for"]) == (
        "exchange_overdue",
        scanned["kotor"]["id"],
        "2026-06-01",
    )
    assert list_reminders(client, headers[role], open="true") == items


def test_listing_reminders_needs_credentials(client: FlaskClient, scanned: dict[str, Any]) -> None:
    """An anonymous GET /reminders is 401."""
    assert_error(client.get(f"{API}/reminders"), 401)


def test_before_any_scan_there_are_no_reminders(client: FlaskClient, headers: dict[str, dict[str, str]]) -> None:
    """An empty store lists no reminders."""
    assert list_reminders(client, headers["manager"]) == []
    assert list_reminders(client, headers["manager"], open="true") == []


def test_open_true_leaves_out_acknowledged_reminders(
    client: FlaskClient, headers: dict[str, dict[str, str]], scanned: dict[str, Any]
) -> None:
    """?open=true lists only reminders still open; without it the acknowledged one is listed as closed."""
    assert acknowledge(client, headers["manager"], scanned["inactive"]["id"], {}).status_code == 200
    assert [r["id"] for r in list_reminders(client, headers["manager"], open="true")] == [scanned["overdue"]["id"]]
    everything = {r["id"]: r for r in list_reminders(client, headers["manager"])}
    assert set(everything) == {scanned["inactive"]["id"], scanned["overdue"]["id"]}
    assert everything[scanned["inactive"]["id"]]["open"] is False


def test_a_bad_open_value_is_422(client: FlaskClient, headers: dict[str, dict[str, str]]) -> None:
    """?open=maybe is refused with 422 naming the parameter."""
    assert_error(
        client.get(f"{API}/reminders", headers=headers["manager"], query_string={"open": "maybe"}), 422, "open"
    )


def test_the_inactive_filter_lists_the_flagged_partnership(
    client: FlaskClient, headers: dict[str, dict[str, str]], scanned: dict[str, Any]
) -> None:
    """GET /partnerships?inactive=true lists Bar (flagged inactive), not Kotor (active, only a plan overdue)."""
    response = client.get(f"{API}/partnerships", headers=headers["manager"], query_string={"inactive": "true"})
    assert response.status_code == 200
    body = response.get_json()
    assert ([p["id"] for p in body["items"]], body["total"]) == ([scanned["bar"]["id"]], 1)
    assert body["items"][0]["inactive"] is True
    rest = client.get(f"{API}/partnerships", headers=headers["manager"], query_string={"inactive": "false"}).get_json()
    assert [p["id"] for p in rest["items"]] == [scanned["kotor"]["id"]]


# --- acknowledging --------------------------------------------------------------------------------------------


def test_a_manager_acknowledges_a_reminder(
    client: FlaskClient, headers: dict[str, dict[str, str]], services: Services, scanned: dict[str, Any]
) -> None:
    """200 with the closed Reminder (manager, note kept); a reminder_acknowledged event in the history and log."""
    rid, pid = scanned["inactive"]["id"], scanned["bar"]["id"]
    before = log_position(services)
    response = acknowledge(client, headers["manager"], rid, {"note": "Zadzwonię do partnera w grudniu."})
    assert response.status_code == 200, response.get_json()
    reminder = response.get_json()
    assert reminder["id"] == rid
    assert reminder["open"] is False
    assert reminder["acknowledged_by"] == "jan"
    assert reminder["note"] == "Zadzwonię do partnera w grudniu."
    assert datetime.fromisoformat(reminder["acknowledged_at"]).tzinfo is not None
    assert log_position(services) == before + 1

    ack = events_of(client, headers["officer"], pid)[-1]
    assert ack["type"] == "reminder_acknowledged"
    assert ack["recorded_by"] == "jan"
    assert ack["occurred_on"] == TODAY.isoformat()
    assert ack["data"]["note"] == "Zadzwonię do partnera w grudniu."
    assert ack["data"]["flagged_version"] == scanned["inactive"]["flagged_version"]
    assert ack["recorded_at"] == reminder["acknowledged_at"]

    log = client.get(f"{API}/events", headers=headers["auditor"], query_string={"after": before}).get_json()
    assert [(e["type"], e["partnership_id"], e["position"]) for e in log["items"]] == [
        ("reminder_acknowledged", pid, before + 1)
    ]
    (listed,) = [r for r in list_reminders(client, headers["officer"]) if r["id"] == rid]
    assert listed == reminder
    assert client.get(f"{API}/partnerships/{pid}", headers=headers["officer"]).get_json()["version"] == ack["version"]


def test_an_admin_may_acknowledge(
    client: FlaskClient, headers: dict[str, dict[str, str]], scanned: dict[str, Any]
) -> None:
    """The admin may acknowledge too; acknowledged_by is the admin's name."""
    response = acknowledge(client, headers["admin"], scanned["overdue"]["id"], {"note": "Wymiana przesunięta."})
    assert response.status_code == 200, response.get_json()
    reminder = response.get_json()
    assert (reminder["open"], reminder["acknowledged_by"], reminder["kind"]) == (False, "root", "exchange_overdue")


def test_acknowledging_without_a_body_or_note(
    client: FlaskClient, headers: dict[str, dict[str, str]], scanned: dict[str, Any]
) -> None:
    """The note is optional: no body at all and an empty object both acknowledge, with note null."""
    first = acknowledge(client, headers["manager"], scanned["inactive"]["id"])
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["note"] is None
    second = acknowledge(client, headers["manager"], scanned["overdue"]["id"], {})
    assert second.status_code == 200, second.get_json()
    assert (second.get_json()["open"], second.get_json()["note"]) == (False, None)


def test_acknowledging_again_is_409_and_records_nothing(
    client: FlaskClient, headers: dict[str, dict[str, str]], services: Services, scanned: dict[str, Any]
) -> None:
    """A reminder that is not open is a 409 (by anyone, with any note); the first acknowledgement stands."""
    rid = scanned["inactive"]["id"]
    assert acknowledge(client, headers["manager"], rid, {"note": "pierwsze"}).status_code == 200
    with nothing_recorded(services, client):
        assert_error(acknowledge(client, headers["manager"], rid, {"note": "drugie"}), 409)
        assert_error(acknowledge(client, headers["admin"], rid, {}), 409)
    (listed,) = [r for r in list_reminders(client, headers["manager"]) if r["id"] == rid]
    assert (listed["note"], listed["acknowledged_by"]) == ("pierwsze", "jan")


def test_acknowledging_a_reminder_closed_by_another_process_is_409(
    client: FlaskClient, headers: dict[str, dict[str, str]], services: Services, scanned: dict[str, Any]
) -> None:
    """When another writer acknowledged first (the read model not yet caught up), the API answers 409."""
    reminder = scanned["inactive"]
    services.tracker.acknowledge_reminder(
        UUID(reminder["partnership_id"]),
        reminder["flagged_version"],
        note="z innego procesu",
        recorded_by="jan",
        today=TODAY,
    )
    before = log_position(services)
    assert_error(acknowledge(client, headers["admin"], reminder["id"], {"note": "drugi"}), 409)
    assert log_position(services) == before
    services.projection.catch_up()  # what the server's follower thread does
    (listed,) = [r for r in list_reminders(client, headers["manager"]) if r["id"] == reminder["id"]]
    assert (listed["open"], listed["note"], listed["acknowledged_by"]) == (False, "z innego procesu", "jan")


@pytest.mark.parametrize("role", ["officer", "auditor"])
def test_officers_and_auditors_may_not_acknowledge(
    client: FlaskClient, headers: dict[str, dict[str, str]], services: Services, scanned: dict[str, Any], role: str
) -> None:
    """An officer's or auditor's acknowledgement is 403 and records nothing; the reminder stays open."""
    with nothing_recorded(services, client):
        assert_error(acknowledge(client, headers[role], scanned["inactive"]["id"], {"note": "x"}), 403)
    assert all(r["open"] for r in list_reminders(client, headers["manager"]))


def test_an_anonymous_acknowledgement_is_401(client: FlaskClient, services: Services, scanned: dict[str, Any]) -> None:
    """Without credentials acknowledging is 401 and records nothing."""
    with nothing_recorded(services, client):
        assert_error(acknowledge(client, {}, scanned["inactive"]["id"], {}), 401)


@pytest.mark.parametrize("rid", [str(uuid4()), "not-a-reminder", "0"])
def test_an_unknown_reminder_is_404(
    client: FlaskClient, headers: dict[str, dict[str, str]], services: Services, scanned: dict[str, Any], rid: str
) -> None:
    """Acknowledging an id that names no reminder is 404 and records nothing."""
    with nothing_recorded(services, client):
        assert_error(acknowledge(client, headers["manager"], rid, {}), 404)


@pytest.mark.parametrize(
    ("kwargs", "statuses"),
    [
        ({"data": "{not json", "content_type": "application/json"}, {400}),
        ({"json": ["a note"]}, {400}),
        ({"json": "a note"}, {400}),
        ({"json": 7}, {400}),
        ({"json": {"note": 7}}, {422}),
        ({"json": {"note": ["a"]}}, {422}),
        ({"json": {"note": ""}}, {422}),
        ({"json": {"note": "x" * 2001}}, {422}),
        ({"json": {"note": "bell\u0007"}}, {422}),
        ({"json": {"note": "ok", "acknowledged_by": "someone else"}}, {400, 422}),
    ],
    ids=[
        "malformed",
        "array",
        "string",
        "number",
        "note-number",
        "note-list",
        "note-empty",
        "note-too-long",
        "note-control-char",
        "unknown-field",
    ],
)
def test_a_bad_body_is_refused_and_records_nothing(
    client: FlaskClient,
    headers: dict[str, dict[str, str]],
    services: Services,
    scanned: dict[str, Any],
    kwargs: dict[str, Any],
    statuses: set[int],
) -> None:
    """A body that is not a JSON object is 400, a bad note 422; nothing is recorded and the reminder stays open."""
    rid = scanned["inactive"]["id"]
    with nothing_recorded(services, client):
        response = client.post(f"{API}/reminders/{rid}/acknowledge", headers=headers["manager"], **kwargs)
        assert response.status_code in statuses, (response.status_code, response.get_json())
        assert_error(response, response.status_code)
    (listed,) = [r for r in list_reminders(client, headers["manager"]) if r["id"] == rid]
    assert listed["open"] is True


# --- reminders and later events ----------------------------------------------------------------------------------


def test_an_acknowledged_spell_is_not_flagged_again_but_a_new_spell_is(
    client: FlaskClient, headers: dict[str, dict[str, str]], services: Services, scanned: dict[str, Any]
) -> None:
    """Acknowledging does not reopen the spell: the next scan adds nothing; a new spell opens a new reminder."""
    pid = scanned["bar"]["id"]
    assert acknowledge(client, headers["manager"], scanned["inactive"]["id"], {}).status_code == 200
    with nothing_recorded(services, client):
        assert jobs.scan_inactivity(services, TODAY).flagged == []
    record(client, headers["officer"], pid, "activity_held", "2026-11-01", activity_kind="visit", title="Wizyta")
    report = jobs.scan_inactivity(services, date(2027, 11, 2))
    assert [(f["partnership_id"], f["kind"]) for f in report.flagged if f["partnership_id"] == pid] == [
        (pid, "inactive")
    ]
    mine = [r for r in list_reminders(client, headers["manager"]) if r["partnership_id"] == pid]
    assert sorted((r["open"], r["opened_on"]) for r in mine) == [(False, TODAY.isoformat()), (True, "2027-11-02")]
    assert len({r["id"] for r in mine}) == 2


def test_a_retracted_acknowledgement_reopens_the_reminder(
    client: FlaskClient, headers: dict[str, dict[str, str]], scanned: dict[str, Any]
) -> None:
    """When a manager retracts the acknowledgement (an officer may not: issue 13), the reminder is open again
    and can be acknowledged again."""
    rid, pid = scanned["inactive"]["id"], scanned["bar"]["id"]
    assert acknowledge(client, headers["manager"], rid, {"note": "omyłkowo"}).status_code == 200
    ack = events_of(client, headers["officer"], pid)[-1]
    record(
        client, headers["manager"], pid, "event_retracted", TODAY.isoformat(), retracts=ack["version"], reason="pomyłka"
    )
    (listed,) = [r for r in list_reminders(client, headers["manager"], open="true") if r["id"] == rid]
    assert (listed["open"], listed["acknowledged_by"], listed["note"]) == (True, None, None)
    again = acknowledge(client, headers["admin"], rid, {"note": "teraz naprawdę"})
    assert again.status_code == 200, again.get_json()
    assert (again.get_json()["acknowledged_by"], again.get_json()["note"]) == ("root", "teraz naprawdę")


def test_a_retracted_flag_takes_its_reminder_away(
    client: FlaskClient, headers: dict[str, dict[str, str]], services: Services, scanned: dict[str, Any]
) -> None:
    """A retracted flag (an admin's to retract: issue 13) no longer lists its reminder, and acknowledging it is 404."""
    reminder, pid = scanned["overdue"], scanned["kotor"]["id"]
    record(
        client,
        headers["admin"],
        pid,
        "event_retracted",
        TODAY.isoformat(),
        retracts=reminder["flagged_version"],
        reason="plan odwołany",
    )
    assert reminder["id"] not in {r["id"] for r in list_reminders(client, headers["manager"])}
    with nothing_recorded(services, client):
        assert_error(acknowledge(client, headers["manager"], reminder["id"], {}), 404)
