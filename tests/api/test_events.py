"""GET and POST /partnerships/ID/events: each recordable type, the list's order and marks, If-Match."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.event_types import RECORDABLE

from .helpers import API, EVENT_FIELDS, assert_error, get_partnership, is_uuid, log_position, post_event, record

#: What has to happen first (type, occurred_on, fields) so that the type is allowed.
BEFORE = {
    "cooperation_suspended": [("agreement_signed", "2011-01-10", {"agreement_kind": "partnership"})],
    "cooperation_resumed": [
        ("agreement_signed", "2011-01-10", {"agreement_kind": "partnership"}),
        ("cooperation_suspended", "2011-06-01", {"reason": "Elections"}),
    ],
    "event_retracted": [("note_added", "2011-01-10", {"text": "A note entered by mistake"})],
}
#: The status each type leaves a partnership in, from BEFORE's state.
STATUS_AFTER = {
    "letter_of_intent_signed": "intent",
    "agreement_signed": "active",
    "council_resolution_adopted": "active",
    "cooperation_suspended": "suspended",
    "cooperation_resumed": "active",
    "partnership_terminated": "terminated",
}
#: The status each type meets, from BEFORE's state (proposed unless named).
STATUS_BEFORE = {"cooperation_suspended": "active", "cooperation_resumed": "suspended"}
#: What a type that changes no status does to the partnership's document instead.
DOCUMENT_AFTER = {
    "partner_renamed": {"partner_name": "Opština Bar", "former_names": ["Bar"]},
    "inactivity_period_set": {"inactivity_days": 1095},
}

EVENT_KEYS = {
    "id",
    "partnership_id",
    "version",
    "type",
    "occurred_on",
    "recorded_at",
    "recorded_by",
    "data",
    "retracted",
    "effect",
}


def test_every_recordable_type_has_a_test_body():
    """The test bodies cover exactly the contract's recordable event types."""
    assert set(EVENT_FIELDS) == set(RECORDABLE)


@pytest.mark.parametrize("event_type", sorted(EVENT_FIELDS))
def test_record_each_type(client, services, headers, bar, event_type):
    """Each recordable type answers 201 with its type, data, occurred_on, recorded_by and the next version."""
    pid = bar["id"]
    for before_type, occurred_on, fields in BEFORE.get(event_type, []):
        record(client, headers["officer"], pid, before_type, occurred_on, **fields)
    version = 1 + len(BEFORE.get(event_type, []))
    fields = {**EVENT_FIELDS[event_type], "reference": "Nr 12/2012", "note": "Wpisano z protokołu"}
    position = log_position(services)

    response = post_event(client, headers["officer"], pid, {"type": event_type, "occurred_on": "2012-07-01", **fields})

    assert response.status_code == 201, response.get_json()
    event = response.get_json()
    assert EVENT_KEYS <= set(event)
    assert event["type"] == event_type
    assert event["data"] == fields
    assert event["occurred_on"] == "2012-07-01"
    assert event["recorded_by"] == "ala"
    assert event["version"] == version + 1
    assert event["partnership_id"] == pid
    assert event["retracted"] is False
    assert is_uuid(event["id"])
    assert datetime.fromisoformat(event["recorded_at"]).tzinfo is not None
    assert log_position(services) == position + 1
    listed = client.get(f"{API}/partnerships/{pid}/events", headers=headers["auditor"]).get_json()["items"]
    assert listed[-1] == event
    doc = get_partnership(client, headers["officer"], pid)
    assert doc["version"] == event["version"]
    before = STATUS_BEFORE.get(event_type, "proposed")
    if event_type in STATUS_AFTER:
        assert (doc["status"], doc["status_since"]) == (STATUS_AFTER[event_type], "2012-07-01")
        assert event["effect"] == {"status_before": before, "status_after": STATUS_AFTER[event_type]}
    else:
        assert doc["status"] == before
        assert event["effect"] == {"none": "keeps_status", "status": before}
    for name, value in DOCUMENT_AFTER.get(event_type, {}).items():
        assert doc[name] == value


def test_record_by_admin_names_the_admin(client, headers, bar):
    """recorded_by is the name of the user who recorded the event."""
    event = record(client, headers["admin"], bar["id"], "note_added", "2020-01-01", text="Admin was here")
    assert event["recorded_by"] == "root"


def test_record_trims_text_and_drops_empty_optional_fields(client, headers, bar):
    """Text is trimmed; optional fields sent as null are not kept in data."""
    event = record(
        client, headers["officer"], bar["id"], "note_added", "2020-01-01", text="  Zażółć gęślą jaźń  ", note=None
    )
    assert event["data"] == {"text": "Zażółć gęślą jaźń"}


def test_occurred_on_today_is_accepted(client, headers, bar, today):
    """An event may happen today (the server's today); only later dates are refused."""
    event = record(
        client, headers["officer"], bar["id"], "activity_held", today.isoformat(), activity_kind="visit", title="x"
    )
    assert event["occurred_on"] == today.isoformat()


def test_youth_exchange_may_be_planned_for_the_future(client, headers, bar, today):
    """planned_for may lie in the future, occurred_on may not."""
    planned = today.replace(year=today.year + 1).isoformat()
    event = record(
        client, headers["officer"], bar["id"], "youth_exchange_planned", today.isoformat(), planned_for=planned
    )
    assert event["data"]["planned_for"] == planned


def test_events_are_listed_oldest_first_with_retractions_marked(client, headers, bar):
    """The list is in recording order (version); a retracted event is marked retracted=true, the retraction is not."""
    officer, pid = headers["officer"], bar["id"]
    record(
        client,
        officer,
        pid,
        "council_resolution_adopted",
        "2015-01-01",
        purpose="establish",
        resolution_number="XII/1/15",
    )
    record(client, officer, pid, "activity_held", "2010-05-05", activity_kind="conference", title="Late entry")
    record(client, officer, pid, "event_retracted", "2016-01-01", retracts=3, reason="Wrong partnership")

    response = client.get(f"{API}/partnerships/{pid}/events", headers=headers["manager"])

    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(e["version"], e["type"], e["retracted"]) for e in items] == [
        (1, "partnership_registered", False),
        (2, "council_resolution_adopted", False),
        (3, "activity_held", True),
        (4, "event_retracted", False),
    ]
    assert items[3]["data"] == {"retracts": 3, "reason": "Wrong partnership"}
    assert [e["recorded_at"] for e in items] == sorted(e["recorded_at"] for e in items)
    assert all(e["partnership_id"] == pid for e in items)
    assert len({e["id"] for e in items}) == 4
    assert get_partnership(client, officer, pid)["last_activity_on"] == "2015-01-01"


def test_registration_is_the_first_event_with_its_fields(client, headers, bar, today):
    """The registration is event 1, with the registered fields and the day it was registered."""
    first = client.get(f"{API}/partnerships/{bar['id']}/events", headers=headers["officer"]).get_json()["items"][0]
    assert first["type"] == "partnership_registered"
    assert first["version"] == 1
    assert first["occurred_on"] is None
    assert first["data"]["partner_name"] == "Bar"
    assert first["data"]["partner_country"] == "ME"
    assert first["data"]["registered_on"] == today.isoformat()


@pytest.mark.parametrize("if_match", ["1", '"1"', " 1 ", '"01"'])
def test_if_match_with_the_current_version_is_accepted(client, headers, bar, if_match):
    """If-Match: N (or "N") with the partnership's current version lets the write through."""
    response = post_event(
        client,
        headers["officer"],
        bar["id"],
        {"type": "note_added", "occurred_on": "2020-01-01", "text": "x"},
        if_match=if_match,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["version"] == 2


def test_without_if_match_writes_follow_the_latest_state(client, headers, bar):
    """Without If-Match each write is checked against the partnership's latest state, never a conflict."""
    officer, pid = headers["officer"], bar["id"]
    record(client, officer, pid, "agreement_signed", "2011-01-01", agreement_kind="cooperation")
    record(client, officer, pid, "cooperation_suspended", "2012-01-01", reason="x")
    record(client, officer, pid, "cooperation_resumed", "2013-01-01")
    assert get_partnership(client, officer, pid)["status"] == "active"


def test_history_before_a_termination_may_still_be_entered(client, services, headers, bar):
    """Rules are checked as of the new event's own date: history dated before a termination lands in place."""
    officer, pid = headers["officer"], bar["id"]
    record(client, officer, pid, "agreement_signed", "2005-01-01", agreement_kind="partnership")
    record(client, officer, pid, "partnership_terminated", "2020-01-01", reason="Merged")
    late = record(client, officer, pid, "activity_held", "2015-06-01", activity_kind="visit", title="Late")
    assert late["version"] == 4
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"], doc["last_activity_on"]) == ("terminated", "2020-01-01", "2015-06-01")
    position = log_position(services)
    body = {"type": "activity_held", "occurred_on": "2021-06-01", "activity_kind": "visit", "title": "Too late"}
    assert_error(post_event(client, officer, pid, body), 409)
    assert log_position(services) == position


def test_retracting_an_event_undoes_it(client, headers, bar):
    """A retraction makes the partnership as if the retracted event had never happened."""
    officer, pid = headers["officer"], bar["id"]
    record(client, officer, pid, "letter_of_intent_signed", "2010-01-01")
    record(client, officer, pid, "agreement_signed", "2011-01-01", agreement_kind="partnership", areas=["sport"])
    record(client, officer, pid, "event_retracted", "2011-02-01", retracts=3, reason="Signed by the wrong party")
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"], doc["last_activity_on"]) == ("intent", "2010-01-01", "2010-01-01")
    assert doc["areas"] == ["culture"]


# --- the new contract: renewal, renames, notice periods, own inactivity periods, imprecise dates -------

#: After termination: what each allowed type does (status, status_since, effect), recorded on 2020-06-01.
AFTER_TERMINATION = {
    "agreement_signed": ("active", "2020-06-01", {"status_before": "terminated", "status_after": "active"}),
    "letter_of_intent_signed": ("intent", "2020-06-01", {"status_before": "terminated", "status_after": "intent"}),
    "council_resolution_adopted": (
        "active",
        "2020-06-01",
        {"status_before": "terminated", "status_after": "active"},
    ),
    "partner_renamed": ("terminated", "2019-12-31", {"none": "keeps_status", "status": "terminated"}),
}


@pytest.mark.parametrize("event_type", sorted(AFTER_TERMINATION))
def test_after_termination_a_renewal_a_resolution_or_a_rename_is_recorded(client, services, headers, bar, event_type):
    """An agreement or a letter of intent after termination renews (active, or talks to renew); an establishing
    resolution re-establishes; a rename keeps the status. Each answers 201 with its effect."""
    officer, pid = headers["officer"], bar["id"]
    record(client, officer, pid, "agreement_signed", "1999", agreement_kind="partnership")
    record(client, officer, pid, "partnership_terminated", "2019-12-31", reason="Merged")
    position = log_position(services)
    event = record(client, officer, pid, event_type, "2020-06-01", **EVENT_FIELDS[event_type])
    assert log_position(services) == position + 1
    status, since, effect = AFTER_TERMINATION[event_type]
    assert event["effect"] == effect
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"]) == (status, since)
    before = get_partnership(client, officer, pid, as_of="2020-05-31")
    assert (before["status"], before["status_since"]) == ("terminated", "2019-12-31")


@pytest.mark.parametrize(
    ("purpose", "status", "effect"),
    [
        ("establish", "active", {"status_before": "terminated", "status_after": "active"}),
        ("terminate", "terminated", {"none": "already_in_status", "status": "terminated"}),
        ("authorise_signing", "terminated", {"none": "purpose_keeps_status", "status": "terminated"}),
        ("amend", "terminated", {"none": "purpose_keeps_status", "status": "terminated"}),
        ("other", "terminated", {"none": "purpose_keeps_status", "status": "terminated"}),
        ("suspend", "terminated", {"none": "purpose_not_applicable", "status": "terminated"}),
        ("resume", "terminated", {"none": "purpose_not_applicable", "status": "terminated"}),
    ],
)
def test_every_resolution_after_termination_is_recorded_with_its_effect(client, headers, bar, purpose, status, effect):
    """A council's resolution is always recorded, even on a terminated partnership; its effect says what it did."""
    officer, pid = headers["officer"], bar["id"]
    record(client, officer, pid, "agreement_signed", "1999", agreement_kind="partnership")
    record(client, officer, pid, "partnership_terminated", "2022-03-02", reason="War")
    event = record(client, officer, pid, "council_resolution_adopted", "2022-04", purpose=purpose)  # from 1 April
    assert event["effect"] == effect
    assert event["data"] == {"purpose": purpose}
    assert get_partnership(client, officer, pid)["status"] == status


def test_a_year_or_a_month_is_recorded_and_answered_exactly_as_given(client, headers, bar):
    """ "umowa podpisana w 1992 r.", "styczeń 2008": the dates are kept and answered as given, never padded."""
    officer, pid = headers["officer"], bar["id"]
    signed = record(client, officer, pid, "agreement_signed", "1992", agreement_kind="partnership")
    visit = record(
        client, officer, pid, "activity_held", "2008-01", activity_kind="visit", title="Wizyta", ends_on="2008-02"
    )
    camp = record(client, officer, pid, "youth_exchange_held", "2009-07")
    assert (signed["occurred_on"], visit["occurred_on"], camp["occurred_on"]) == ("1992", "2008-01", "2009-07")
    assert visit["data"]["ends_on"] == "2008-02"
    assert camp["data"] == {}
    listed = client.get(f"{API}/partnerships/{pid}/events", headers=officer).get_json()["items"]
    assert [e["occurred_on"] for e in listed[1:]] == ["1992", "2008-01", "2009-07"]
    assert listed[2]["data"]["ends_on"] == "2008-02"
    log = client.get(f"{API}/events", headers=headers["auditor"]).get_json()["items"]
    assert [e["occurred_on"] for e in log if e["partnership_id"] == pid][1:] == ["1992", "2008-01", "2009-07"]
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"], doc["last_activity_on"], doc["exists_from"]) == (
        "active",
        "1992",
        "2009-07",
        "1992",
    )
    assert doc["approximate"] is False


def test_a_termination_with_a_notice_period_takes_effect_on_its_date(client, headers, bar):
    """partnership_terminated with effective_on: still active during the notice period, terminated from its end."""
    officer, pid = headers["officer"], bar["id"]
    record(client, officer, pid, "agreement_signed", "2010-05-14", agreement_kind="partnership")
    event = record(
        client, officer, pid, "partnership_terminated", "2022-03-31", reason="Uchwała rady", effective_on="2022-06-30"
    )
    assert event["data"] == {"reason": "Uchwała rady", "effective_on": "2022-06-30"}
    during = get_partnership(client, officer, pid, as_of="2022-04-15")
    assert (during["status"], during["status_since"]) == ("active", "2010-05-14")
    after = get_partnership(client, officer, pid, as_of="2022-07-01")
    assert (after["status"], after["status_since"]) == ("terminated", "2022-06-30")


def test_a_rename_shows_from_its_date_and_keeps_the_old_name(client, headers, bar):
    """partner_renamed: the new name from its date, the old one among former_names, both searchable."""
    officer, pid = headers["officer"], bar["id"]
    record(client, officer, pid, "agreement_signed", "2010", agreement_kind="partnership")
    record(client, officer, pid, "partner_renamed", "2015", partner_name="Opština Bar")
    doc = get_partnership(client, officer, pid)
    assert (doc["partner_name"], doc["former_names"]) == ("Opština Bar", ["Bar"])
    assert get_partnership(client, officer, pid, as_of="2014-12-31")["partner_name"] == "Bar"
    for q in ("opstina", "Bar"):
        found = client.get(f"{API}/partnerships", headers=officer, query_string={"q": q}).get_json()
        assert [p["id"] for p in found["items"]] == [pid], q


def test_an_own_inactivity_period_is_set_and_set_back_to_the_default(client, headers, bar):
    """inactivity_period_set with days gives the partnership its own period; days null returns to the default."""
    officer, pid = headers["officer"], bar["id"]
    assert get_partnership(client, officer, pid)["inactivity_days"] is None
    record(client, officer, pid, "inactivity_period_set", "2020-01-01", days=1095)
    assert get_partnership(client, officer, pid)["inactivity_days"] == 1095
    reset = record(client, officer, pid, "inactivity_period_set", "2021-01-01", days=None)
    assert reset["effect"] == {"none": "keeps_status", "status": "proposed"}
    assert get_partnership(client, officer, pid)["inactivity_days"] is None
    assert get_partnership(client, officer, pid, as_of="2020-06-01")["inactivity_days"] == 1095


@pytest.mark.parametrize("days", [30, 3650])
def test_the_bounds_of_an_inactivity_period_are_accepted(client, headers, bar, days):
    event = record(client, headers["officer"], bar["id"], "inactivity_period_set", "2020-01-01", days=days)
    assert event["data"] == {"days": days}
