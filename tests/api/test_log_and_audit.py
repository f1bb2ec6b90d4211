"""GET /events (positions, paging, the hash chain), GET /audit/verify, GET /reminders and acknowledging."""

from __future__ import annotations

from uuid import UUID

import pytest

from .helpers import (
    API,
    GENESIS,
    assert_error,
    establish,
    expected_hash,
    log_position,
    nothing_recorded,
    record,
    register,
)

LOG_ENTRY_KEYS = {
    "id",
    "partnership_id",
    "version",
    "type",
    "occurred_on",
    "recorded_at",
    "recorded_by",
    "data",
    "retracted",
    "position",
    "hash",
}


@pytest.fixture
def seven_events(client, headers):
    """Seven events over two partnerships, with Polish text, a late entry and a retraction."""
    officer = headers["officer"]
    bar = register(client, officer)  # 1
    luck = register(client, officer, partner_name="Rejon Łucki", partner_country="UA", partner_kind="district")  # 2
    establish(client, officer, bar["id"], "XXV/4/09")  # 3
    record(client, officer, luck["id"], "note_added", "2020-01-01", text="Zażółć gęślą jaźń")  # 4
    record(client, officer, bar["id"], "cooperation_suspended", "2014-06-01", reason="Wybory")  # 5
    record(client, officer, bar["id"], "activity_held", "2012-09-15", activity_kind="visit", title="Wizyta")  # 6
    record(
        client, officer, bar["id"], "event_retracted", "2020-01-02", retracts=3, reason="Pomyłka"
    )  # 7: Bar v3, the suspension
    return {"bar": bar["id"], "luck": luck["id"]}


def whole_log(client, headers, **query):
    response = client.get(f"{API}/events", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_log_positions_run_from_1_without_gaps(client, headers, services, seven_events):
    """GET /events lists every event once, with positions 1..N across partnerships."""
    page = whole_log(client, headers["auditor"])
    assert set(page) == {"items", "next"}
    assert [e["position"] for e in page["items"]] == list(range(1, 8))
    assert page["next"] is None
    assert log_position(services) == 7
    assert all(LOG_ENTRY_KEYS <= set(e) for e in page["items"])


def test_log_entries_are_the_partnerships_events(client, headers, seven_events):
    """Each log entry is the partnership's Event (same id, data, marks) plus position and hash."""
    entries = whole_log(client, headers["admin"])["items"]
    for pid in seven_events.values():
        events = client.get(f"{API}/partnerships/{pid}/events", headers=headers["officer"]).get_json()["items"]
        mine = [
            {k: v for k, v in e.items() if k not in ("position", "hash")} for e in entries if e["partnership_id"] == pid
        ]
        assert mine == events
    assert [e["type"] for e in entries] == [
        "partnership_registered",
        "partnership_registered",
        "council_resolution_adopted",
        "note_added",
        "cooperation_suspended",
        "activity_held",
        "event_retracted",
    ]
    assert [e["retracted"] for e in entries] == [False, False, False, False, True, False, False]  # the suspension


def test_log_hash_chain_can_be_recomputed_by_anyone(client, headers, seven_events):
    """Each hash is sha256(previous hash + canonical JSON of the entry), from 64 zeros."""
    previous = GENESIS
    for entry in whole_log(client, headers["auditor"])["items"]:
        assert len(entry["hash"]) == 64
        assert entry["hash"] == expected_hash(previous, entry), entry["position"]
        previous = entry["hash"]


def test_log_pages_follow_next(client, headers, seven_events):
    """next is the value to pass as after for the following page; it is null once a page reaches the head."""
    auditor = headers["auditor"]
    first = whole_log(client, auditor, limit=3)
    assert [e["position"] for e in first["items"]] == [1, 2, 3]
    assert first["next"] == 3
    second = whole_log(client, auditor, limit=3, after=first["next"])
    assert [e["position"] for e in second["items"]] == [4, 5, 6]
    assert second["next"] == 6
    third = whole_log(client, auditor, limit=3, after=second["next"])
    assert [e["position"] for e in third["items"]] == [7]
    assert third["next"] is None
    assert first["items"] + second["items"] + third["items"] == whole_log(client, auditor)["items"]


def test_log_page_ending_exactly_at_the_head_has_no_next(client, headers, seven_events):
    """A page whose last entry is the head answers next null; after the head the page is empty."""
    exact = whole_log(client, headers["auditor"], after=4, limit=3)
    assert [e["position"] for e in exact["items"]] == [5, 6, 7]
    assert exact["next"] is None
    for after in (7, 8, 10**30):
        assert whole_log(client, headers["auditor"], after=after) == {"items": [], "next": None}


def test_empty_log_is_an_empty_page(client, headers):
    """An empty store answers an empty log page with next null."""
    assert whole_log(client, headers["auditor"]) == {"items": [], "next": None}


def test_log_limit_defaults_to_100_and_is_capped_at_1000(client, headers, bulk_register):
    """Without limit a page holds 100 entries; a larger limit than 1000 gives 1000."""
    bulk_register(1001)
    page = whole_log(client, headers["auditor"])
    assert len(page["items"]) == 100
    assert page["next"] == 100
    page = whole_log(client, headers["auditor"], limit=5000)
    assert [e["position"] for e in page["items"]] == list(range(1, 1001))
    assert page["next"] == 1000
    rest = whole_log(client, headers["auditor"], limit=5000, after=page["next"])
    assert [e["position"] for e in rest["items"]] == [1001]
    assert rest["next"] is None


def test_log_hash_chain_holds_across_pages(client, headers, bulk_register):
    """Paging with next and recomputing the chain covers the whole log once."""
    bulk_register(250)
    previous, after, positions = GENESIS, 0, []
    while after is not None:
        page = whole_log(client, headers["admin"], after=after, limit=64)
        for entry in page["items"]:
            assert entry["hash"] == expected_hash(previous, entry)
            previous = entry["hash"]
            positions.append(entry["position"])
        after = page["next"]
    assert positions == list(range(1, 251))


# --- audit/verify -----------------------------------------------------------------------------


def test_audit_verify_is_ok_with_the_head(client, headers, seven_events):
    """GET /audit/verify answers ok, how many entries it checked and the head (the last entry's position and hash)."""
    last = whole_log(client, headers["auditor"])["items"][-1]
    for role in ("auditor", "admin"):
        response = client.get(f"{API}/audit/verify", headers=headers[role])
        assert response.status_code == 200
        body = response.get_json()
        assert body == {"ok": True, "checked": 7, "head": {"position": 7, "hash": last["hash"]}, "problems": []}


def test_audit_verify_on_an_empty_log(client, headers):
    """An empty log verifies: nothing checked, head at position 0 with 64 zeros."""
    body = client.get(f"{API}/audit/verify", headers=headers["auditor"]).get_json()
    assert body == {"ok": True, "checked": 0, "head": {"position": 0, "hash": GENESIS}, "problems": []}


def test_audit_verify_records_nothing(client, services, headers, seven_events):
    """Verifying is a read: the log does not move."""
    with nothing_recorded(services, client):
        assert client.get(f"{API}/audit/verify", headers=headers["admin"]).status_code == 200


# --- reminders --------------------------------------------------------------------------------


def test_reminders_list_is_empty_on_a_fresh_store(client, headers):
    """GET /reminders answers {"items": []} when nothing was flagged, for every role, with or without open=true."""
    for role in ("officer", "auditor", "manager", "admin"):
        for query in ({}, {"open": "true"}, {"open": "false"}):
            response = client.get(f"{API}/reminders", headers=headers[role], query_string=query)
            assert response.status_code == 200
            assert response.get_json() == {"items": []}


@pytest.fixture
def reminder(client, services, headers, today):
    """Bar, active since 2009 with no activity since: the inactivity job flags it and opens a reminder."""
    bar = register(client, headers["officer"])
    establish(client, headers["officer"], bar["id"], "X/1")
    assert services.tracker.flag_inactivity(UUID(bar["id"]), today=today, days=365) is not None
    services.projection.catch_up()
    items = client.get(f"{API}/reminders", headers=headers["manager"]).get_json()["items"]
    assert len(items) == 1
    return items[0]


def test_flagged_inactivity_shows_as_an_open_reminder(client, headers, reminder, today):
    """A flag opens a reminder with its kind, day and partnership."""
    assert reminder["kind"] == "inactive"
    assert reminder["open"] is True
    assert reminder["opened_on"] == today.isoformat()
    assert reminder["acknowledged_by"] is None
    assert reminder["acknowledged_at"] is None
    assert reminder["note"] is None
    open_only = client.get(f"{API}/reminders", headers=headers["officer"], query_string={"open": "true"}).get_json()
    assert open_only["items"] == [reminder]


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_acknowledging_a_reminder_closes_it(client, services, headers, reminder, role):
    """A manager (or admin) acknowledges an open reminder: 200, closed, by whom and with the note; once only."""
    before = log_position(services)
    response = client.post(
        f"{API}/reminders/{reminder['id']}/acknowledge", json={"note": "Zadzwonię do Baru"}, headers=headers[role]
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == reminder["id"]
    assert body["open"] is False
    assert body["acknowledged_by"] == {"manager": "jan", "admin": "root"}[role]
    assert body["acknowledged_at"]
    assert body["note"] == "Zadzwonię do Baru"
    assert log_position(services) == before + 1
    assert whole_log(client, headers["auditor"])["items"][-1]["type"] == "reminder_acknowledged"
    assert client.get(f"{API}/reminders", headers=headers["officer"], query_string={"open": "true"}).get_json() == {
        "items": []
    }
    with nothing_recorded(services, client):
        again = client.post(f"{API}/reminders/{reminder['id']}/acknowledge", headers=headers[role])
        assert_error(again, 409)


def test_acknowledging_without_a_body(client, headers, reminder):
    """The note is optional: an empty body acknowledges too."""
    response = client.post(f"{API}/reminders/{reminder['id']}/acknowledge", headers=headers["manager"])
    assert response.status_code == 200
    assert response.get_json()["note"] is None


@pytest.mark.parametrize("role", ["officer", "auditor"])
def test_officers_and_auditors_may_not_acknowledge(client, services, headers, reminder, role):
    """Acknowledging is for managers and admins: 403 for the others, and the reminder stays open."""
    with nothing_recorded(services, client):
        response = client.post(f"{API}/reminders/{reminder['id']}/acknowledge", json={}, headers=headers[role])
        assert_error(response, 403)
    assert client.get(f"{API}/reminders", headers=headers[role]).get_json()["items"][0]["open"] is True
