"""Two kinds of time: as_of (business date), known_at (record time), both, on one partnership and the register."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from .helpers import API, assert_error, get_partnership, nothing_recorded, record, register


def at(client, headers, pid, **query):
    """GET /partnerships/ID with time-travel parameters (the raw response)."""
    return client.get(f"{API}/partnerships/{pid}", headers=headers, query_string=query)


def the_register(client, headers, **query):
    response = client.get(f"{API}/register", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_story_of_bar_montenegro(client, headers, today):
    """Bar's history told in order, late entries and a retraction included, read back in both kinds of time."""
    officer, auditor = headers["officer"], headers["auditor"]

    # The officer registers Bar, Montenegro, today; nobody knows yet when it began.
    bar = register(client, officer)
    pid = bar["id"]
    assert (bar["status"], bar["status_since"]) == ("proposed", today.isoformat())

    # The council's resolution XXV/4/09 of 2009-03-27 is entered: Bar is active since that day,
    # and in business time it exists from then on.
    resolution = record(
        client,
        officer,
        pid,
        "council_resolution_adopted",
        "2009-03-27",
        purpose="establish",
        resolution_number="XXV/4/09",
    )
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"], doc["last_activity_on"]) == ("active", "2009-03-27", "2009-03-27")
    assert at(client, auditor, pid, as_of="2009-03-27").get_json()["status"] == "active"
    assert_error(at(client, auditor, pid, as_of="2009-03-26"), 404)

    # Cooperation is suspended in 2014.
    suspension = record(client, officer, pid, "cooperation_suspended", "2014-06-01", reason="Brak kontaktu")
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"]) == ("suspended", "2014-06-01")

    # Later, a 2012 visit is entered: it is allowed (Bar was active in 2012) and lands in its place in
    # history: the status stays suspended, the last activity moves to 2012, and 2012 itself shows it.
    visit = record(client, officer, pid, "activity_held", "2012-09-15", activity_kind="visit", title="Wizyta w Barze")
    assert visit["version"] == 4
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"], doc["last_activity_on"]) == ("suspended", "2014-06-01", "2012-09-15")
    in_2012 = at(client, auditor, pid, as_of="2012-12-31").get_json()
    assert (in_2012["status"], in_2012["last_activity_on"]) == ("active", "2012-09-15")
    in_2011 = at(client, auditor, pid, as_of="2011-12-31").get_json()
    assert (in_2011["status"], in_2011["last_activity_on"]) == ("active", "2009-03-27")

    # The suspension turns out to be a mistake and is retracted: Bar is active again, since 2009,
    # as if the suspension had never happened, and being quiet since 2012 it counts as inactive today.
    record(client, officer, pid, "event_retracted", today.isoformat(), retracts=suspension["version"], reason="Błąd")
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"], doc["last_activity_on"]) == ("active", "2009-03-27", "2012-09-15")
    assert doc["inactive"] is True
    assert at(client, auditor, pid, as_of="2015-01-01").get_json()["status"] == "active"

    # What the register said before the retraction was recorded: suspended since 2014.
    before_retraction = at(client, auditor, pid, known_at=visit["recorded_at"]).get_json()
    assert (before_retraction["status"], before_retraction["status_since"]) == ("suspended", "2014-06-01")
    assert before_retraction["version"] == 4

    # Both together: what the register said, before the 2012 visit was entered, about the end of 2012.
    then = at(client, auditor, pid, as_of="2012-12-31", known_at=suspension["recorded_at"]).get_json()
    assert (then["status"], then["last_activity_on"]) == ("active", "2009-03-27")

    # And before the resolution was entered, Bar was only a proposal.
    first = at(client, auditor, pid, known_at=bar["registered_at"]).get_json()
    assert (first["status"], first["version"]) == ("proposed", 1)
    assert at(client, auditor, pid, known_at=resolution["recorded_at"]).get_json()["status"] == "active"


@pytest.fixture
def ladispoli(client, headers):
    """Ladispoli: registered as of 2004-05-01, intent 2005, agreement 2006; returns the recorded events."""
    officer = headers["officer"]
    reg = register(
        client, officer, partner_name="Ladispoli", partner_country="IT", partner_kind="city", occurred_on="2004-05-01"
    )
    intent = record(client, officer, reg["id"], "letter_of_intent_signed", "2005-01-10")
    agreement = record(client, officer, reg["id"], "agreement_signed", "2006-02-20", agreement_kind="partnership")
    return {"id": reg["id"], "reg": reg, "intent": intent, "agreement": agreement}


@pytest.mark.parametrize(
    ("as_of", "status", "since", "version"),
    [
        ("2004-05-01", "proposed", "2004-05-01", 1),
        ("2005-01-09", "proposed", "2004-05-01", 1),
        ("2005-01-10", "intent", "2005-01-10", 2),
        ("2006-02-19", "intent", "2005-01-10", 2),
        ("2006-02-20", "active", "2006-02-20", 3),
        ("2030-01-01", "active", "2006-02-20", 3),
    ],
)
def test_as_of_answers_with_what_had_happened_by_that_day(client, headers, ladispoli, as_of, status, since, version):
    """as_of=D folds the events that happened on or before D, inclusive."""
    doc = at(client, headers["manager"], ladispoli["id"], as_of=as_of).get_json()
    assert (doc["status"], doc["status_since"], doc["version"]) == (status, since, version)


def test_as_of_before_the_partnership_existed_is_404(client, services, headers, ladispoli):
    """A partnership does not exist in business time before its earliest date."""
    with nothing_recorded(services, client):
        assert_error(at(client, headers["officer"], ladispoli["id"], as_of="2004-04-30"), 404)
        assert_error(at(client, headers["officer"], ladispoli["id"], as_of="1999-01-01"), 404)


def test_known_at_answers_with_what_had_been_recorded_by_then(client, headers, ladispoli):
    """known_at=T folds the events recorded at or before T."""
    pid = ladispoli["id"]
    for key, status in (("reg", "proposed"), ("intent", "intent"), ("agreement", "active")):
        moment = ladispoli[key]["registered_at" if key == "reg" else "recorded_at"]
        assert at(client, headers["officer"], pid, known_at=moment).get_json()["status"] == status


def test_known_at_before_the_registration_was_recorded_is_404(client, headers, ladispoli):
    """Before its registration was recorded nobody knew the partnership."""
    registered_at = datetime.fromisoformat(ladispoli["reg"]["registered_at"])
    earlier = (registered_at - timedelta(microseconds=1)).isoformat()
    assert_error(at(client, headers["officer"], ladispoli["id"], known_at=earlier), 404)
    assert_error(at(client, headers["officer"], ladispoli["id"], known_at="2000-01-01T00:00:00Z"), 404)


def test_known_at_accepts_z_offsets_and_naive_utc(client, headers, ladispoli):
    """known_at takes Z, a numeric offset, or no offset (UTC); the same moment gives the same answer."""
    moment = datetime.fromisoformat(ladispoli["intent"]["recorded_at"]).astimezone(UTC)
    spellings = [
        moment.isoformat(),
        moment.isoformat().replace("+00:00", "Z"),
        moment.astimezone(timezone(timedelta(hours=2))).isoformat(),
        moment.astimezone(timezone(timedelta(hours=-5))).isoformat(),
        moment.replace(tzinfo=None).isoformat(),
    ]
    for spelling in spellings:
        assert at(client, headers["officer"], ladispoli["id"], known_at=spelling).get_json()["version"] == 2, spelling
    just_before = (moment - timedelta(microseconds=1)).isoformat()
    assert at(client, headers["officer"], ladispoli["id"], known_at=just_before).get_json()["version"] == 1


def test_known_at_with_an_unencoded_plus_in_the_url(client, headers, ladispoli):
    """A "+" offset typed into a URL unencoded (so it arrives as a space) is still read as an offset."""
    moment = datetime.fromisoformat(ladispoli["intent"]["recorded_at"]).astimezone(timezone(timedelta(hours=1)))
    response = client.get(
        f"{API}/partnerships/{ladispoli['id']}?known_at={moment.isoformat()}", headers=headers["officer"]
    )
    assert "+" in moment.isoformat()
    assert response.status_code == 200
    assert response.get_json()["version"] == 2


def test_as_of_and_known_at_together(client, headers, ladispoli):
    """Both together: what the register said at T about day D."""
    doc = at(
        client, headers["officer"], ladispoli["id"], as_of="2030-01-01", known_at=ladispoli["intent"]["recorded_at"]
    )
    assert (doc.get_json()["status"], doc.get_json()["version"]) == ("intent", 2)
    doc = at(
        client, headers["officer"], ladispoli["id"], as_of="2005-01-09", known_at=ladispoli["agreement"]["recorded_at"]
    )
    assert doc.get_json()["status"] == "proposed"


def test_inactive_is_judged_on_the_as_of_day(client, headers, ladispoli):
    """In an as_of answer, inactive is judged on that day, not today."""
    pid = ladispoli["id"]
    assert get_partnership(client, headers["officer"], pid)["inactive"] is True
    assert at(client, headers["officer"], pid, as_of="2006-12-31").get_json()["inactive"] is False
    assert at(client, headers["officer"], pid, as_of="2007-02-21").get_json()["inactive"] is True


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("as_of", "2020-02-30"),
        ("as_of", "yesterday"),
        ("as_of", "2020-W01-1"),
        ("known_at", "noon"),
        ("known_at", "2020"),
    ],
)
def test_bad_time_parameters_are_422(client, services, headers, ladispoli, name, value):
    """as_of must be a YYYY-MM-DD date and known_at an ISO date-time, otherwise 422 naming it."""
    with nothing_recorded(services, client):
        assert_error(at(client, headers["officer"], ladispoli["id"], **{name: value}), 422, name)
        assert_error(client.get(f"{API}/register", headers=headers["officer"], query_string={name: value}), 422, name)


# --- the register -----------------------------------------------------------------------------


def test_register_defaults_to_today_as_known_now(client, headers, ladispoli, bar, today):
    """GET /register without parameters: as_of today, known_at null, every partnership as it stands."""
    body = the_register(client, headers["auditor"])
    assert body["as_of"] == today.isoformat()
    assert body["known_at"] is None
    assert [p["partner_name"] for p in body["items"]] == ["Bar", "Ladispoli"]
    assert body["items"][1] == get_partnership(client, headers["officer"], ladispoli["id"])


def test_register_as_of_leaves_out_what_did_not_exist_yet(client, headers, ladispoli, bar):
    """The register as of a past day lists only the partnerships that existed then, as they stood."""
    body = the_register(client, headers["manager"], as_of="2005-06-01")
    assert body["as_of"] == "2005-06-01"
    assert [(p["partner_name"], p["status"]) for p in body["items"]] == [("Ladispoli", "intent")]
    assert the_register(client, headers["manager"], as_of="2004-04-30")["items"] == []


def test_register_known_at_shows_what_was_recorded_then(client, headers, ladispoli):
    """The register known at T shows what had been recorded at T, and says which T it answers for."""
    moment = ladispoli["intent"]["recorded_at"]
    body = the_register(client, headers["officer"], as_of="2030-01-01", known_at=moment)
    assert datetime.fromisoformat(body["known_at"]) == datetime.fromisoformat(moment)
    assert [(p["partner_name"], p["status"], p["version"]) for p in body["items"]] == [("Ladispoli", "intent", 2)]
    assert the_register(client, headers["officer"], known_at="2000-01-01T00:00:00Z")["items"] == []


def test_register_answer_is_stable_once_known_at_is_past(client, headers, ladispoli):
    """With known_at fixed, later writes do not change the register's answer."""
    moment = ladispoli["agreement"]["recorded_at"]
    before = the_register(client, headers["officer"], as_of="2026-01-01", known_at=moment)
    record(client, headers["officer"], ladispoli["id"], "cooperation_suspended", "2010-01-01", reason="x")
    register(client, headers["officer"], partner_name="Aaa", partner_country="FR", partner_kind="city")
    after = the_register(client, headers["officer"], as_of="2026-01-01", known_at=moment)
    assert after == before


def test_as_of_in_the_first_year_of_the_calendar(client, headers):
    """An as_of date in year 1 answers like any other day ."""
    pid = register(client, headers["officer"], occurred_on="0001-01-01")["id"]
    record(client, headers["officer"], pid, "agreement_signed", "0001-01-02", agreement_kind="other")
    response = at(client, headers["officer"], pid, as_of="0001-06-01")
    assert response.status_code == 200
