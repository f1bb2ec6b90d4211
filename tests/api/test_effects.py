"""Every event answers with its effect; ``?dry_run=true`` says what a write would do and records nothing.

The story is Bar's: established by the council's resolution XXV/4/09 of 27 March 2009, suspended
since, and what happens when its history is entered late, in the wrong order, or by purpose.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask.testing import FlaskClient

from application.services import Services, build_services
from web import create_app

from .helpers import API, assert_error, get_partnership, nothing_recorded, post_event, record, register


def events(client: FlaskClient, headers: dict[str, str], pid: str) -> dict[int, dict[str, Any]]:
    response = client.get(f"{API}/partnerships/{pid}/events", headers=headers)
    assert response.status_code == 200
    return {e["version"]: e for e in response.get_json()["items"]}


def test_a_status_change_answers_with_the_status_before_and_after(client, headers, bar) -> None:
    """The agreement turns a proposed partnership active, and says so."""
    event = record(
        client, headers["officer"], bar["id"], "agreement_signed", "2009-03-27", agreement_kind="partnership"
    )
    assert event["effect"] == {"status_before": "proposed", "status_after": "active"}


def test_an_event_that_keeps_the_status_says_why(client, headers, bar) -> None:
    """A note keeps the status; a letter of intent after the agreement is already further."""
    pid, officer = bar["id"], headers["officer"]
    record(client, officer, pid, "agreement_signed", "2009-03-27", agreement_kind="partnership")
    note = record(client, officer, pid, "note_added", "2010-01-01", text="Telefon od burmistrza")
    assert note["effect"] == {"none": "keeps_status", "status": "active"}
    letter = record(client, officer, pid, "letter_of_intent_signed", "2010-02-01")
    assert letter["effect"] == {"none": "already_further", "status": "active"}


def test_a_resolution_is_always_recorded_and_its_effect_depends_on_its_purpose(client, headers, bar) -> None:
    """Authorising the starosta to sign changes nothing; establishing makes active; suspending suspends; a
    resolution to resume what is already active is recorded, with no effect."""
    pid, officer = bar["id"], headers["officer"]
    authorise = record(client, officer, pid, "council_resolution_adopted", "2009-02", purpose="authorise_signing")
    assert authorise["effect"] == {"none": "purpose_keeps_status", "status": "proposed"}
    establish = record(
        client,
        officer,
        pid,
        "council_resolution_adopted",
        "2009-03-27",
        purpose="establish",
        resolution_number="XXV/4/09",
    )
    assert establish["effect"] == {"status_before": "proposed", "status_after": "active"}
    resume = record(client, officer, pid, "council_resolution_adopted", "2010-01-10", purpose="resume")
    assert resume["effect"] == {"none": "already_in_status", "status": "active"}
    suspend = record(client, officer, pid, "council_resolution_adopted", "2022-03-31", purpose="suspend")
    assert suspend["effect"] == {"status_before": "active", "status_after": "suspended"}
    assert get_partnership(client, officer, pid)["status"] == "suspended"


def test_a_resolution_on_a_terminated_partnership_is_recorded(client, headers, bar) -> None:
    """After termination a resolution is still the council's decision and is kept; one that terminates again
    says the partnership already is."""
    pid, officer = bar["id"], headers["officer"]
    record(client, officer, pid, "agreement_signed", "1992", agreement_kind="partnership")
    record(client, officer, pid, "partnership_terminated", "2022-03-02", reason="Agresja Rosji na Ukrainę")
    again = record(client, officer, pid, "council_resolution_adopted", "2022-03-02", purpose="terminate")
    assert again["effect"] == {"none": "already_in_status", "status": "terminated"}


def test_a_back_dated_entry_marks_the_entry_it_made_ineffective(client, headers, bar) -> None:
    """A resumption recorded, then a suspension entered late with an earlier date... and a back-dated termination:
    the later entries it makes ineffective say so, with the entry that did it."""
    pid, officer = bar["id"], headers["officer"]
    record(client, officer, pid, "agreement_signed", "2009-03-27", agreement_kind="partnership")
    record(client, officer, pid, "cooperation_suspended", "2015-01-01", reason="Brak kontaktu")
    resumed = record(client, officer, pid, "cooperation_resumed", "2016-01-01")
    assert resumed["effect"] == {"status_before": "suspended", "status_after": "active"}
    termination = record(client, officer, pid, "partnership_terminated", "2014-06-30", reason="Wypowiedzenie umowy")
    listed = events(client, officer, pid)
    assert listed[resumed["version"]]["effect"] == {
        "none": "not_allowed_in_status",
        "status": "terminated",
        "made_ineffective_by": termination["version"],
    }
    assert termination["effect"]["status_after"] == "terminated"


def test_dry_run_answers_the_event_and_its_effect_and_records_nothing(client, headers, services: Services, bar):
    """``?dry_run=true`` answers 200 with the event as it would be recorded, effect included; the log stays."""
    pid, officer = bar["id"], headers["officer"]
    body = {"type": "cooperation_suspended", "occurred_on": "2022-03", "reason": "Wojna"}
    record(client, officer, pid, "agreement_signed", "2009-03-27", agreement_kind="partnership")
    with nothing_recorded(services, client):
        response = client.post(f"{API}/partnerships/{pid}/events?dry_run=true", json=body, headers=officer)
        assert response.status_code == 200, response.get_json()
    event = response.get_json()
    assert event["type"] == "cooperation_suspended" and event["occurred_on"] == "2022-03"
    assert event["effect"] == {"status_before": "active", "status_after": "suspended"}
    assert event["version"] == 3
    assert get_partnership(client, officer, pid)["status"] == "active"


def test_dry_run_refuses_as_a_real_write_would(client, headers, services: Services, bar) -> None:
    """A dry run of an event not allowed now is the same 409; of a bad field the same 422; nothing recorded."""
    pid, officer = bar["id"], headers["officer"]
    with nothing_recorded(services, client):
        conflict = client.post(
            f"{API}/partnerships/{pid}/events?dry_run=true",
            json={"type": "cooperation_resumed", "occurred_on": "2020"},
            headers=officer,
        )
        assert_error(conflict, 409)
        invalid = client.post(
            f"{API}/partnerships/{pid}/events?dry_run=true",
            json={"type": "council_resolution_adopted", "occurred_on": "2020-13"},
            headers=officer,
        )
        assert_error(invalid, 422, "occurred_on", "purpose")
        stale = post_event(
            client, {**officer}, pid, {"type": "note_added", "occurred_on": "2020", "text": "x"}, if_match="7"
        )
        assert_error(stale, 409)


def test_dates_are_answered_as_given(client, headers, services: Services) -> None:
    """A year and a month are stored and answered as given, and an answer inside such a period is approximate."""
    officer = headers["officer"]
    pid = register(client, officer, partner_name="Iwanowo", partner_country="RU")["id"]
    agreement = record(client, officer, pid, "agreement_signed", "1992", agreement_kind="partnership")
    assert agreement["occurred_on"] == "1992"
    inside = get_partnership(client, officer, pid, as_of="1992-06-01")
    assert (inside["status"], inside["status_since"], inside["approximate"]) == ("active", "1992", True)
    after = get_partnership(client, officer, pid, as_of="1993-01-01")
    assert after["approximate"] is False
    before = client.get(f"{API}/partnerships/{pid}", headers=officer, query_string={"as_of": "1991-12-31"})
    assert before.status_code == 404


def test_local_party_defaults_to_the_organisation(client, headers) -> None:
    """With TRACKER_ORGANISATION set, an omitted local_party is the register's own local government."""
    assert register(client, headers["officer"])["local_party"] == "Powiat Piaseczyński"


def test_without_an_organisation_local_party_is_required(config) -> None:
    """Without TRACKER_ORGANISATION (and no demo data), an omitted local_party is refused by name, nothing recorded;
    nothing in the program stands in for it."""
    services = build_services(replace(config, organisation=None))
    try:
        client = create_app(services=services).test_client()
        officer = {"Authorization": f"Bearer {services.users.add('ola', 'officer')}"}
        with nothing_recorded(services, client):
            response = client.post(
                f"{API}/partnerships",
                json={"partner_name": "Bar", "partner_country": "ME", "partner_kind": "city"},
                headers=officer,
            )
            body = assert_error(response, 422, "local_party")
        assert "TRACKER_ORGANISATION" in body["fields"]["local_party"][0]
        given = client.post(
            f"{API}/partnerships",
            json={"partner_name": "Bar", "partner_country": "ME", "partner_kind": "city", "local_party": "Gmina Ełk"},
            headers=officer,
        )
        assert given.status_code == 201 and given.get_json()["local_party"] == "Gmina Ełk"
    finally:
        services.close()
