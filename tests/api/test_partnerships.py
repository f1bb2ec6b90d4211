"""GET /health, GET and POST /partnerships, GET /partnerships/ID, and read-your-writes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from .helpers import (
    API,
    assert_error,
    establish,
    get_partnership,
    health_position,
    is_uuid,
    log_position,
    nothing_recorded,
    record,
    register,
)

PARTNERSHIP_KEYS = {
    "id",
    "partner_name",
    "partner_country",
    "partner_kind",
    "local_party",
    "areas",
    "status",
    "status_since",
    "last_activity_on",
    "inactive",
    "schools",
    "version",
    "registered_at",
}


def names(page):
    return [p["partner_name"] for p in page["items"]]


# --- health -----------------------------------------------------------------------------------


def test_health_answers_without_auth_with_the_log_position(client, services):
    """GET /health needs no credentials and reports the log's head position (0 on an empty store)."""
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "position": 0}


def test_health_position_follows_every_write(client, services, headers):
    """Each acknowledged write moves /health's position by one, in step with the store."""
    bar = register(client, headers["officer"])
    assert health_position(client) == log_position(services) == 1
    record(client, headers["officer"], bar["id"], "note_added", "2020-01-01", text="x")
    assert health_position(client) == log_position(services) == 2


def test_openapi_document_answers_without_auth(client):
    """GET /openapi.json needs no credentials and is an OpenAPI 3 document of /api/v1."""
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/health", "/partnerships", "/partnerships/{pid}", "/events", "/audit/verify"} <= set(doc["paths"])


# --- registering ------------------------------------------------------------------------------


def test_register_answers_201_with_the_new_partnership(client, services, headers, today):
    """POST /partnerships answers 201 with the Partnership as registered, and a Location to read it back."""
    before = log_position(services)
    response = client.post(
        f"{API}/partnerships",
        json={"partner_name": "Bar", "partner_country": "me", "partner_kind": "municipality", "areas": ["culture"]},
        headers=headers["officer"],
    )
    assert response.status_code == 201
    doc = response.get_json()
    assert PARTNERSHIP_KEYS <= set(doc)
    assert is_uuid(doc["id"])
    assert doc["partner_name"] == "Bar"
    assert doc["partner_country"] == "ME"
    assert doc["partner_kind"] == "municipality"
    assert doc["local_party"] == "Powiat Piaseczyński"
    assert doc["areas"] == ["culture"]
    assert doc["status"] == "proposed"
    assert doc["status_since"] == today.isoformat()
    assert doc["last_activity_on"] is None
    assert doc["inactive"] is False
    assert doc["schools"] == []
    assert doc["version"] == 1
    assert datetime.fromisoformat(doc["registered_at"]).tzinfo is not None
    assert response.headers["Location"].endswith(f"{API}/partnerships/{doc['id']}")
    assert log_position(services) == before + 1
    assert client.get(response.headers["Location"], headers=headers["auditor"]).get_json() == doc


def test_register_with_all_optional_fields(client, headers):
    """The optional fields (local_party, areas, description, occurred_on) are kept; occurred_on is status_since."""
    doc = register(
        client,
        headers["officer"],
        partner_name="Rejon Łucki",
        partner_country="UA",
        partner_kind="district",
        local_party="Gmina Piaseczno",
        areas=["education", "youth"],
        description="Obwód Wołyński",
        occurred_on="2003-05-12",
    )
    assert doc["local_party"] == "Gmina Piaseczno"
    assert doc["areas"] == ["education", "youth"]
    assert doc["status"] == "proposed"
    assert doc["status_since"] == "2003-05-12"
    events = client.get(f"{API}/partnerships/{doc['id']}/events", headers=headers["officer"]).get_json()["items"]
    assert [(e["type"], e["occurred_on"], e["recorded_by"]) for e in events] == [
        ("partnership_registered", "2003-05-12", "ala")
    ]
    assert events[0]["data"]["description"] == "Obwód Wołyński"


def test_register_names_each_area_once(client, services, headers):
    """An area sent twice is kept once, and the register keeps working (the read models stay healthy)."""
    doc = register(client, headers["officer"], areas=["culture", "sport", "culture"])
    assert doc["areas"] == ["culture", "sport"]
    second = register(client, headers["officer"], partner_name="Ladispoli", partner_country="IT")
    assert get_partnership(client, headers["officer"], second["id"])["partner_name"] == "Ladispoli"
    listed = client.get(f"{API}/partnerships", headers=headers["officer"], query_string={"area": "culture"})
    assert listed.get_json()["total"] == 2
    assert health_position(client) == log_position(services) == 2


def test_register_trims_text_and_upper_cases_the_country(client, headers):
    """Text is trimmed of white space and the country code is answered upper case."""
    doc = register(client, headers["officer"], partner_name="  Bar \n", partner_country=" me ", local_party="\tPowiat ")
    assert (doc["partner_name"], doc["partner_country"], doc["local_party"]) == ("Bar", "ME", "Powiat")


# --- reading one ------------------------------------------------------------------------------


def test_get_one_partnership_is_the_same_document_as_in_the_list(client, headers, bar):
    """GET /partnerships/ID answers the same Partnership the list shows."""
    one = get_partnership(client, headers["manager"], bar["id"])
    listed = client.get(f"{API}/partnerships", headers=headers["manager"]).get_json()["items"]
    assert listed == [one]
    assert one == bar


def test_get_one_accepts_an_uppercase_id(client, headers, bar):
    """A partnership id is a UUID in any letter case."""
    assert get_partnership(client, headers["officer"], bar["id"].upper())["id"] == bar["id"]


@pytest.mark.parametrize("pid", ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "1"])
def test_get_unknown_or_malformed_id_is_404(client, headers, pid):
    """An unknown or malformed partnership id is 404, in the error shape."""
    assert_error(client.get(f"{API}/partnerships/{pid}", headers=headers["officer"]), 404)
    assert_error(client.get(f"{API}/partnerships/{pid}/events", headers=headers["officer"]), 404)


# --- the list: filters ------------------------------------------------------------------------


@pytest.fixture
def register_of_four(client, headers, today):
    """Four partnerships: Bar (active since 2009, so inactive today), Łuck (proposed), Ladispoli (intent,
    recent) and Zugdidi (terminated)."""
    officer = headers["officer"]
    bar = register(client, officer, areas=["culture"])
    establish(client, officer, bar["id"], "XXV/4/09")
    luck = register(
        client,
        officer,
        partner_name="Rejon Łucki",
        partner_country="UA",
        partner_kind="district",
        description="Obwód Wołyński, Ukraina",
        areas=["education"],
    )
    ladispoli = register(
        client, officer, partner_name="Ladispoli", partner_country="IT", partner_kind="city", areas=["sport"]
    )
    record(client, officer, ladispoli["id"], "letter_of_intent_signed", (today - timedelta(days=30)).isoformat())
    zugdidi = register(
        client, officer, partner_name="Zugdidi", partner_country="GE", partner_kind="municipality", areas=["culture"]
    )
    record(client, officer, zugdidi["id"], "partnership_terminated", "2015-01-01", reason="No contact")
    return {"bar": bar["id"], "luck": luck["id"], "ladispoli": ladispoli["id"], "zugdidi": zugdidi["id"]}


def test_list_has_items_and_total_ordered_by_name(client, headers, register_of_four):
    """GET /partnerships answers {items, total}, ordered by partner name."""
    page = client.get(f"{API}/partnerships", headers=headers["auditor"]).get_json()
    assert set(page) == {"items", "total"}
    assert page["total"] == 4
    assert names(page) == ["Bar", "Ladispoli", "Rejon Łucki", "Zugdidi"]
    assert all(PARTNERSHIP_KEYS <= set(p) for p in page["items"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "active"}, ["Bar"]),
        ({"status": "proposed"}, ["Rejon Łucki"]),
        ({"status": "intent"}, ["Ladispoli"]),
        ({"status": "terminated"}, ["Zugdidi"]),
        ({"status": "suspended"}, []),
        ({"country": "UA"}, ["Rejon Łucki"]),
        ({"country": "ua"}, ["Rejon Łucki"]),
        ({"country": "PL"}, []),
        ({"area": "culture"}, ["Bar", "Zugdidi"]),
        ({"area": "sport"}, ["Ladispoli"]),
        ({"area": "health"}, []),
        ({"area": "culture", "status": "terminated"}, ["Zugdidi"]),
        ({"country": "ME", "status": "active", "area": "culture"}, ["Bar"]),
    ],
)
def test_list_filters(client, headers, register_of_four, query, expected):
    """status, country and area filter the list, combined with AND; total counts the filtered list."""
    page = client.get(f"{API}/partnerships", headers=headers["officer"], query_string=query).get_json()
    assert names(page) == expected
    assert page["total"] == len(expected)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Wołyński", ["Rejon Łucki"]),
        ("WOŁYŃSKI", ["Rejon Łucki"]),
        ("łuck", ["Rejon Łucki"]),
        ("ladis", ["Ladispoli"]),
        ("Piaseczyński", ["Bar", "Ladispoli", "Rejon Łucki", "Zugdidi"]),
        ("%", []),
        ("_", []),
        ("nothing like this", []),
    ],
)
def test_list_text_search(client, headers, register_of_four, q, expected):
    """q searches names and descriptions case-insensitively, Polish diacritics included; % and _ are literal."""
    page = client.get(f"{API}/partnerships", headers=headers["manager"], query_string={"q": q}).get_json()
    assert names(page) == expected
    assert page["total"] == len(expected)


def test_list_inactive_filter(client, headers, register_of_four):
    """inactive=true lists only open partnerships without activity for longer than the threshold."""
    page = client.get(f"{API}/partnerships", headers=headers["officer"], query_string={"inactive": "true"}).get_json()
    assert names(page) == ["Bar"]
    assert page["items"][0]["inactive"] is True
    assert page["total"] == 1
    rest = client.get(f"{API}/partnerships", headers=headers["officer"], query_string={"inactive": "false"}).get_json()
    assert names(rest) == ["Ladispoli", "Rejon Łucki", "Zugdidi"]
    assert not any(p["inactive"] for p in rest["items"])


# --- the list: paging -------------------------------------------------------------------------


def test_list_pages_with_limit_and_offset(client, headers, bulk_register):
    """limit and offset page through the ordered list; total is the whole count on every page."""
    bulk_register(5)
    seen = []
    for offset in (0, 2, 4, 6):
        page = client.get(
            f"{API}/partnerships", headers=headers["officer"], query_string={"limit": 2, "offset": offset}
        ).get_json()
        assert page["total"] == 5
        assert len(page["items"]) == min(2, max(0, 5 - offset))
        seen += names(page)
    assert seen == [f"Partner {i:04d}" for i in range(5)]


def test_list_limit_defaults_to_50(client, headers, bulk_register):
    """Without limit a page holds 50 partnerships."""
    bulk_register(51)
    page = client.get(f"{API}/partnerships", headers=headers["officer"]).get_json()
    assert len(page["items"]) == 50
    assert page["total"] == 51
    last = client.get(f"{API}/partnerships", headers=headers["officer"], query_string={"offset": 50}).get_json()
    assert names(last) == ["Partner 0050"]


def test_list_limit_is_capped_at_1000(client, headers, bulk_register):
    """A limit above 1000 gives pages of 1000."""
    bulk_register(1001)
    for limit in (1001, 5000, 10**30):
        page = client.get(f"{API}/partnerships", headers=headers["officer"], query_string={"limit": limit}).get_json()
        assert len(page["items"]) == 1000
        assert page["total"] == 1001


def test_list_offset_past_the_end_is_an_empty_page(client, headers, bar):
    """An offset past the end (however large) answers an empty page with the total."""
    for offset in ("1", "1000000", str(10**30), "9" * 5000):
        page = client.get(f"{API}/partnerships", headers=headers["officer"], query_string={"offset": offset})
        assert page.status_code == 200
        assert page.get_json() == {"items": [], "total": 1}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "sleeping"),
        ("area", "space"),
        ("country", "POL"),
        ("country", "1"),
        ("inactive", "maybe"),
        ("limit", "0"),
        ("limit", "-1"),
        ("limit", "ten"),
        ("limit", "1.5"),
        ("offset", "-1"),
        ("offset", "x"),
    ],
)
def test_list_bad_query_is_422_naming_the_parameter(client, services, headers, name, value):
    """A bad filter or paging value is 422 naming the parameter."""
    with nothing_recorded(services, client):
        response = client.get(f"{API}/partnerships", headers=headers["officer"], query_string={name: value})
        assert_error(response, 422, name)


# --- read your writes -------------------------------------------------------------------------


def test_writes_are_read_back_at_once(client, headers, services):
    """The 201 answer reflects the write, and the next GET (one and list) shows it."""
    officer = headers["officer"]
    created = register(client, officer, partner_name="Ladispoli", partner_country="IT", partner_kind="city")
    assert get_partnership(client, officer, created["id"]) == created
    pid = created["id"]

    event = record(client, officer, pid, "letter_of_intent_signed", "2019-05-01", signatories=["A", "B"])
    assert event["version"] == 2
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"], doc["version"], doc["last_activity_on"]) == (
        "intent",
        "2019-05-01",
        2,
        "2019-05-01",
    )

    record(client, officer, pid, "school_joined", "2019-09-02", school_name="Liceo Ladispoli", side="partner")
    record(
        client, officer, pid, "school_joined", "2019-09-03", school_name="LO Piaseczno", side="local", town="Piaseczno"
    )
    doc = get_partnership(client, officer, pid)
    assert doc["schools"] == [
        {"name": "Liceo Ladispoli", "side": "partner", "town": None},
        {"name": "LO Piaseczno", "side": "local", "town": "Piaseczno"},
    ]
    assert doc["version"] == 4
    assert doc["last_activity_on"] == "2019-09-03"

    record(client, officer, pid, "agreement_signed", "2020-02-02", agreement_kind="partnership", areas=["education"])
    doc = get_partnership(client, officer, pid)
    assert (doc["status"], doc["status_since"], doc["version"]) == ("active", "2020-02-02", 5)
    assert "education" in doc["areas"]
    listed = client.get(f"{API}/partnerships", headers=officer, query_string={"status": "active"}).get_json()
    assert listed["items"] == [doc]
    events = client.get(f"{API}/partnerships/{pid}/events", headers=officer).get_json()["items"]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert health_position(client) == log_position(services) == 5
