"""The officer's forms: register, one per event type, retract. Each validates with the API's own schema, shows
the error next to its field, keeps what was typed and records nothing when refused; other roles are refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient

from application.services import Services
from projections import queries
from web.schemas import EVENT_SCHEMAS, RegisterPartnershipSchema
from web.ui.partnerships import FORM_TYPES, NOT_ASKED

from .helpers import csrf_token, log_position, post_and_confirm, post_form, record, register

#: What an officer types into each event's form (besides the date), and what the API then holds.
TYPED: dict[str, tuple[dict[str, object], dict[str, object]]] = {
    "letter_of_intent_signed": (
        {"signatories": "Starosta Piaseczyński\r\n\r\nMer Baru\r\n"},
        {"signatories": ["Starosta Piaseczyński", "Mer Baru"]},
    ),
    "agreement_signed": (
        {"agreement_kind": "partnership", "parties": "Powiat Piaseczyński\nBar", "areas": ["sport", "culture"]},
        {"agreement_kind": "partnership", "parties": ["Powiat Piaseczyński", "Bar"], "areas": ["sport", "culture"]},
    ),
    "council_resolution_adopted": (
        {
            "purpose": "establish",
            "resolution_number": "XXV/4/09",
            "body": "Rada Powiatu",
            "reference": "",
            "note": "   ",
        },
        {"purpose": "establish", "resolution_number": "XXV/4/09", "body": "Rada Powiatu"},
    ),
    "school_joined": (
        {"school_name": "LO im. Kopernika", "side": "local", "town": "Piaseczno"},
        {"school_name": "LO im. Kopernika", "side": "local", "town": "Piaseczno"},
    ),
    "youth_exchange_planned": (
        {"planned_for": "2030-07-01", "description": "Obóz letni"},
        {"planned_for": "2030-07-01", "description": "Obóz letni"},
    ),
    "youth_exchange_held": (
        {"ends_on": "2020-07-10", "participants": "24", "host_town": "Bar", "schools": "LO Bar"},
        {"ends_on": "2020-07-10", "participants": 24, "host_town": "Bar", "schools": ["LO Bar"]},
    ),
    "activity_held": (
        {"activity_kind": "visit", "title": "Wizyta studyjna", "reference": "OR.1.2020"},
        {"activity_kind": "visit", "title": "Wizyta studyjna", "reference": "OR.1.2020"},
    ),
    "cooperation_suspended": ({"reason": "Wybory"}, {"reason": "Wybory"}),
    "cooperation_resumed": ({"reason": "Nowa rada"}, {"reason": "Nowa rada"}),
    "partnership_terminated": ({"reason": "Połączenie gmin"}, {"reason": "Połączenie gmin"}),
    "note_added": ({"text": "Zapis z posiedzenia", "note": "ok"}, {"text": "Zapis z posiedzenia", "note": "ok"}),
    "partner_renamed": ({"partner_name": "Opština Bar"}, {"partner_name": "Opština Bar"}),
    "inactivity_period_set": ({"days": "1095"}, {"days": 1095}),
}
#: What the partnership must have gone through for the event to be allowed.
BEFORE = {"cooperation_suspended": ["agreement_signed"], "cooperation_resumed": ["agreement_signed", "suspended"]}


def field_names(html: str) -> set[str]:
    form = html.split('class="record-form"', 1)[1].split("</form>", 1)[0]
    return set(re.findall(r'name="([a-z_]+)"', form)) - {"csrf_token", "form_nonce"}


def test_every_event_type_but_the_systems_has_a_form() -> None:
    assert set(FORM_TYPES) == set(EVENT_SCHEMAS) - {"event_retracted"} == set(TYPED)


@pytest.mark.parametrize("event_type", FORM_TYPES)
def test_each_form_has_the_schemas_fields_with_labels(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str, event_type: str
) -> None:
    """The form's inputs are the schema's fields (but a resolution's reference, which is its number; an exchange
    picks the partnership's schools and has a box for others), each with a label; the date defaults to today."""
    html = signed_in("officer").get(f"/partnerships/{bar}/record/{event_type}").get_data(as_text=True)
    expected = set(EVENT_SCHEMAS[event_type]._declared_fields) - set(NOT_ASKED.get(event_type, ()))
    assert field_names(html) == expected | ({"schools_other"} if event_type == "youth_exchange_held" else set())
    for input_id in re.findall(r'<(?:input|select|textarea) [^>]*id="(f-[a-z_]+)"', html):
        assert f'<label for="{input_id}">' in html, input_id
    assert f'id="f-occurred_on" name="occurred_on" value="{services.today().isoformat()}"' in html


@pytest.mark.parametrize("event_type", FORM_TYPES)
def test_record_each_kind_of_event(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str, event_type: str
) -> None:
    pid = register(services, "Gmina Testowa", "DE")
    for step in BEFORE.get(event_type, []):
        if step == "suspended":
            record(services, pid, "cooperation_suspended", date(2020, 1, 2), reason="x")
        else:
            record(services, pid, step, date(2020, 1, 1), agreement_kind="partnership")
    typed, held = TYPED[event_type]
    officer = signed_in("officer")
    path = f"/partnerships/{pid}/record/{event_type}"
    response = post_and_confirm(officer, path, {"occurred_on": "2020-06-01", **typed})
    assert response.status_code == 302, response.get_data(as_text=True)
    event = queries.list_events(services.db, pid)[-1]
    assert response.headers["Location"] == f"/partnerships/{pid}#event-{event['version']}"
    assert event["type"] == event_type and event["recorded_by"] == "ala" and event["occurred_on"] == "2020-06-01"
    assert event["data"] == held
    page = officer.get(f"/partnerships/{pid}").get_data(as_text=True)
    assert "Zapisano: " in page


def test_register_a_partnership(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    officer = signed_in("officer")
    html = officer.get("/partnerships/new").get_data(as_text=True)
    assert field_names(html) == set(RegisterPartnershipSchema._declared_fields)
    assert 'value="Powiat Piaseczyński"' in html and '<option value="ME">Czarnogóra</option>' in html
    response = post_and_confirm(
        officer,
        "/partnerships/new",
        {
            "partner_name": "Gmina Gurjaani",
            "partner_country": "GE",
            "partner_kind": "municipality",
            "local_party": "Powiat Piaseczyński",
            "areas": ["education", "culture"],
            "occurred_on": "2018-09-20",
            "description": "",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#event-1")
    pid = response.headers["Location"].split("#")[0].rsplit("/", 1)[1]
    doc = queries.get_partnership(services.db, pid, services.clock())
    assert doc["partner_name"] == "Gmina Gurjaani" and doc["partner_country"] == "GE"
    assert doc["areas"] == ["education", "culture"] and doc["status_since"] == "2018-09-20"
    assert doc["description"] is None
    assert "Partnerstwo zostało zarejestrowane." in officer.get(f"/partnerships/{pid}").get_data(as_text=True)


def test_a_refused_registration_names_the_fields_and_keeps_what_was_typed(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    officer = signed_in("officer")
    before = log_position(services)
    response = post_form(
        officer,
        "/partnerships/new",
        {"partner_name": "  ", "partner_country": "XX", "partner_kind": "city", "areas": ["sport"], "note": "Ważne"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-partner_name-error"' in html and "To pole jest wymagane." in html
    assert 'id="f-partner_country-error"' in html and "Wybierz kraj z listy." in html
    assert re.search(r'id="f-partner_name"[^>]*aria-describedby="f-partner_name-error" aria-invalid="true"', html)
    assert '<option value="city" selected>' in html and 'value="sport" checked' in html
    assert ">Ważne</textarea>" in html
    assert '<a href="#f-partner_name">' in html  # the summary links to the field
    assert log_position(services) == before


def test_a_validation_error_shows_next_to_the_field_and_records_nothing(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    officer = signed_in("officer")
    before = log_position(services)
    typed = {"occurred_on": "2020-07-12", "ends_on": "2020-07-10", "participants": "dwadzieścia", "host_town": "Bar"}
    response = post_form(officer, f"/partnerships/{bar}/record/youth_exchange_held", typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Podaj liczbę całkowitą." in html and 'id="f-participants-error"' in html
    assert 'value="dwadzieścia"' in html and 'value="Bar"' in html and 'value="2020-07-10"' in html
    # the date order in the same round, not only after the number is fixed
    assert 'id="f-ends_on-error"' in html and "Nie może być wcześniej niż dzień rozpoczęcia." in html
    assert log_position(services) == before


def test_dates_as_the_office_writes_them_are_taken_and_a_day_not_in_the_calendar_is_named(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """10.07.2020 and 07.2020 are read as the day and the month; 30.02.2020 is refused as no such day (not as
    a wrongly written date), with what was typed shown again, and nothing recorded."""
    officer = signed_in("officer")
    before = log_position(services)
    review = post_form(officer, f"/partnerships/{bar}/record/note_added", {"occurred_on": "10.07.2020", "text": "x"})
    assert review.status_code == 200 and "10 lipca 2020" in review.get_data(as_text=True)
    month = post_form(officer, f"/partnerships/{bar}/record/note_added", {"occurred_on": "07.2020", "text": "x"})
    assert month.status_code == 200 and "lipiec 2020" in month.get_data(as_text=True)
    refused = post_form(officer, f"/partnerships/{bar}/record/note_added", {"occurred_on": "30.02.2020", "text": "x"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="f-occurred_on-error"' in html
    assert "Nie ma takiego dnia (ani miesiąca) w kalendarzu." in html and 'value="30.02.2020"' in html
    assert log_position(services) == before
    done = post_and_confirm(officer, f"/partnerships/{bar}/record/note_added", {"occurred_on": "1.7.2020", "text": "y"})
    assert done.status_code == 302
    assert queries.list_events(services.db, bar)[-1]["occurred_on"] == "2020-07-01"


def test_the_domains_refusals_are_shown_too(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """A date after today (the domain's 422) next to the date; a conflict with the state (409) above the form."""
    officer = signed_in("officer")
    before = log_position(services)
    tomorrow = (services.today() + timedelta(days=1)).isoformat()
    response = post_form(officer, f"/partnerships/{bar}/record/note_added", {"occurred_on": tomorrow, "text": "x"})
    assert response.status_code == 422
    assert 'id="f-occurred_on-error"' in response.get_data(as_text=True)
    response = post_form(
        officer, f"/partnerships/{bar}/record/cooperation_suspended", {"occurred_on": "2020-01-01", "reason": "x"}
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "jest niedozwolony, gdy partnerstwo ma status „Zawieszone”" in html and 'role="alert"' in html
    assert log_position(services) == before


def test_in_english_the_errors_are_english(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    officer = signed_in("officer", lang="en")
    response = post_form(officer, f"/partnerships/{bar}/record/note_added", {"occurred_on": "1 Jan 2020"})
    html = response.get_data(as_text=True)
    assert "Give a day (YYYY-MM-DD), a month (YYYY-MM) or a year (YYYY)." in html and "Required." in html


def test_retract_asks_for_a_reason(signed_in: Callable[..., FlaskClient], services: Services, bar: str) -> None:
    officer = signed_in("officer")
    page = officer.get(f"/partnerships/{bar}/events/4/retract")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Liceum im. Kopernika" in html and field_names(html) == {"reason"}  # dated today by the server
    before = log_position(services)
    refused = post_form(officer, f"/partnerships/{bar}/events/4/retract", {})
    assert refused.status_code == 422 and 'id="f-reason-error"' in refused.get_data(as_text=True)
    assert log_position(services) == before
    done = post_and_confirm(officer, f"/partnerships/{bar}/events/4/retract", {"reason": "Błąd"})
    assert done.status_code == 302
    event = queries.get_event(services.db, bar, 4)
    assert event["retracted"] and event["retraction_reason"] == "Błąd"
    retraction = queries.list_events(services.db, bar)[-1]
    assert retraction["occurred_on"] == services.today().isoformat() and done.headers["Location"].endswith(
        f"#event-{retraction['version']}"
    )


def test_what_cannot_be_retracted(signed_in: Callable[..., FlaskClient], services: Services, bar: str) -> None:
    officer = signed_in("officer")
    before = log_position(services)
    registration = post_form(
        officer, f"/partnerships/{bar}/events/1/retract", {"occurred_on": "2020-01-01", "reason": "x"}
    )
    assert registration.status_code == 409
    assert "Rejestracji nie można wycofać." in registration.get_data(as_text=True)
    assert officer.get(f"/partnerships/{bar}/events/99/retract").status_code == 404
    assert log_position(services) == before


def test_unknown_forms_are_404(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    officer = signed_in("officer")
    for event_type in ("inactivity_flagged", "partnership_registered", "event_retracted", "nonsense"):
        assert officer.get(f"/partnerships/{bar}/record/{event_type}").status_code == 404


@pytest.mark.parametrize("role", ["auditor", "manager"])
def test_other_roles_may_not_write(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str, role: str
) -> None:
    """The forms are refused (403) on GET and POST alike, and nothing is recorded."""
    client = signed_in(role)
    token = csrf_token(client.get("/").get_data(as_text=True))
    before = log_position(services)
    for path, data in (
        ("/partnerships/new", {"partner_name": "X", "partner_country": "IT", "partner_kind": "city"}),
        (f"/partnerships/{bar}/record/note_added", {"occurred_on": "2020-01-01", "text": "x"}),
        (f"/partnerships/{bar}/events/2/retract", {"occurred_on": "2020-01-01", "reason": "x"}),
    ):
        assert client.get(path).status_code == 403
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403
        assert "Nie masz do tego uprawnień" in response.get_data(as_text=True)
    assert log_position(services) == before


def test_admins_may_write(signed_in: Callable[..., FlaskClient], services: Services, bar: str) -> None:
    admin = signed_in("admin")
    response = post_and_confirm(
        admin, f"/partnerships/{bar}/record/note_added", {"occurred_on": "2020-01-01", "text": "x"}
    )
    assert response.status_code == 302
    assert queries.list_events(services.db, bar)[-1]["recorded_by"] == "root"
