"""Every refusal carries a stable code beside its English: ``code``, and ``field_codes`` parallel to ``fields``.

The English texts stay exactly what they were (a client that reads them keeps working); the codes are what a
client (and the web UI) should rely on. docs/api.md lists them.
"""

from __future__ import annotations

import pytest

from domain.values import AREAS, PARTNER_KINDS, STATUSES

from .helpers import API, assert_error, nothing_recorded, post_event, record

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
NOTE = {"type": "note_added", "occurred_on": "2020-01-01", "text": "x"}
BUSINESS_DATE = "Must be a date (YYYY-MM-DD), a month (YYYY-MM) or a year (YYYY)."


def test_a_bad_body_keeps_its_english_and_names_each_fields_codes(client, services, headers):
    """A registration with four problems: the same English as ever under ``fields``, their codes alongside."""
    body = {"partner_country": "XX", "partner_kind": "village", "areas": ["culture", "space"], "extra": 1}
    with nothing_recorded(services, client):
        error = assert_error(client.post(f"{API}/partnerships", json=body, headers=headers["officer"]), 422)
    assert error == {
        "error": "invalid input",
        "code": "invalid_input",
        "fields": {
            "partner_name": ["Missing data for required field."],
            "partner_country": ["Must be an ISO 3166-1 alpha-2 country code, e.g. IT, GE, UA, ME."],
            "partner_kind": [f"Must be one of: {', '.join(PARTNER_KINDS)}."],
            "areas": [f"1: Must be one of: {', '.join(AREAS)}."],
            "extra": ["Unknown field."],
        },
        "field_codes": {
            "partner_name": ["required"],
            "partner_country": ["not_a_country"],
            "partner_kind": ["one_of"],
            "areas": ["one_of"],
            "extra": ["unknown_field"],
        },
    }


@pytest.mark.parametrize(
    ("changes", "field", "english", "code"),
    [
        ({"partner_name": None}, "partner_name", "Field may not be null.", "null"),
        ({"partner_name": ""}, "partner_name", "Shorter than minimum length 1.", "too_short"),
        ({"partner_name": "x" * 201}, "partner_name", "Longer than maximum length 200.", "too_long"),
        ({"partner_name": "a\x07b"}, "partner_name", "Must not contain control characters.", "control_characters"),
        ({"partner_name": 7}, "partner_name", "Not a valid string.", "not_a_string"),
        ({"areas": "culture"}, "areas", "Not a valid list.", "not_a_list"),
        ({"occurred_on": "yesterday"}, "occurred_on", BUSINESS_DATE, "not_a_business_date"),
    ],
)
def test_each_schema_message_has_its_code(client, headers, changes, field, english, code):
    """One field's message and its code, as the schema gives them."""
    body = {"partner_name": "Bar", "partner_country": "ME", "partner_kind": "municipality", **changes}
    error = assert_error(client.post(f"{API}/partnerships", json=body, headers=headers["officer"]), 422, field)
    assert error["fields"][field] == [english] and error["field_codes"][field] == [code]


@pytest.mark.parametrize(
    ("body", "field", "english", "code"),
    [
        ({"occurred_on": "2020-01-01", "text": "x"}, "type", "Missing data for required field.", "required"),
        ({"type": 3, "occurred_on": "2020-01-01"}, "type", "Not a valid string.", "not_a_string"),
        ({"type": "inactivity_flagged"}, "type", "This type is written by the system.", "system_type"),
        ({"type": "party"}, "type", "Unknown event type.", "unknown_event_type"),
        (
            {"type": "youth_exchange_held", "occurred_on": "2020-01-01", "ends_on": "2020-01-05", "participants": 0},
            "participants",
            "Must be greater than or equal to 1 and less than or equal to 100000.",
            "out_of_range",
        ),
        (
            {"type": "youth_exchange_held", "occurred_on": "2020-01-01", "ends_on": "2020-01-05", "participants": "9"},
            "participants",
            "Not a valid integer.",
            "not_an_integer",
        ),
        (
            {"type": "youth_exchange_held", "occurred_on": "2020-01-05", "ends_on": "2020-01-01", "participants": 9},
            "ends_on",
            "Must not be before occurred_on.",
            "not_before_occurred_on",
        ),
        ({**NOTE, "occurred_on": "2999-01-01"}, "occurred_on", "must not be after today", "not_after_today"),
    ],
)
def test_an_events_fields_have_codes_from_the_schema_and_the_domain(
    client, services, headers, bar, body, field, english, code
):
    """The type's checks, the schema's and the domain's rules: each message under its field, with its code."""
    with nothing_recorded(services, client):
        error = assert_error(post_event(client, headers["officer"], bar["id"], body), 422, field)
    assert (error["error"], error["code"]) == ("invalid input", "invalid_input")
    assert error["fields"][field] == [english] and error["field_codes"][field] == [code]


def test_refusals_of_the_request_as_a_whole_have_codes(client, services, headers, bar):
    """400, 401, 403, 404 and 405: their code beside the English they always gave."""
    officer = headers["officer"]
    with nothing_recorded(services, client):
        cases = [
            (client.post(f"{API}/partnerships", data="[]", content_type="application/json", headers=officer), 400),
            (post_event(client, officer, bar["id"], NOTE, if_match="abc"), 400),
            (client.get(f"{API}/partnerships"), 401),
            (client.get(f"{API}/events", headers=officer), 403),
            (client.get(f"{API}/partnerships/{UNKNOWN_ID}/events", headers=officer), 404),
            (client.get(f"{API}/partnerships/{bar['id']}", headers=officer, query_string={"as_of": "1900-01-01"}), 404),
            (client.post(f"{API}/reminders/{UNKNOWN_ID}/acknowledge", headers=headers["manager"]), 404),
            (client.get(f"{API}/nothing-here", headers=officer), 404),
            (client.delete(f"{API}/partnerships", headers=officer), 405),
        ]
        said = [(status, assert_error(response, status)) for response, status in cases]
    assert [(status, body["code"], body["error"]) for status, body in said[:8]] == [
        (400, "malformed_json", "the body must be a JSON object"),
        (
            400,
            "malformed_if_match",
            'If-Match must be the partnership\'s version as an integer, e.g. If-Match: 3 or "3"',
        ),
        (401, "unauthorised", "authentication required: send Authorization: Bearer TOKEN"),
        (403, "forbidden", "the role 'officer' may not do this"),
        (404, "partnership_not_found", f"partnership {UNKNOWN_ID} not found"),
        (404, "partnership_not_found_then", f"partnership {bar['id']} not found (at that time)"),
        (404, "reminder_not_found", f"reminder {UNKNOWN_ID} not found"),
        (404, "not_found", said[7][1]["error"]),
    ]
    assert said[8][1]["code"] == "method_not_allowed"


def test_conflicts_name_the_rule_they_meet(client, services, headers, bar):
    """409: a stale version, an event the status does not allow, a retraction of the registration."""
    officer = headers["officer"]
    with nothing_recorded(services, client):
        stale = assert_error(post_event(client, officer, bar["id"], NOTE, if_match="0"), 409)
        suspend = {"type": "cooperation_suspended", "occurred_on": "2020-01-01", "reason": "x"}
        not_allowed = assert_error(post_event(client, officer, bar["id"], suspend), 409)
        retract = {"type": "event_retracted", "occurred_on": "2020-01-01", "retracts": 1, "reason": "x"}
        registration = assert_error(post_event(client, officer, bar["id"], retract), 409)
    assert (stale["code"], stale["error"]) == ("stale_version", "stale version: expected 0, the partnership is at 1")
    assert not_allowed["code"] == "not_allowed_in_status"
    assert not_allowed["error"] == (
        "cooperation_suspended is not allowed while the partnership is proposed (as of 2020-01-01)"
    )
    assert (registration["code"], registration["error"]) == (
        "registration_not_retractable",
        "the registration cannot be retracted",
    )
    record(client, officer, bar["id"], "note_added", "2020-01-02", text="a note")
    twice = {"type": "event_retracted", "occurred_on": "2020-01-03", "retracts": 2, "reason": "x"}
    assert post_event(client, officer, bar["id"], twice).status_code == 201
    again = assert_error(post_event(client, officer, bar["id"], twice), 409)
    assert (again["code"], again["error"]) == ("already_retracted", "event 2 is already retracted")


@pytest.mark.parametrize(
    ("path", "query", "name", "english", "code"),
    [
        ("/events", {"after": "x"}, "after", "Must be an integer of at least 0.", "below_minimum"),
        ("/events", {"limit": "0"}, "limit", "Must be an integer of at least 1.", "below_minimum"),
        ("/partnerships", {"status": "asleep"}, "status", f"Must be one of: {', '.join(STATUSES)}.", "one_of"),
        ("/partnerships", {"country": "MNE"}, "country", "Must be an ISO 3166-1 alpha-2 code.", "not_a_country_code"),
        ("/register", {"as_of": "20200101"}, "as_of", BUSINESS_DATE, "not_a_business_date"),
        (
            "/register",
            {"known_at": "yesterday"},
            "known_at",
            "Must be an ISO 8601 date-time, e.g. 2026-11-26T12:00:00Z.",
            "not_a_moment",
        ),
        ("/reminders", {"open": "perhaps"}, "open", "Must be true or false.", "not_a_boolean"),
    ],
)
def test_bad_query_parameters_have_codes(client, headers, path, query, name, english, code):
    """422 ``invalid_query`` naming the parameter, its English and its code."""
    error = assert_error(client.get(f"{API}{path}", headers=headers["admin"], query_string=query), 422, name)
    assert (error["error"], error["code"]) == ("invalid query", "invalid_query")
    assert error["fields"] == {name: [english]} and error["field_codes"] == {name: [code]}
