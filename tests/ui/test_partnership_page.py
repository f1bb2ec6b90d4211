"""A partnership's page: its facts, status and since when, the timeline, and the page as it stood."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import time_machine
from flask.testing import FlaskClient

from application.services import Services

from .helpers import record, register


def timeline_headings(html: str) -> list[str]:
    section = html.split('id="timeline"', 1)[1]
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h3>(.*?)</h3>", section, re.DOTALL)]


def test_facts_status_schools_and_references(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    html = signed_in("auditor").get(f"/partnerships/{bar}").get_data(as_text=True)
    assert "<h1>Miasto Bar</h1>" in html and "Czarnogóra · Gmina" in html
    assert (
        '<span class="badge badge-suspended">Zawieszone</span> od <time datetime="2019-06-01">1 czerwca 2019</time>'
        in html
    )
    assert "Kultura" in html  # areas
    assert 'Liceum im. Kopernika</th><td data-label="Strona"><span>Nasza (lokalna)' in html
    assert 'Gimnazija Niko Rolović</th><td data-label="Strona"><span>Partnera' in html
    assert "XXV/4/09" in html and "OR.1.2010" in html  # the resolution's number and the agreement's reference
    assert "Nawiązanie partnerstwa" in html and ">establish<" not in html  # the purpose in words, not its code


def test_timeline_is_oldest_first_with_who_and_when(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """Business order: history entered late lands in its place; each entry says who recorded it and when."""
    record(services, bar, "note_added", date(2005, 1, 10), text="Pierwszy kontakt")
    html = signed_in("officer").get(f"/partnerships/{bar}").get_data(as_text=True)
    headings = timeline_headings(html)
    assert headings[0].startswith("27 marca 2009: Zarejestrowano partnerstwo")
    assert headings[1].startswith("10 stycznia 2005: Dodano notatkę")
    assert [h.split(": ")[1].split(" #")[0] for h in headings[2:]] == [
        "Podjęto uchwałę rady",
        "Podpisano umowę",
        "Dołączyła szkoła",
        "Dołączyła szkoła",
        "Zawieszono współpracę",
    ]
    assert html.count("Zapisał(a) ala, ") == 7


def test_retracted_events_are_struck_through_with_the_reason(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    record(services, bar, "event_retracted", date(2020, 1, 1), retracts=5, reason="Szkoła się wycofała")
    html = signed_in("officer").get(f"/partnerships/{bar}").get_data(as_text=True)
    item = html.split('id="event-5"', 1)[1].split("</li>", 1)[0]
    assert "Wycofano</strong> (wpis nr 7): Szkoła się wycofała" in item
    assert 'class="event retracted"' in html.split('id="event-5"', 1)[0].rsplit("<li", 1)[1]
    assert "Gimnazija Niko Rolović" not in html.split('id="schools-title"', 1)[1].split("</section>", 1)[0]
    assert "/events/5/retract" not in html and "/events/7/retract" not in html  # nothing left to retract there


def test_view_as_of_a_past_day(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    """As of 2010-12-31 Bar was active since the 2009 resolution, had no schools, and was not yet suspended."""
    response = signed_in("manager").get(f"/partnerships/{bar}", query_string={"as_of": "2010-12-31"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Stan na <time" in html
    assert '<span class="badge badge-active">Aktywne</span> od <time datetime="2009-03-27">' in html
    assert "Żadna szkoła jeszcze nie dołączyła." in html
    assert "Zawieszono współpracę" not in "".join(timeline_headings(html))
    assert 'value="2010-12-31"' in html


def test_view_as_known_at_a_past_moment(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    """What the register said before a late entry was recorded: the moment is office time."""
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        pid = register(services, "Gurjaani", "GE", occurred_on=date(2018, 9, 1))
    with time_machine.travel(start + timedelta(days=1), tick=False):
        record(services, pid, "agreement_signed", date(2018, 9, 20), agreement_kind="partnership")
    client = signed_in("auditor")
    before = client.get(f"/partnerships/{pid}", query_string={"known_at": "2026-03-02T12:00"}).get_data(as_text=True)
    assert "badge-proposed" in before and "Podpisano umowę" not in "".join(timeline_headings(before))
    after = client.get(f"/partnerships/{pid}", query_string={"known_at": "2026-03-03T12:00"}).get_data(as_text=True)
    assert "badge-active" in after
    both = client.get(f"/partnerships/{pid}", query_string={"as_of": "2018-09-10", "known_at": "2026-03-03T12:00:00"})
    assert "badge-proposed" in both.get_data(as_text=True)


def test_before_the_partnership_existed(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    response = signed_in("officer").get(f"/partnerships/{bar}", query_string={"as_of": "2001-01-01"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "W tym czasie partnerstwo jeszcze nie istniało." in html
    assert 'id="moment-as_of"' in html  # the control is still there to pick another day
    assert "/record/" not in html  # no write controls while looking at the past


def test_a_bad_moment_is_named_next_to_its_field(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    response = signed_in("officer").get(f"/partnerships/{bar}", query_string={"as_of": "2010-13-45", "known_at": "x"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="moment-as_of-error"' in html and 'id="moment-known_at-error"' in html
    assert 'aria-describedby="moment-hint moment-as_of-error" aria-invalid="true"' in html


def test_unknown_partnerships_are_404_pages(signed_in: Callable[..., FlaskClient]) -> None:
    client = signed_in("officer")
    for path in ("/partnerships/0b3c8d0e-6c4e-4b8e-9d1a-2f6b3a1c9e77", "/partnerships/not-a-uuid"):
        response = client.get(path)
        assert response.status_code == 404 and "Nie ma takiego partnerstwa." in response.get_data(as_text=True)


def test_only_officers_see_write_controls(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    officer = signed_in("officer").get(f"/partnerships/{bar}").get_data(as_text=True)
    assert f"/partnerships/{bar}/record/letter_of_intent_signed" in officer
    assert f"/partnerships/{bar}/events/2/retract" in officer
    assert "/events/1/retract" not in officer  # never the registration
    for role in ("auditor", "manager"):
        html = signed_in(role).get(f"/partnerships/{bar}").get_data(as_text=True)
        assert "/record/" not in html and "/retract" not in html
        assert re.findall(r'<form method="post" action="([^"]+)"', html) == ["/logout"]
