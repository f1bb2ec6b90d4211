"""The dashboard: counts by status, the list with badges, country names, last activity and the inactive mark,
filters and paging, the activity chart, and the manager's open reminders."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

from flask.testing import FlaskClient

from application.services import Services
from projections import queries

from .helpers import csrf_token, log_position, record, register


def rows(html: str) -> list[str]:
    """The partner names listed in the dashboard's table, in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r'<th scope="row"><a href="/partnerships/[^"]+">([^<]+)</a>', body)


def test_dashboard_shows_counts_badges_countries_and_last_activity(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    gurjaani = register(services, "Gmina Gurjaani", "GE")
    record(services, gurjaani, "agreement_signed", date(2018, 9, 20), agreement_kind="partnership")
    register(services, "Roma", "IT")
    html = signed_in("auditor").get("/").get_data(as_text=True)
    assert rows(html) == ["Gmina Gurjaani", "Miasto Bar", "Roma"]
    counts = {s: n for n, s in re.findall(r'<span class="count">(\d+)</span> <span class="badge badge-(\w+)">', html)}
    assert counts == {"proposed": "1", "intent": "0", "active": "1", "suspended": "1", "terminated": "0"}
    assert "Gruzja" in html and "Czarnogóra" in html and "Włochy" in html  # names, not codes
    assert '<span class="badge badge-suspended">Zawieszone</span>' in html
    assert '<time datetime="2018-09-20">20 wrz 2018</time> <span class="badge badge-inactive">' in html


def test_dashboard_in_english_names_countries_in_english(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    html = signed_in("officer", lang="en-GB,en;q=0.9").get("/").get_data(as_text=True)
    assert "Montenegro" in html and "Suspended" in html and '<html lang="en">' in html


def test_filters_by_status_country_area_text_and_inactivity(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    gurjaani = register(services, "Gmina Gurjaani", "GE", areas=["education"])
    record(services, gurjaani, "agreement_signed", date(2018, 9, 20), agreement_kind="partnership")
    register(services, "Ladispoli", "IT", areas=["sport"])
    today = services.today()
    fresh = register(services, "Nowogród Wołyński", "UA", areas=["education"])
    record(services, fresh, "letter_of_intent_signed", today - timedelta(days=3))
    client = signed_in("officer")

    def names(**query: str) -> list[str]:
        response = client.get("/", query_string=query)
        assert response.status_code == 200
        return rows(response.get_data(as_text=True))

    assert names(status="suspended") == ["Miasto Bar"]
    assert names(country="IT") == ["Ladispoli"]
    assert names(country="ge") == ["Gmina Gurjaani"]
    assert names(area="education") == ["Gmina Gurjaani", "Nowogród Wołyński"]
    assert names(q="wołyń") == ["Nowogród Wołyński"]
    assert names(inactive="1") == ["Gmina Gurjaani"]
    assert names(area="education", status="intent") == ["Nowogród Wołyński"]
    html = client.get("/", query_string={"status": "active", "area": "sport"}).get_data(as_text=True)
    assert "Żadne partnerstwo nie pasuje." in html
    assert '<option value="active" selected>' in html  # the form shows the filters in use


def test_a_bad_filter_is_named_next_to_its_field(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    response = signed_in("officer").get("/", query_string={"status": "dormant", "country": "XX"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="filter-status-error"' in html and 'aria-describedby="filter-status-error"' in html
    assert 'id="filter-country-error"' in html
    assert rows(html) == ["Miasto Bar"]  # the bad filters are left out, the list still shows


def test_paging_keeps_the_filters(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    for i in range(25):
        services.tracker.register_partnership(
            {"partner_name": f"Partner {i:02d}", "partner_country": "IT", "partner_kind": "city", "local_party": "P"},
            recorded_by="ala",
            today=services.today(),
        )
    services.projection.catch_up()
    client = signed_in("manager")
    first = client.get("/", query_string={"country": "IT"}).get_data(as_text=True)
    assert rows(first) == [f"Partner {i:02d}" for i in range(20)]
    assert "Strona 1 z 2" in first
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
    assert "country=IT" in next_link and "page=2" in next_link
    second = client.get(next_link).get_data(as_text=True)
    assert rows(second) == [f"Partner {i:02d}" for i in range(20, 25)]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert rows(client.get("/?page=99").get_data(as_text=True)) == []
    assert rows(client.get("/?page=abc").get_data(as_text=True))[0] == "Partner 00"


def test_activity_chart_is_server_rendered_svg(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """Bars from the first year with activity through the current year (retracted events left out), with a table
    of the numbers."""
    version = record(services, bar, "activity_held", date(2012, 5, 5), activity_kind="visit", title="Wizyta")
    record(services, bar, "event_retracted", date(2013, 1, 1), retracts=version, reason="Pomyłka")
    assert queries.activity_per_year(services.db)[0] == {"year": 2009, "count": 1}
    html = signed_in("officer").get("/").get_data(as_text=True)
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and 'aria-labelledby="chart-svg-title"' in svg
    bars = re.findall(r"<title>(\d{4}): (\d+)</title>", svg)
    assert bars[:3] == [("2009", "1"), ("2010", "1"), ("2011", "2")]  # 2012's visit was retracted, 2019 is none
    silent = [(str(y), "0") for y in range(2012, services.today().year + 1)]
    assert bars[3:] == silent  # the silent years through this one
    assert "<script" not in html


def test_the_dashboard_without_any_partnership(signed_in: Callable[..., FlaskClient]) -> None:
    html = signed_in("officer").get("/").get_data(as_text=True)
    assert "Żadne partnerstwo nie pasuje." in html and "Nie zapisano jeszcze żadnej aktywności." in html


# --- reminders --------------------------------------------------------------------------------------


def flagged(services: Services, name: str = "Gmina Gurjaani") -> tuple[str, str]:
    """An inactive partnership flagged by the scan; returns (partnership id, reminder id)."""
    pid = register(services, name, "GE")
    record(services, pid, "agreement_signed", date(2018, 9, 20), agreement_kind="partnership")
    services.tracker.flag_inactivity(UUID(pid), today=services.today(), days=services.config.inactivity_days)
    services.projection.catch_up()
    reminder = queries.list_reminders(services.db, is_open=True)[0]
    return pid, reminder["id"]


def test_managers_see_open_reminders_and_acknowledge_one_with_a_note(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    pid, rid = flagged(services)
    manager = signed_in("manager")
    page = manager.get("/").get_data(as_text=True)
    assert "Otwarte przypomnienia" in page and "Brak aktywności" in page
    assert f'action="/reminders/{rid}/acknowledge"' in page
    assert f'<label for="note-{rid}">' in page
    response = manager.post(
        f"/reminders/{rid}/acknowledge", data={"note": "Dzwoniłem do partnera", "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    reminder = queries.get_reminder(services.db, rid)
    assert reminder["open"] is False
    assert reminder["acknowledged_by"] == "jan" and reminder["note"] == "Dzwoniłem do partnera"
    after = manager.get("/").get_data(as_text=True)
    assert "Przypomnienie zostało potwierdzone." in after and "Brak otwartych przypomnień." in after


def test_acknowledging_without_a_note_and_twice(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    _, rid = flagged(services)
    manager = signed_in("manager")
    token = csrf_token(manager.get("/").get_data(as_text=True))
    assert manager.post(f"/reminders/{rid}/acknowledge", data={"note": "  ", "csrf_token": token}).status_code == 302
    assert queries.get_reminder(services.db, rid)["note"] is None  # a blank note is no note
    before = log_position(services)
    again = manager.post(f"/reminders/{rid}/acknowledge", data={"csrf_token": token})
    assert again.status_code == 409
    assert "To przypomnienie zostało już potwierdzone." in again.get_data(as_text=True)
    assert log_position(services) == before


def test_a_double_click_on_acknowledge_acknowledges_once_and_both_land_on_the_reminders(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    """The same rendered form sent twice (its own key): the second lands where the first did, no 409."""
    _, rid = flagged(services)
    manager = signed_in("manager")
    page = manager.get("/").get_data(as_text=True)
    form = page.split(f'action="/reminders/{rid}/acknowledge"', 1)[1].split("</form>", 1)[0]
    sent = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert sent["form_key"] and sent["confirm"] == "1"
    before = log_position(services)
    first = manager.post(f"/reminders/{rid}/acknowledge", data={**sent, "note": "Dzwoniłem"})
    second = manager.post(f"/reminders/{rid}/acknowledge", data={**sent, "note": "Dzwoniłem"})
    assert first.status_code == 302 and second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"] and first.headers["Location"].endswith("#reminders")
    assert log_position(services) == before + 1
    # the browser shows the second answer's page: it says what the first did (the first's page never showed)
    other = signed_in("manager")  # a session that never saw the first answer's confirmation
    other_page = other.get("/").get_data(as_text=True)
    form = other_page.split(f'action="/reminders/{rid}/acknowledge"', 1)
    assert len(form) == 1  # acknowledged: the form is gone
    token = csrf_token(other_page)
    repeat = other.post(f"/reminders/{rid}/acknowledge", data={**sent, "csrf_token": token, "note": "Dzwoniłem"})
    assert repeat.status_code == 303
    assert "Przypomnienie zostało potwierdzone." in other.get(repeat.headers["Location"]).get_data(as_text=True)


def test_a_too_long_note_is_shown_next_to_its_field(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    _, rid = flagged(services)
    manager = signed_in("manager")
    token = csrf_token(manager.get("/").get_data(as_text=True))
    before = log_position(services)
    response = manager.post(f"/reminders/{rid}/acknowledge", data={"note": "x" * 2001, "csrf_token": token})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="note-{rid}-error"' in html and "Najwyżej 2000 znaków." in html
    assert f'aria-describedby="note-{rid}-error"' in html
    assert log_position(services) == before


def test_only_managers_may_acknowledge(signed_in: Callable[..., FlaskClient], services: Services) -> None:
    _, rid = flagged(services)
    before = log_position(services)
    for role in ("officer", "auditor"):
        client = signed_in(role)
        page = client.get("/").get_data(as_text=True)
        assert "/acknowledge" not in page
        response = client.post(f"/reminders/{rid}/acknowledge", data={"csrf_token": csrf_token(page)})
        assert response.status_code == 403
    assert log_position(services) == before
    admin = signed_in("admin")
    token = csrf_token(admin.get("/").get_data(as_text=True))
    assert admin.post(f"/reminders/{rid}/acknowledge", data={"csrf_token": token}).status_code == 302


def test_acknowledging_an_unknown_reminder_is_404(signed_in: Callable[..., FlaskClient]) -> None:
    manager = signed_in("manager")
    token = csrf_token(manager.get("/").get_data(as_text=True))
    assert manager.post("/reminders/nope/acknowledge", data={"csrf_token": token}).status_code == 404


def test_open_reminders_come_longest_silence_first_with_the_rule_and_the_last_check(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    """Sorted by when the silence began (an overdue exchange by its planned date), whatever order they opened in."""
    from application import jobs

    recent = register(services, "Gmina Późna", "GE")
    record(services, recent, "agreement_signed", date(2021, 5, 1), agreement_kind="partnership")
    planned = register(services, "Gmina Plan", "DE")
    record(services, planned, "agreement_signed", services.today(), agreement_kind="partnership")
    record(services, planned, "youth_exchange_planned", date(2020, 1, 1), planned_for="2020-06")
    oldest = register(services, "Gmina Dawna", "FR")
    record(services, oldest, "agreement_signed", date(2012, 7, 28), agreement_kind="partnership")
    for pid in (recent, planned, oldest):  # opened in this order, newest silence first
        services.flag_inactivity(UUID(pid), today=services.today())
    manager = signed_in("manager", lang="en-GB,en;q=0.9")
    html = manager.get("/").get_data(as_text=True)
    section = html.split('id="reminders"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'<h3><a href="/partnerships/[^"]+">([^<]+)</a></h3>', section) == [
        "Gmina Dawna",
        "Gmina Plan",
        "Gmina Późna",
    ]
    assert "after 365 days without activity, or its own period" in section
    assert "The inactivity check has not run yet." in section
    assert "days after the planned date" in section and "no activity for" in section

    jobs.scan_inactivity(services, services.today())  # flags nothing new, but it ran
    html = manager.get("/").get_data(as_text=True)
    assert "The inactivity check last ran <time datetime=" in html
    assert "It checked the register as of" not in html


def test_a_reminder_closed_by_later_activity_leaves_the_dashboard(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    pid, _rid = flagged(services)
    manager = signed_in("manager", lang="en-GB,en;q=0.9")
    assert "Gmina Gurjaani</a></h3>" in manager.get("/").get_data(as_text=True)
    record(services, pid, "activity_held", date(2025, 3, 1), activity_kind="visit", title="Wizyta")
    html = manager.get("/").get_data(as_text=True)
    assert "Gmina Gurjaani</a></h3>" not in html and "No open reminders." in html


def test_everyone_reads_the_inactivity_rule(signed_in: Callable[..., FlaskClient]) -> None:
    html = signed_in("officer").get("/").get_data(as_text=True)
    assert 'id="reminders"' not in html
    assert "365" in html.split('class="inactivity-rule"', 1)[1].split("</div>", 1)[0]
