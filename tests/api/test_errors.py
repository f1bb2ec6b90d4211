"""Refusals: 400, 404, 409 and 422 in the contract's shape, and a refused request records nothing.

(401 and 403 are in test_auth.py.)
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from .helpers import API, EVENT_FIELDS, assert_error, establish, nothing_recorded, post_event, record, register

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
NOTE = {"type": "note_added", "occurred_on": "2020-01-01", "text": "x"}


@pytest.fixture
def active_bar(client, headers, bar):
    """Bar after the council's resolution of 2009-03-27: active, version 2."""
    establish(client, headers["officer"], bar["id"], "X/1")
    return bar


# --- 400 --------------------------------------------------------------------------------------

MALFORMED = ["{", '{"partner_name": "Bar",}', "nul", "", "\xff\xfe"]
NOT_OBJECTS = ["[]", "[1, 2]", '"text"', "42", "null", "true"]


@pytest.mark.parametrize("body", MALFORMED + NOT_OBJECTS)
def test_register_with_malformed_or_non_object_body_is_400(client, services, headers, body):
    """POST /partnerships with a body that is not a JSON object is 400."""
    with nothing_recorded(services, client):
        response = client.post(
            f"{API}/partnerships", data=body, content_type="application/json", headers=headers["officer"]
        )
        assert_error(response, 400)


@pytest.mark.parametrize("body", MALFORMED + NOT_OBJECTS)
def test_record_with_malformed_or_non_object_body_is_400(client, services, headers, bar, body):
    """POST /partnerships/ID/events with a body that is not a JSON object is 400."""
    with nothing_recorded(services, client):
        response = client.post(
            f"{API}/partnerships/{bar['id']}/events",
            data=body,
            content_type="application/json",
            headers=headers["officer"],
        )
        assert_error(response, 400)


@pytest.mark.parametrize("body", ["{", "[]", '"note"', "7"])
def test_acknowledge_with_malformed_or_non_object_body_is_400(client, services, headers, body):
    """POST /reminders/ID/acknowledge with a body that is not a JSON object is 400 (an empty body is fine)."""
    with nothing_recorded(services, client):
        response = client.post(
            f"{API}/reminders/{UNKNOWN_ID}/acknowledge",
            data=body,
            content_type="application/json",
            headers=headers["manager"],
        )
        assert_error(response, 400)


def test_lone_surrogates_in_a_body_are_400(client, services, headers, bar):
    """JSON escapes that are not text (a lone surrogate) are refused as malformed, in a value or a key."""
    with nothing_recorded(services, client):
        for body in (
            '{"partner_name": "\\ud800", "partner_country": "ME", "partner_kind": "city"}',
            '{"type": "note_added", "occurred_on": "2020-01-01", "text": "x", "\\udfff": 1}',
        ):
            for path in (f"{API}/partnerships", f"{API}/partnerships/{bar['id']}/events"):
                response = client.post(path, data=body, content_type="application/json", headers=headers["officer"])
                assert_error(response, 400)


@pytest.mark.parametrize("if_match", ["abc", "1.5", 'W/"1"', "", '""', "-1", "1,2", "*", '"1', "0x1", "١"])
def test_bad_if_match_is_400(client, services, headers, bar, if_match):
    """If-Match that is not a plain or quoted integer is 400, even with an otherwise valid event."""
    with nothing_recorded(services, client):
        assert_error(post_event(client, headers["officer"], bar["id"], NOTE, if_match=if_match), 400)


# --- 404 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("pid", [UNKNOWN_ID, "not-a-uuid", "42"])
def test_recording_for_an_unknown_or_malformed_id_is_404(client, services, headers, pid):
    """Recording an event for an unknown or malformed partnership id is 404 and records nothing."""
    with nothing_recorded(services, client):
        assert_error(post_event(client, headers["officer"], pid, NOTE), 404)
        assert_error(post_event(client, headers["officer"], pid, NOTE, if_match="1"), 404)


@pytest.mark.parametrize("pid", [UNKNOWN_ID, "not-a-uuid"])
def test_reading_an_unknown_or_malformed_id_is_404(client, services, headers, pid):
    """GET of an unknown or malformed partnership id, with or without time travel, is 404."""
    with nothing_recorded(services, client):
        for query in ({}, {"as_of": "2020-01-01"}, {"known_at": "2020-01-01T00:00:00Z"}):
            response = client.get(f"{API}/partnerships/{pid}", headers=headers["officer"], query_string=query)
            assert_error(response, 404)
        assert_error(client.get(f"{API}/partnerships/{pid}/events", headers=headers["officer"]), 404)


def test_acknowledging_an_unknown_reminder_is_404(client, services, headers):
    """POST /reminders/ID/acknowledge with an unknown id is 404 and records nothing."""
    with nothing_recorded(services, client):
        assert_error(client.post(f"{API}/reminders/{UNKNOWN_ID}/acknowledge", headers=headers["manager"]), 404)
        assert_error(client.post(f"{API}/reminders/nonsense/acknowledge", json={}, headers=headers["admin"]), 404)


@pytest.mark.parametrize("rid", ["a\x00b", f"{UNKNOWN_ID}\x00"])
def test_a_nul_in_a_reminder_id_is_404_not_a_server_error(client, services, headers, rid):
    """A reminder id with a NUL (no stored text has one; PostgreSQL cannot even compare it) is 404."""
    with nothing_recorded(services, client):
        path = f"{API}/reminders/{rid.replace(chr(0), '%00')}/acknowledge"
        assert_error(client.post(path, json={}, headers=headers["manager"]), 404)


def test_a_nul_in_the_text_search_finds_nothing(client, services, headers, bar):
    """`q` with a NUL matches no partnership, on every store alike (not a server error on PostgreSQL)."""
    for q in ("\x00", "B\x00", "bar\x00x"):
        response = client.get(f"{API}/partnerships", headers=headers["officer"], query_string={"q": q})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {"items": [], "total": 0}
    found = client.get(f"{API}/partnerships", headers=headers["officer"], query_string={"q": "bar"}).get_json()
    assert [p["id"] for p in found["items"]] == [bar["id"]]


def test_unknown_api_path_is_404_json_and_wrong_method_is_405_json(client, services, headers):
    """Paths and methods the API does not have answer in the error shape too."""
    with nothing_recorded(services, client):
        assert_error(client.get(f"{API}/nothing-here", headers=headers["officer"]), 404)
        response = client.delete(f"{API}/partnerships", headers=headers["officer"])
        assert_error(response, 405)
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


# --- 409 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("if_match", ["0", "1", "3", '"1"', "99"])
def test_stale_if_match_is_409(client, services, headers, active_bar, if_match):
    """If-Match with any version other than the current one (2) is 409 and records nothing."""
    with nothing_recorded(services, client):
        assert_error(post_event(client, headers["officer"], active_bar["id"], NOTE, if_match=if_match), 409)


def test_suspending_a_proposed_partnership_is_409(client, services, headers, bar):
    """Only an intent or active partnership can be suspended."""
    body = {"type": "cooperation_suspended", "occurred_on": "2020-01-01", "reason": "x"}
    with nothing_recorded(services, client):
        assert_error(post_event(client, headers["officer"], bar["id"], body), 409)


def test_resuming_an_active_partnership_is_409(client, services, headers, active_bar):
    """Only a suspended partnership can be resumed."""
    body = {"type": "cooperation_resumed", "occurred_on": "2020-01-01"}
    with nothing_recorded(services, client):
        assert_error(post_event(client, headers["officer"], active_bar["id"], body), 409)


def test_rules_are_checked_as_of_the_events_own_date(client, services, headers, active_bar):
    """Suspending before the partnership became active (as of the event's own date) is 409."""
    body = {"type": "cooperation_suspended", "occurred_on": "2009-03-26", "reason": "x"}
    with nothing_recorded(services, client):
        assert_error(post_event(client, headers["officer"], active_bar["id"], body), 409)


#: What the contract allows after termination: notes, retractions, renames, resolutions and a renewal.
ALLOWED_AFTER_TERMINATION = {
    "note_added",
    "event_retracted",
    "partner_renamed",
    "council_resolution_adopted",
    "letter_of_intent_signed",
    "agreement_signed",
}


def test_the_types_allowed_after_termination_are_recordable_types():
    assert ALLOWED_AFTER_TERMINATION < set(EVENT_FIELDS)


@pytest.mark.parametrize("event_type", sorted(set(EVENT_FIELDS) - ALLOWED_AFTER_TERMINATION))
def test_after_termination_only_the_contracts_types_are_allowed(client, services, headers, active_bar, event_type):
    """After partnership_terminated every type but a note, a retraction, a rename, a resolution, a letter of intent
    and an agreement (a renewal) is 409; notes and retractions stay allowed."""
    officer, pid = headers["officer"], active_bar["id"]
    record(client, officer, pid, "partnership_terminated", "2019-12-31", reason="Merged")
    body = {"type": event_type, "occurred_on": "2020-06-01", **EVENT_FIELDS[event_type]}
    if event_type == "youth_exchange_held":
        body["ends_on"] = "2020-06-05"
    with nothing_recorded(services, client):
        assert_error(post_event(client, officer, pid, body), 409)
    record(client, officer, pid, "note_added", "2020-06-01", text="still allowed")
    record(client, officer, pid, "event_retracted", "2020-06-02", retracts=3, reason="not terminated after all")


@pytest.mark.parametrize(
    ("retracts", "why"),
    [
        (1, "the registration"),
        (4, "a retraction"),
        (3, "an already retracted event"),
        (99, "a nonexistent version"),
        (6, "the version this retraction would get"),
    ],
)
def test_invalid_retractions_are_409(client, services, headers, active_bar, retracts, why):
    """Retracting the registration, a retraction, a retracted event or a missing version is 409."""
    officer, pid = headers["officer"], active_bar["id"]
    record(client, officer, pid, "note_added", "2020-01-01", text="to be retracted")  # v3
    record(client, officer, pid, "event_retracted", "2020-01-02", retracts=3, reason="typo")  # v4
    record(client, officer, pid, "note_added", "2020-01-03", text="stays")  # v5
    body = {"type": "event_retracted", "occurred_on": "2020-02-01", "retracts": retracts, "reason": why}
    with nothing_recorded(services, client):
        assert_error(post_event(client, officer, pid, body), 409)


def test_retracting_another_partnerships_event_is_409(client, services, headers, active_bar):
    """A retraction names a version of the same partnership; a version only another one has is 409."""
    officer = headers["officer"]
    other = register(client, officer, partner_name="Ladispoli", partner_country="IT", partner_kind="city")
    body = {"type": "event_retracted", "occurred_on": "2020-02-01", "retracts": 2, "reason": "wrong one"}
    with nothing_recorded(services, client):
        assert_error(post_event(client, officer, other["id"], body), 409)


# --- 422 --------------------------------------------------------------------------------------


def test_missing_occurred_on_is_422(client, services, headers, bar):
    """Every recorded event needs occurred_on."""
    with nothing_recorded(services, client):
        body = {"type": "note_added", "text": "x"}
        assert_error(post_event(client, headers["officer"], bar["id"], body), 422, "occurred_on")
        body = {"type": "note_added", "text": "x", "occurred_on": None}
        assert_error(post_event(client, headers["officer"], bar["id"], body), 422, "occurred_on")


def test_occurred_on_after_the_servers_today_is_422(client, services, headers, bar, today):
    """occurred_on later than today in the office's calendar is 422, for events and registrations."""
    tomorrow = (today + timedelta(days=1)).isoformat()
    with nothing_recorded(services, client):
        body = {"type": "note_added", "text": "x", "occurred_on": tomorrow}
        assert_error(post_event(client, headers["officer"], bar["id"], body), 422, "occurred_on")
        response = client.post(
            f"{API}/partnerships",
            json={"partner_name": "Bar", "partner_country": "ME", "partner_kind": "city", "occurred_on": tomorrow},
            headers=headers["officer"],
        )
        assert_error(response, 422, "occurred_on")


@pytest.mark.parametrize("event_type", [None, "", "party_held", "NOTE_ADDED", 7, ["note_added"], {"a": 1}])
def test_unknown_or_missing_type_is_422(client, services, headers, bar, event_type):
    """A missing, unknown or non-string type is 422 naming type."""
    body = {"occurred_on": "2020-01-01", "text": "x"}
    if event_type is not None:
        body["type"] = event_type
    with nothing_recorded(services, client):
        assert_error(post_event(client, headers["officer"], bar["id"], body), 422, "type")


@pytest.mark.parametrize("event_type", ["inactivity_flagged", "reminder_acknowledged", "partnership_registered"])
def test_system_only_types_are_422(client, services, headers, bar, event_type):
    """Types only the system writes cannot be recorded through the API."""
    body = {"type": event_type, "occurred_on": "2020-01-01", "kind": "inactive", "flagged_version": 1}
    with nothing_recorded(services, client):
        assert_error(post_event(client, headers["admin"], bar["id"], body), 422, "type")


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"type": "note_added", "text": "x", "colour": "red"}, ["colour"]),
        ({"type": "note_added", "text": "x", "recorded_by": "mallory"}, ["recorded_by"]),
        ({"type": "note_added", "text": "x", "version": 9}, ["version"]),
        ({"type": "note_added"}, ["text"]),
        ({"type": "note_added", "text": "   "}, ["text"]),
        ({"type": "note_added", "text": "a\x00b"}, ["text"]),
        ({"type": "note_added", "text": 5}, ["text"]),
        ({"type": "agreement_signed", "agreement_kind": "treaty"}, ["agreement_kind"]),
        ({"type": "agreement_signed"}, ["agreement_kind"]),
        ({"type": "agreement_signed", "agreement_kind": "other", "areas": ["space"]}, ["areas"]),
        ({"type": "council_resolution_adopted"}, ["purpose"]),
        ({"type": "council_resolution_adopted", "resolution_number": "XXV/4/09"}, ["purpose"]),
        ({"type": "council_resolution_adopted", "purpose": None}, ["purpose"]),
        ({"type": "council_resolution_adopted", "purpose": "dissolve"}, ["purpose"]),
        ({"type": "council_resolution_adopted", "purpose": "Suspend"}, ["purpose"]),
        (
            {"type": "council_resolution_adopted", "purpose": "other", "resolution_number": "n" * 101},
            ["resolution_number"],
        ),
        ({"type": "school_joined", "school_name": "LO", "side": "both"}, ["side"]),
        ({"type": "school_joined"}, ["school_name", "side"]),
        ({"type": "activity_held", "activity_kind": "party", "title": "x"}, ["activity_kind"]),
        ({"type": "activity_held"}, ["activity_kind", "title"]),
        ({"type": "youth_exchange_planned", "planned_for": "soon"}, ["planned_for"]),
        ({"type": "youth_exchange_held", "ends_on": "2020-01-05", "participants": 0}, ["participants"]),
        ({"type": "youth_exchange_held", "ends_on": "2020-01-05", "participants": -3}, ["participants"]),
        ({"type": "youth_exchange_held", "ends_on": "2020-01-05", "participants": "12"}, ["participants"]),
        ({"type": "youth_exchange_held", "ends_on": "2020-01-05", "participants": 1.5}, ["participants"]),
        ({"type": "youth_exchange_held", "ends_on": "2020-01-05", "participants": True}, ["participants"]),
        ({"type": "youth_exchange_held", "ends_on": "2019-12-31", "participants": 5}, ["ends_on"]),
        ({"type": "youth_exchange_held", "ends_on": "2019-12"}, ["ends_on"]),
        ({"type": "youth_exchange_held", "ends_on": "2019"}, ["ends_on"]),
        ({"type": "activity_held", "activity_kind": "visit", "title": "x", "ends_on": "2019-12-31"}, ["ends_on"]),
        ({"type": "partnership_terminated", "reason": "x", "effective_on": "2019-12-31"}, ["effective_on"]),
        ({"type": "partnership_terminated", "reason": "x", "effective_on": "2019"}, ["effective_on"]),
        ({"type": "partnership_terminated", "reason": "x", "effective_on": "soon"}, ["effective_on"]),
        ({"type": "partner_renamed"}, ["partner_name"]),
        ({"type": "partner_renamed", "partner_name": " "}, ["partner_name"]),
        ({"type": "inactivity_period_set"}, ["days"]),
        ({"type": "inactivity_period_set", "days": 29}, ["days"]),
        ({"type": "inactivity_period_set", "days": 3651}, ["days"]),
        ({"type": "inactivity_period_set", "days": "365"}, ["days"]),
        ({"type": "inactivity_period_set", "days": 365.5}, ["days"]),
        ({"type": "cooperation_suspended"}, ["reason"]),
        ({"type": "partnership_terminated", "reason": ""}, ["reason"]),
        ({"type": "event_retracted", "reason": "x"}, ["retracts"]),
        ({"type": "event_retracted", "retracts": 0, "reason": "x"}, ["retracts"]),
        ({"type": "event_retracted", "retracts": "2", "reason": "x"}, ["retracts"]),
        ({"type": "event_retracted", "retracts": 2}, ["reason"]),
        ({"type": "note_added", "text": "x", "occurred_on": "2020-02-30"}, ["occurred_on"]),
        ({"type": "note_added", "text": "x", "occurred_on": "01.01.2020"}, ["occurred_on"]),
        ({"type": "note_added", "text": "x", "occurred_on": "20200101"}, ["occurred_on"]),
        ({"type": "note_added", "text": "x", "occurred_on": "2020-W01-1"}, ["occurred_on"]),
        ({"type": "note_added", "text": "x", "occurred_on": "2020-01-01T00:00:00"}, ["occurred_on"]),
        ({"type": "note_added", "text": "x", "occurred_on": 20200101}, ["occurred_on"]),
        ({"type": "youth_exchange_planned", "planned_for": "2030-001"}, ["planned_for"]),
        ({"type": "note_added", "text": " " + "x" * 4000}, ["text"]),
        ({"type": "note_added", "text": "x", "reference": "r" * 201}, ["reference"]),
        ({"type": "activity_held", "activity_kind": "party", "title": "", "zzz": 1}, ["activity_kind", "title", "zzz"]),
    ],
)
def test_invalid_event_fields_are_422_naming_each_field(client, services, headers, active_bar, body, bad):
    """A bad event field (unknown, missing, wrong type, bad enum, out of range) is 422 naming each one."""
    body = {"occurred_on": "2020-01-01", **body}
    with nothing_recorded(services, client):
        error = assert_error(post_event(client, headers["officer"], active_bar["id"], body), 422, *bad)
    assert set(error["fields"]) == set(bad)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"type": "council_resolution_adopted"}, "purpose", "required"),
        ({"type": "council_resolution_adopted", "purpose": "dissolve"}, "purpose", "one_of"),
        ({"type": "inactivity_period_set", "days": 29}, "days", "out_of_range"),
        ({"type": "inactivity_period_set", "days": 3651}, "days", "out_of_range"),
        (
            {"type": "partnership_terminated", "reason": "x", "effective_on": "2019-12-31"},
            "effective_on",
            "not_before_occurred_on",
        ),
    ],
)
def test_the_new_fields_refusals_carry_their_codes(client, services, headers, active_bar, body, field, code):
    """A missing or unknown purpose, days outside 30..3650 and a notice period ending before the decision are
    refused with stable codes under their field."""
    body = {"occurred_on": "2020-01-01", **body}
    with nothing_recorded(services, client):
        error = assert_error(post_event(client, headers["officer"], active_bar["id"], body), 422)
    assert error["field_codes"] == {field: [code]}


def date_code(text: str) -> str:
    """The code of a refused business date: written as a day or a month the calendar has not (2019-02-30,
    2019-13), or not written as a date at all."""
    return "no_such_day" if re.fullmatch(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?", text) else "not_a_business_date"


@pytest.mark.parametrize(
    "text", ["2019-13", "2019-02-30", "19", "2019-1", "2019-00", "0000", "2019-06-", "styczeń 2008"]
)
@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("note_added", "occurred_on"),
        ("youth_exchange_planned", "planned_for"),
        ("youth_exchange_held", "ends_on"),
        ("activity_held", "ends_on"),
        ("partnership_terminated", "effective_on"),
    ],
)
def test_a_date_that_is_not_a_day_a_month_or_a_year_is_422(
    client, services, headers, active_bar, event_type, field, text
):
    """A business date must be a real day (YYYY-MM-DD), month (YYYY-MM) or year (YYYY): anything else is 422
    naming the field, with the code not_a_business_date."""
    body = {"type": event_type, **EVENT_FIELDS[event_type], "occurred_on": "2020-01-01", field: text}
    if event_type == "youth_exchange_held":
        body["ends_on"] = text if field == "ends_on" else "2020-01-05"
    with nothing_recorded(services, client):
        error = assert_error(post_event(client, headers["officer"], active_bar["id"], body), 422, field)
    assert error["field_codes"] == {field: [date_code(text)]}


VALID_REGISTRATION = {"partner_name": "Bar", "partner_country": "ME", "partner_kind": "municipality"}


@pytest.mark.parametrize(
    ("changes", "bad"),
    [
        ({"partner_country": "XX"}, ["partner_country"]),
        ({"partner_country": "ZZ"}, ["partner_country"]),
        ({"partner_country": "Montenegro"}, ["partner_country"]),
        ({"partner_country": "MNE"}, ["partner_country"]),
        ({"partner_country": ""}, ["partner_country"]),
        ({"partner_country": 499}, ["partner_country"]),
        ({"partner_kind": "village"}, ["partner_kind"]),
        ({"areas": ["culture", "space"]}, ["areas"]),
        ({"areas": "culture"}, ["areas"]),
        ({"partner_name": ""}, ["partner_name"]),
        ({"partner_name": None}, ["partner_name"]),
        ({"partner_name": "x" * 201}, ["partner_name"]),
        ({"occurred_on": "yesterday"}, ["occurred_on"]),
        ({"id": "00000000-0000-4000-8000-000000000001"}, ["id"]),
        ({"status": "active"}, ["status"]),
        (
            {"partner_country": "XX", "partner_kind": "village", "extra": 1},
            ["partner_country", "partner_kind", "extra"],
        ),
    ],
)
def test_invalid_registration_fields_are_422_naming_each_field(client, services, headers, changes, bad):
    """A bad registration field is 422 naming each bad one (a bad country code included)."""
    with nothing_recorded(services, client):
        response = client.post(
            f"{API}/partnerships", json={**VALID_REGISTRATION, **changes}, headers=headers["officer"]
        )
        error = assert_error(response, 422, *bad)
    assert set(error["fields"]) == set(bad)


@pytest.mark.parametrize("text", ["2019-13", "2019-02-30", "19"])
def test_a_registration_date_that_is_not_a_day_a_month_or_a_year_is_422(client, services, headers, text):
    """The registration's occurred_on follows the same rule."""
    with nothing_recorded(services, client):
        response = client.post(
            f"{API}/partnerships", json={**VALID_REGISTRATION, "occurred_on": text}, headers=headers["officer"]
        )
        error = assert_error(response, 422, "occurred_on")
    assert error["field_codes"] == {"occurred_on": [date_code(text)]}


@pytest.mark.parametrize("missing", ["partner_name", "partner_country", "partner_kind"])
def test_registration_without_a_required_field_is_422(client, services, headers, missing):
    """partner_name, partner_country and partner_kind are required."""
    body = {k: v for k, v in VALID_REGISTRATION.items() if k != missing}
    with nothing_recorded(services, client):
        assert_error(client.post(f"{API}/partnerships", json=body, headers=headers["officer"]), 422, missing)


def test_acknowledge_with_an_unknown_field_is_422(client, services, headers):
    """The acknowledgement takes only a note."""
    with nothing_recorded(services, client):
        response = client.post(
            f"{API}/reminders/{UNKNOWN_ID}/acknowledge", json={"comment": "x"}, headers=headers["manager"]
        )
        assert_error(response, 422, "comment")


@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("/events", {"after": "-1"}, "after"),
        ("/events", {"after": "x"}, "after"),
        ("/events", {"limit": "0"}, "limit"),
        ("/register", {"as_of": "2020-13-01"}, "as_of"),
        ("/register", {"as_of": "20200101"}, "as_of"),
        ("/register", {"as_of": "2020-13"}, "as_of"),
        ("/register", {"as_of": "2020-02-30"}, "as_of"),
        ("/register", {"as_of": "20"}, "as_of"),
        ("/register", {"known_at": "yesterday"}, "known_at"),
        ("/reminders", {"open": "perhaps"}, "open"),
    ],
)
def test_bad_query_parameters_are_422(client, services, headers, path, query, name):
    """Bad query parameters are 422 naming the parameter."""
    with nothing_recorded(services, client):
        assert_error(client.get(f"{API}{path}", headers=headers["admin"], query_string=query), 422, name)
