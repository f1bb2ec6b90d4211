"""The officer's save, as a public-service site does it: "check your answers" first (the entry and what it
would change, the API's dry run), then the entry appended once and the page landing on it with the confirmation
beside it; only the events allowed now offered; every problem of a form shown in one round."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from html import unescape

from flask.testing import FlaskClient

from application.services import Services
from projections import queries

from .helpers import csrf_token, log_position, post_and_confirm, post_form, register


def entry_html(html: str, version: int) -> str:
    """The timeline's <li> of one entry."""
    return html.split(f'id="event-{version}"', 1)[1].split("</li>", 1)[0]


def test_a_save_lands_on_the_new_entry_with_the_confirmation_beside_it(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    officer = signed_in("officer")
    response = post_and_confirm(
        officer, f"/partnerships/{bar}/record/note_added", {"occurred_on": "2012-03-04", "text": "Wizyta"}
    )
    version = queries.list_events(services.db, bar)[-1]["version"]
    assert response.status_code == 302
    assert response.headers["Location"] == f"/partnerships/{bar}#event-{version}"
    html = officer.get(f"/partnerships/{bar}").get_data(as_text=True)
    assert "Zapisano: Dodano notatkę." in entry_html(html, version)
    assert 'class="flashes"' not in html  # not at the top of the page, far from the entry
    assert "Zapisano: " not in officer.get(f"/partnerships/{bar}").get_data(as_text=True)  # shown once


def test_a_registration_lands_on_its_first_entry(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    officer = signed_in("officer")
    response = post_and_confirm(
        officer,
        "/partnerships/new",
        {"partner_name": "Gmina Gurjaani", "partner_country": "GE", "partner_kind": "municipality"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#event-1")
    html = officer.get(response.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert "Partnerstwo zostało zarejestrowane." in entry_html(html, 1)


GURJAANI = {
    "partner_name": "Gmina Gurjaani",
    "partner_country": "GE",
    "partner_kind": "municipality",
    "local_party": "Powiat Piaseczyński",
    "areas": ["education", "culture"],
    "occurred_on": "2018-09-20",
    "reference": "OR.0.2018",
}


def registered_named(services: Services, name: str) -> int:
    return sum(
        1 for p in queries.list_partnerships(services.db, services.clock())["items"] if p["partner_name"] == name
    )


def test_the_registration_review_shows_what_would_be_recorded_and_records_nothing(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    officer = signed_in("officer")
    before = log_position(services)
    review = post_form(officer, "/partnerships/new", GURJAANI)
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Sprawdź przed zarejestrowaniem partnerstwa" in html
    for shown in ("Gmina Gurjaani", "Gruzja", "Powiat Piaseczyński", "OR.0.2018", "20 września 2018"):
        assert shown in html, shown
    assert "Rejestracji nie można wycofać, można ją tylko zakończyć." in html
    assert 'id="possible-duplicates"' not in html  # nothing of that name yet
    assert '<input type="hidden" name="areas" value="education">' in html
    assert '<input type="hidden" name="areas" value="culture">' in html
    assert 'id="confirm"' in html and 'id="change"' in html and 'class="record-form"' not in html
    assert log_position(services) == before and registered_named(services, "Gmina Gurjaani") == 0


def test_change_goes_back_to_the_registration_form_with_the_values(signed_in: Callable[..., FlaskClient]) -> None:
    officer = signed_in("officer")
    back = post_form(officer, "/partnerships/new", {**GURJAANI, "note": "Do sprawdzenia", "change": "1"})
    html = back.get_data(as_text=True)
    assert back.status_code == 200 and 'class="record-form"' in html and 'class="error-summary"' not in html
    assert 'value="Gmina Gurjaani"' in html and '<option value="GE" selected>' in html
    assert 'value="culture" checked' in html and ">Do sprawdzenia</textarea>" in html


def test_confirming_a_registration_records_it_once(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    officer = signed_in("officer")
    before = log_position(services)
    assert post_and_confirm(officer, "/partnerships/new", GURJAANI).status_code == 302
    assert log_position(services) == before + 1 and registered_named(services, "Gmina Gurjaani") == 1
    (doc,) = [p for p in queries.list_partnerships(services.db, services.clock())["items"]]
    assert doc["areas"] == ["education", "culture"] and doc["local_party"] == "Powiat Piaseczyński"


def test_a_refused_registration_is_not_reviewed(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    """A date after today is the domain's refusal: the form again with it next to the field, nothing recorded."""
    officer = signed_in("officer")
    before = log_position(services)
    tomorrow = (services.today() + timedelta(days=1)).isoformat()
    for data in ({**GURJAANI, "occurred_on": tomorrow}, {**GURJAANI, "occurred_on": tomorrow, "confirm": "1"}):
        refused = post_form(officer, "/partnerships/new", data)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 422 and 'id="f-occurred_on-error"' in html and 'id="confirm"' not in html
    assert log_position(services) == before


def test_the_review_warns_of_a_partnership_of_that_name_in_that_country(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    """Case, diacritics and extra spaces aside; another country's namesake is no duplicate; confirming stays
    possible (a district and a town may share a name)."""
    existing = register(services, "Gmina Gurjaani", "GE")
    officer = signed_in("officer")
    before = log_position(services)
    for typed in ("gmina  gurjaani ", "GMÍNA GURJAANI"):
        html = post_form(officer, "/partnerships/new", {**GURJAANI, "partner_name": typed}).get_data(as_text=True)
        warning = html.split('id="possible-duplicates"', 1)[1].split("</div>", 1)[0]
        assert 'role="status"' in html.split('id="possible-duplicates"', 1)[0].rsplit("<div", 1)[1]
        assert f'<a href="/partnerships/{existing}">Gmina Gurjaani</a>' in warning, typed
        assert "Rejestracji nie można wycofać" in warning
    elsewhere = post_form(officer, "/partnerships/new", {**GURJAANI, "partner_country": "AM"}).get_data(as_text=True)
    assert 'id="possible-duplicates"' not in elsewhere
    assert log_position(services) == before
    assert post_and_confirm(officer, "/partnerships/new", GURJAANI).status_code == 302
    assert registered_named(services, "Gmina Gurjaani") == 2


def test_the_review_shows_the_entry_and_its_effect_and_records_nothing(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    officer = signed_in("officer")
    before = log_position(services)
    path = f"/partnerships/{bar}/record/council_resolution_adopted"
    typed = {"occurred_on": "2024-02-01", "purpose": "resume", "resolution_number": "IV/12/24"}
    review = post_form(officer, path, typed)
    assert review.status_code == 200
    html = review.get_data(as_text=True)
    assert "Sprawdź przed zapisaniem: Podjęto uchwałę rady" in html
    assert "IV/12/24" in html and "Status: Zawieszone → Aktywne" in html
    assert '<input type="hidden" name="resolution_number" value="IV/12/24">' in html
    assert '<input type="hidden" name="confirm" value="1">' in html and html.count('name="csrf_token"') >= 2
    assert ">Zapisz wpis</button>" in html and ">Zmień</button>" in html
    assert log_position(services) == before  # nothing appended by the review


def test_the_review_names_the_entries_a_back_dated_one_takes_the_effect_from(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """Terminated in 2015 (entered late): the 2019 suspension (#6) would no longer take effect."""
    review = post_form(
        signed_in("officer"),
        f"/partnerships/{bar}/record/partnership_terminated",
        {"occurred_on": "2015-01-01", "reason": "Połączenie gmin"},
    )
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Status: Aktywne → Zakończone" in html
    assert "Jego wcześniejsza data odebrałaby skutek wpisom zapisanym wcześniej" in html
    assert f'href="/partnerships/{bar}#event-6">#6</a>' in html


def test_no_change_of_status_is_said_too(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    html = post_form(
        signed_in("officer"), f"/partnerships/{bar}/record/note_added", {"occurred_on": "2020-01-01", "text": "x"}
    ).get_data(as_text=True)
    assert "Status pozostaje bez zmian: Zawieszone." in html


def test_confirming_records_once_and_change_goes_back_with_the_values(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    officer = signed_in("officer")
    path = f"/partnerships/{bar}/record/note_added"
    token = csrf_token(officer.get(path).get_data(as_text=True))
    back = officer.post(path, data={"occurred_on": "2020-01-01", "text": "Zmiana", "change": "1", "csrf_token": token})
    html = back.get_data(as_text=True)
    assert back.status_code == 200 and 'class="record-form"' in html and ">Zmiana</textarea>" in html
    assert 'class="error-summary"' not in html
    before = log_position(services)
    assert post_and_confirm(officer, path, {"occurred_on": "2020-01-01", "text": "Raz"}).status_code == 302
    assert log_position(services) == before + 1
    assert [e["data"].get("text") for e in queries.list_events(services.db, bar)].count("Raz") == 1


def confirmation_of(review_html: str) -> dict[str, list[str]]:
    """The hidden fields of the review page's "Record it" form, as the browser sends them."""
    confirm = (
        review_html.split('name="confirm"', 1)[0].rsplit("<form", 1)[1]
        + review_html.split('name="confirm"', 1)[1].split("</form>", 1)[0]
    )
    kept: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', confirm):
        kept.setdefault(name, []).append(unescape(value))
    return {**kept, "confirm": ["1"]}


def test_a_confirmation_sent_twice_records_once_and_both_land_on_the_entry(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """A double click on "Record it", or the page sent again after its answer was lost: the page's own key
    makes the second one find the first's entry instead of recording it again."""
    officer = signed_in("officer")
    path = f"/partnerships/{bar}/record/note_added"
    review = post_form(officer, path, {"occurred_on": "2020-01-01", "text": "Dwuklik"})
    confirmation = confirmation_of(review.get_data(as_text=True))
    assert confirmation["form_key"][0]
    before = log_position(services)
    first = officer.post(path, data=confirmation)
    second = officer.post(path, data=confirmation)
    assert first.status_code == 302 and second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"] and "#event-" in first.headers["Location"]
    assert log_position(services) == before + 1
    # another review of the same values is another page with another key: recorded again, as asked
    again = confirmation_of(
        post_form(officer, path, {"occurred_on": "2020-01-01", "text": "Dwuklik"}).get_data(as_text=True)
    )
    assert again["form_key"] != confirmation["form_key"]
    assert officer.post(path, data=again).status_code == 302 and log_position(services) == before + 2


def test_the_review_of_an_entry_already_in_the_log_says_so(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """Back, then the form sent again (a new review, a new key): the review names the identical entry already
    recorded, with a link to it, before anything is recorded twice. A different text is not warned about."""
    officer = signed_in("officer")
    path = f"/partnerships/{bar}/record/school_joined"
    typed = {"occurred_on": "2019-05", "school_name": "Szkoła Podstawowa nr 5 w Piasecznie", "side": "local"}
    first = officer.post(path, data=confirmation_of(post_form(officer, path, typed).get_data(as_text=True)))
    assert first.status_code == 302
    version = int(first.headers["Location"].rsplit("#event-", 1)[1])
    before = log_position(services)
    html = post_form(officer, path, typed).get_data(as_text=True)
    assert 'id="same-entries"' in html and "Ten sam wpis jest już w rejestrze" in html
    assert f'href="/partnerships/{bar}#event-{version}">#{version}</a>' in html
    assert log_position(services) == before
    other = post_form(officer, path, {**typed, "school_name": "Liceum nr 1"}).get_data(as_text=True)
    assert 'id="same-entries"' not in other


def test_a_registration_confirmed_twice_is_one_partnership(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    officer = signed_in("officer")
    fields = {"partner_name": "Gmina Kobuleti", "partner_country": "GE", "partner_kind": "municipality"}
    confirmation = confirmation_of(post_form(officer, "/partnerships/new", fields).get_data(as_text=True))
    before = log_position(services)
    first, second = (
        officer.post("/partnerships/new", data=confirmation),
        officer.post("/partnerships/new", data=confirmation),
    )
    assert second.headers["Location"] == first.headers["Location"]
    assert log_position(services) == before + 1


def test_a_confirmation_with_refused_values_goes_back_to_the_form(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    officer = signed_in("officer")
    path = f"/partnerships/{bar}/record/note_added"
    token = csrf_token(officer.get(path).get_data(as_text=True))
    before = log_position(services)
    refused = officer.post(path, data={"occurred_on": "2020-13-01", "text": "", "confirm": "1", "csrf_token": token})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'class="record-form"' in html
    assert 'id="f-occurred_on-error"' in html and 'id="f-text-error"' in html
    assert log_position(services) == before
    forged = officer.post(path, data={"occurred_on": "2020-01-01", "text": "x", "confirm": "1"})
    assert forged.status_code in (400, 403) and log_position(services) == before  # no CSRF token, no entry


def test_only_the_events_allowed_now_are_offered(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    """Bar is suspended: resume is offered, suspend only among the entries for earlier dates."""
    html = signed_in("officer").get(f"/partnerships/{bar}").get_data(as_text=True)
    offered, earlier = html.split('id="record-title"', 1)[1].split("<details", 1)
    earlier = earlier.split("</details>", 1)[0]
    assert "/record/cooperation_resumed" in offered and "/record/note_added" in offered
    assert "/record/letter_of_intent_signed" in offered  # allowed in every status
    assert "/record/cooperation_suspended" not in offered and "/record/cooperation_suspended" in earlier


def test_a_form_not_possible_now_says_so_up_front(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    officer = signed_in("officer")
    page = officer.get(f"/partnerships/{bar}/record/cooperation_suspended")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Niemożliwe przy obecnym statusie (Zawieszone)." in html
    assert html.index("Niemożliwe przy obecnym statusie") < html.index('class="record-form"')
    assert "Niemożliwe przy obecnym statusie" not in officer.get(f"/partnerships/{bar}/record/note_added").get_data(
        as_text=True
    )


def test_every_problem_is_shown_in_one_round(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """Missing fields, a date after today and an end before the start, together, each linked from the summary."""
    officer = signed_in("officer")
    before = log_position(services)
    tomorrow = (services.today() + timedelta(days=1)).isoformat()
    response = post_form(
        officer, f"/partnerships/{bar}/record/activity_held", {"occurred_on": tomorrow, "ends_on": "2020-01-01"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("occurred_on", "ends_on", "title", "activity_kind"):
        assert f'id="f-{name}-error"' in html, name
        assert f'<a href="#f-{name}">' in html, name
    assert "Nie może być wcześniej niż dzień rozpoczęcia." in html
    assert log_position(services) == before


def test_a_missing_field_and_the_status_conflict_come_together(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    response = post_form(
        signed_in("officer"), f"/partnerships/{bar}/record/cooperation_suspended", {"occurred_on": "2020-01-01"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="f-reason-error"' in html
    assert "jest niedozwolony, gdy partnerstwo ma status „Zawieszone”" in html
    assert html.count("jest niedozwolony, gdy partnerstwo") == 1  # once, not once per check


def test_the_retraction_asks_only_why_and_shows_what_the_partnership_would_become(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    officer = signed_in("officer")
    path = f"/partnerships/{bar}/events/6/retract"
    form = officer.get(path).get_data(as_text=True).split('class="record-form"', 1)[1].split("</form>", 1)[0]
    assert set(re.findall(r'name="([a-z_]+)"', form)) == {"csrf_token", "form_nonce", "reason"}
    before = log_position(services)
    review = post_form(officer, path, {"reason": "Zawieszenie wpisano omyłkowo"})
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Sprawdź przed wycofaniem wpisu nr 6" in html
    assert "Jakie stanie się partnerstwo" in html and "Status: Zawieszone → Aktywne" in html
    assert log_position(services) == before
    done = post_and_confirm(officer, path, {"reason": "Zawieszenie wpisano omyłkowo"})
    assert done.status_code == 302 and log_position(services) == before + 1
    version = queries.list_events(services.db, bar)[-1]["version"]
    assert done.headers["Location"].endswith(f"#event-{version}")
    html = officer.get(f"/partnerships/{bar}").get_data(as_text=True)
    assert "Wpis został wycofany." in entry_html(html, version)


def test_the_exchange_form_has_a_start_date_and_picks_the_partnerships_schools(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    officer = signed_in("officer")
    path = f"/partnerships/{bar}/record/youth_exchange_held"
    html = officer.get(path).get_data(as_text=True)
    assert re.search(r'<label for="f-occurred_on">Data rozpoczęcia', html)
    assert re.search(r'<label for="f-ends_on">Data zakończenia', html)
    assert 'type="checkbox" id="f-schools-0" name="schools" value="Liceum im. Kopernika"' in html
    assert 'value="Gimnazija Niko Rolović"' in html and 'name="schools_other"' in html
    typed = {"occurred_on": "2012-07-01", "schools": ["Liceum im. Kopernika"], "schools_other": "SP 2 Bar\n"}
    assert post_and_confirm(officer, path, typed).status_code == 302
    assert queries.list_events(services.db, bar)[-1]["data"]["schools"] == ["Liceum im. Kopernika", "SP 2 Bar"]


def test_the_resolution_form_asks_for_its_number_not_a_separate_reference(
    signed_in: Callable[..., FlaskClient], bar: str
) -> None:
    html = signed_in("officer").get(f"/partnerships/{bar}/record/council_resolution_adopted").get_data(as_text=True)
    assert 'name="resolution_number"' in html and 'name="reference"' not in html


def test_a_confirmation_answered_503_after_its_commit_lands_on_its_entry_when_sent_again(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """ "Record it" for a termination: the save commits, then the store fails (the page says 503: try again).
    The officer sends the page again: it finds the entry its first sending made (by the form's identity, kept
    with the event) and lands on it, rather than refusing a termination of a partnership now ended or
    recording a second one."""
    from integration.helpers import committed_then_failing

    officer = signed_in("officer")
    path = f"/partnerships/{bar}/record/partnership_terminated"
    review = post_form(officer, path, {"occurred_on": "2022-03-01", "reason": "Wojna"})
    confirmation = confirmation_of(review.get_data(as_text=True))
    with committed_then_failing(services):
        failed = officer.post(path, data=confirmation)
    assert failed.status_code == 503 and failed.headers["Retry-After"]
    before = log_position(services)
    again = officer.post(path, data=confirmation)
    assert again.status_code == 302, again.get_data(as_text=True)[:500]
    version = int(again.headers["Location"].rsplit("#event-", 1)[1])
    assert log_position(services) == before  # nothing recorded by the second sending
    types = [e["type"] for e in queries.list_events(services.db, bar)]
    assert types.count("partnership_terminated") == 1 and types.index("partnership_terminated") + 1 == version
    landed = officer.get(again.headers["Location"]).get_data(as_text=True)
    assert "Zapisano raz" in entry_html(landed, version)  # said beside the entry: it was recorded once


def test_a_confirmation_sent_while_its_first_sending_is_still_saving_is_told_to_wait_not_refused(
    signed_in: Callable[..., FlaskClient], services: Services, users: dict[str, str], bar: str, monkeypatch
) -> None:
    """The second click arrives while the first is still being saved (its key claimed, no answer yet) and the
    first takes longer than the second may wait: 503 "still being saved, reload in a moment" (Retry-After),
    not a conflict; nothing is recorded by the second."""
    from application.replies import fingerprint
    from web.ui import once as ui

    monkeypatch.setattr(ui, "REPEAT_WAIT", 0.3)
    officer = signed_in("officer")
    path = f"/partnerships/{bar}/record/note_added"
    confirmation = confirmation_of(post_form(officer, path, {"occurred_on": "2020-01-01", "text": "x"}).get_data(True))
    key = f"form:{confirmation['form_key'][0]}"
    assert services.replies.claim(users["officer"], key, fingerprint("POST", path, b"", b"")) is None  # the first
    before = log_position(services)
    second = officer.post(path, data=confirmation)
    assert second.status_code == 503 and second.headers["Retry-After"]
    assert "wciąż jest zapisywany" in second.get_data(as_text=True)
    assert log_position(services) == before


def test_a_review_page_shown_again_by_back_and_resend_records_once(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """The officer records a note, goes Back to the "check your answers" page and lets the browser send it
    again (the same form, the same values): that review has the same key, so "Record it" lands on the entry
    already made, saying so, and records nothing. Changed values, or the form opened anew, record again."""
    officer = signed_in("officer")
    path = f"/partnerships/{bar}/record/note_added"
    form_page = officer.get(path).get_data(as_text=True)
    nonce = re.search(r'name="form_nonce" value="([^"]+)"', form_page).group(1)
    typed = {"occurred_on": "2020-01-01", "text": "Wstecz i ponownie", "form_nonce": nonce}
    token = csrf_token(form_page)
    review = officer.post(path, data={**typed, "csrf_token": token}).get_data(as_text=True)
    before = log_position(services)
    first = officer.post(path, data=confirmation_of(review))
    assert first.status_code == 302 and log_position(services) == before + 1
    # Back: the browser sends the form again, and shows the review made from it
    shown_again = officer.post(path, data={**typed, "csrf_token": token}).get_data(as_text=True)
    assert confirmation_of(shown_again)["form_key"] == confirmation_of(review)["form_key"]
    resent = officer.post(path, data=confirmation_of(shown_again))
    assert resent.status_code == 303 and resent.headers["Location"] == first.headers["Location"]
    assert log_position(services) == before + 1
    version = int(first.headers["Location"].rsplit("#event-", 1)[1])
    assert "Zapisano raz" in entry_html(officer.get(resent.headers["Location"]).get_data(as_text=True), version)
    # "Change" keeps the form's nonce; a changed text is another entry, recorded
    changed = officer.post(path, data={**typed, "text": "Inna notatka", "csrf_token": token}).get_data(as_text=True)
    assert officer.post(path, data=confirmation_of(changed)).status_code == 302
    assert log_position(services) == before + 2
    # the form opened anew has a new nonce: the same values again are recorded again, as asked (after the warning)
    anew = post_form(officer, path, {**typed, "form_nonce": "another-opening"})
    assert "Ten sam wpis jest już w rejestrze" in anew.get_data(as_text=True)
    assert officer.post(path, data=confirmation_of(anew.get_data(as_text=True))).status_code == 302
    assert log_position(services) == before + 3


def test_change_keeps_the_forms_nonce(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    officer = signed_in("officer")
    path = f"/partnerships/{bar}/record/note_added"
    back = post_form(officer, path, {"occurred_on": "2020-01-01", "text": "x", "form_nonce": "nonce-1", "change": "1"})
    assert 'name="form_nonce" value="nonce-1"' in back.get_data(as_text=True)
