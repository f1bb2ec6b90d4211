"""The auditor's screens: the register as it stood on a day (as known at a moment), the log filtered by
partnership, user, type and dates in either order, a digest check that tells a mistyped digest from a changed
log, and the spreadsheet of the filtered entries (partner names, office times). Bad input: every problem at
once, linked from a summary, typed values shown back, and nothing recorded."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from application.services import Services
from domain.dates import BusinessDate
from projections import queries
from projections.audit import Report, check_chain, stored_entries

from .helpers import csrf_token, log_position, record, register

WARSAW = ZoneInfo("Europe/Warsaw")


def positions(html: str) -> list[int]:
    """The positions of the log table's rows, as shown."""
    if 'class="list log"' not in html:
        return []
    body = html.split('class="list log"', 1)[1].split("</tbody>", 1)[0]
    return [int(p) for p in re.findall(r'<th scope="row">(\d+)</th>', body)]


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return unescape(found.group(1)) if found else None


def register_rows(html: str) -> dict[str, str]:
    """Partner name -> the status label shown in the register table."""
    body = html.split('class="list register-at"', 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(
        r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>.*?class="badge badge-\w+">([^<]+)<', body, re.S
    )
    return dict(rows)


@pytest.fixture
def gurjaani(services: Services, bar: str) -> str:
    """Gurjaani, Georgia, registered after Bar's history: a year-dated letter and a month-dated activity."""
    pid = register(services, "Gmina Gurjaani", "GE", occurred_on=date(2015, 1, 1))
    record(services, pid, "letter_of_intent_signed", BusinessDate.parse("2016"))
    record(services, pid, "activity_held", BusinessDate.parse("2019-06"), activity_kind="visit", title="Wizyta")
    return pid


# --- the register as it stood -------------------------------------------------------------------------


def test_the_register_as_of_a_past_day_shows_each_status_as_it_stood(
    signed_in: Callable[..., FlaskClient], bar: str, gurjaani: str
) -> None:
    client = signed_in("auditor")
    now = client.get("/register").get_data(as_text=True)
    assert register_rows(now) == {"Gmina Gurjaani": "List intencyjny", "Miasto Bar": "Zawieszone"}
    then = client.get("/register?as_of=2012-01-01")
    html = then.get_data(as_text=True)
    assert then.status_code == 200
    assert register_rows(html) == {"Miasto Bar": "Aktywne"}  # Gurjaani did not exist yet, Bar not yet suspended
    assert "Istniało wtedy 1 partnerstwo." in html
    assert f'href="/partnerships/{bar}?as_of=2012-01-01"' in html  # its page at the same day
    assert 'value="2012-01-01"' in html


def test_the_register_as_known_at_a_moment_leaves_out_what_was_recorded_later(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str, gurjaani: str
) -> None:
    """Bar's last entry was recorded before Gurjaani's registration: at that moment only Bar was known."""
    last_of_bar = datetime.fromisoformat(queries.list_events(services.db, bar)[-1]["recorded_at"])
    typed = last_of_bar.astimezone(WARSAW).replace(tzinfo=None).isoformat()  # office time, as the input sends it
    html = signed_in("auditor").get("/register", query_string={"known_at": typed}).get_data(as_text=True)
    assert register_rows(html) == {"Miasto Bar": "Zawieszone"}
    assert "według wiedzy rejestru z" in html
    assert f'href="/partnerships/{bar}?as_of={services.today().isoformat()}&amp;known_at=' in html


def test_a_moment_still_to_come_is_said_to_know_only_what_is_recorded_now(
    signed_in: Callable[..., FlaskClient], bar: str
) -> None:
    client = signed_in("auditor")
    later = client.get("/register", query_string={"known_at": "2999-01-01T10:00"}).get_data(as_text=True)
    assert "Ta chwila jeszcze nie nadeszła" in later and register_rows(later) == {"Miasto Bar": "Zawieszone"}
    assert "Ta chwila jeszcze nie nadeszła" not in client.get("/register").get_data(as_text=True)


def test_the_register_refuses_bad_input_with_a_summary_and_shows_what_was_typed(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    before = log_position(services)
    response = signed_in("auditor").get("/register?as_of=2019-13-45&known_at=wczoraj")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#register-as_of"' in summary and 'href="#register-known_at"' in summary
    assert "Podaj dzień (RRRR-MM-DD), miesiąc (RRRR-MM) lub rok (RRRR)." in summary
    assert 'type="text" id="register-as_of" name="as_of" value="2019-13-45"' in html
    assert 'type="text" id="register-known_at" name="known_at" value="wczoraj"' in html
    assert 'id="register-as_of-error"' in html and 'aria-invalid="true"' in html
    assert "register-at" not in html and "Miasto Bar" not in html  # nothing else shown
    assert log_position(services) == before


@pytest.mark.parametrize("role", ["officer", "manager", "admin"])
def test_everyone_who_may_read_sees_the_register_as_the_api_does(
    signed_in: Callable[..., FlaskClient], client: FlaskClient, bar: str, role: str
) -> None:
    assert signed_in(role).get("/register?as_of=2010").status_code == 200
    assert client.get("/register").status_code == 302  # anonymous: the login page


# --- the log, filtered --------------------------------------------------------------------------------


def test_the_log_filters_by_partnership_and_type_newest_first(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str, gurjaani: str
) -> None:
    client = signed_in("auditor")
    html = client.get(f"/audit/?partnership={bar}&type=school_joined&order=newest").get_data(as_text=True)
    schools = [e["position"] for e in queries.log_page(services.db)["items"] if e["type"] == "school_joined"]
    assert positions(html) == sorted(schools, reverse=True) and len(schools) == 2
    found = html.split('id="log-found"', 1)[1].split("</p>", 1)[0]
    assert "2 wpisy pasują do filtra (Partnerstwo: Miasto Bar" in found and "Dołączyła szkoła" in found
    assert "Od najnowszych" in found
    assert f'<option value="{bar}" selected>Miasto Bar</option>' in html
    assert f"/audit/export.xlsx?partnership={bar}&amp;type=school_joined&amp;order=newest" in html


def test_the_log_filters_by_user_and_by_record_day(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    client = signed_in("auditor")
    today = datetime.now(WARSAW).date()
    assert positions(client.get("/audit/?recorded_by=ala").get_data(as_text=True)) == [1, 2, 3, 4, 5, 6]
    assert positions(client.get("/audit/?recorded_by=system").get_data(as_text=True)) == []
    assert len(positions(client.get(f"/audit/?recorded_from={today}&recorded_to={today}").get_data(as_text=True))) == 6
    earlier = client.get(f"/audit/?recorded_to={today.replace(year=today.year - 1)}").get_data(as_text=True)
    assert positions(earlier) == [] and "Żaden wpis nie pasuje do filtra." in earlier


def test_business_dates_filter_at_their_own_precision(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str, gurjaani: str
) -> None:
    """A visit dated only "2019-06" overlaps June 2019's second half; a letter dated "2016" overlaps 2016-05."""
    client = signed_in("auditor")
    june = client.get("/audit/?occurred_from=2019-06-15&occurred_to=2019-06-30").get_data(as_text=True)
    by_position = {e["position"]: e for e in queries.log_page(services.db)["items"]}
    assert [by_position[p]["occurred_on"] for p in positions(june)] == ["2019-06"]  # not Bar's suspension of June 1
    may = client.get("/audit/?occurred_from=2016-05&occurred_to=2016-05").get_data(as_text=True)
    assert [by_position[p]["occurred_on"] for p in positions(may)] == ["2016"]
    years = client.get("/audit/?occurred_from=2010&occurred_to=2011").get_data(as_text=True)
    assert [by_position[p]["occurred_on"] for p in positions(years)] == ["2010-05-14", "2011-09-01", "2011-09-02"]


def test_filtered_pages_follow_each_other_both_ways_in_either_order(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    for i in range(60):
        register(services, f"Gmina {i:02d}", "UA")
        record(services, bar, "note_added", date(2020, 1, 1), text=f"Notatka {i}")
    notes = [e["position"] for e in queries.iter_log(services.db, queries.LogFilter(type="note_added"))]
    client = signed_in("auditor")
    for order, expected in (("oldest", notes), ("newest", notes[::-1])):
        first = client.get(f"/audit/?type=note_added&order={order}").get_data(as_text=True)
        assert positions(first) == expected[:50] and link(first, "prev") is None
        assert "type=note_added" in link(first, "next")  # the pager keeps the filter
        second = client.get(link(first, "next")).get_data(as_text=True)
        assert positions(second) == expected[50:] and link(second, "next") is None
        back = client.get(link(second, "prev")).get_data(as_text=True)
        assert positions(back) == expected[:50]


def test_bad_filters_are_all_named_at_once_and_nothing_else_is_shown(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    before = log_position(services)
    response = signed_in("auditor").get(
        "/audit/?partnership=nie-ma&occurred_from=2019-13&recorded_from=2026-02-01&recorded_to=2026-01&type=x"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    for name in ("partnership", "type", "occurred_from", "recorded_to"):
        assert f'href="#log-{name}"' in summary, name
    assert "Nie może być wcześniej niż „Zapis od”." in summary
    assert 'type="text" id="log-occurred_from" name="occurred_from" value="2019-13"' in html
    assert 'type="text" id="log-recorded_to" name="recorded_to" value="2026-01"' in html
    assert positions(html) == [] and "export.xlsx" not in html
    assert log_position(services) == before


# --- the digest check ---------------------------------------------------------------------------------


def verify(client: FlaskClient, digest: str) -> str:
    token = csrf_token(client.get("/audit/").get_data(as_text=True))
    return client.post("/audit/verify", data={"csrf_token": token, "digest": digest}).get_data(as_text=True)


def test_a_mistyped_digest_is_not_a_digest_of_this_log_not_a_broken_log(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    client = signed_in("auditor")
    head = queries.head(services.db)
    typo = head["hash"][:10] + ("0" if head["hash"][10] != "0" else "1") + head["hash"][11:]
    html = verify(client, f"{head['position']}:{typo}")
    report = html.split('class="report', 1)[1].split("</div>", 1)[0]
    assert "To nie jest skrót tego dziennika." in report and "tylko liczbą znaków: 1" in report
    assert "Sam dziennik jest nienaruszony" in report and "Naruszony" not in report
    assert 'lang="en"' not in report and "not a digest" not in report  # no English on the Polish page
    third = queries.log_page(services.db)["items"][2]["hash"]
    wrong_position = verify(client, f"4:{third}")
    assert "To nie jest skrót tego dziennika." in wrong_position and "na pozycji 3, a nie 4" in wrong_position


def test_a_digest_of_an_earlier_state_shows_a_changed_log(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """A digest nothing like the log's hash at its position: the log up to it has changed (or is not this one)."""
    html = verify(signed_in("auditor"), f"3:{'ab' * 32}")
    report = html.split('class="report', 1)[1].split("</div>", 1)[0]
    assert "Naruszony na pozycji 3." in report
    assert "dziennik do pozycji zachowanego skrótu zmienił się od czasu jego zapisania albo ten skrót nie" in report
    assert "To nie jest skrót" not in report
    beyond = verify(signed_in("auditor"), f"99:{'ab' * 32}")
    assert "dziennik kończy się na pozycji 6, przed pozycją zachowanego skrótu" in beyond


def test_the_chain_check_names_each_kind_of_digest_mismatch(services: Services, bar: str) -> None:
    entries = list(stored_entries(services.tracker))
    h5 = entries[4]["hash"]

    def codes(digest: tuple[int, str]) -> list[tuple[int, str]]:
        report = Report()
        check_chain(entries, report, digest)
        return [(p["position"], p["code"]) for p in report.as_dict()["problems"]]

    assert codes((5, h5)) == []
    assert codes((5, h5[:-1] + ("0" if h5[-1] != "0" else "1"))) == [(5, "mistyped")]
    assert codes((5, h5[1:] + h5[0])) == [(5, "mistyped")]  # shifted by one: two edits
    assert codes((2, h5)) == [(2, "other_position")]
    assert codes((5, "ab" * 32)) == [(5, "changed")]
    assert codes((7, "ab" * 32)) == [(7, "beyond_head")]
    assert codes((0, "ab" * 32)) == [(0, "empty_log")]


# --- the spreadsheet ------------------------------------------------------------------------------------


def test_the_spreadsheet_holds_the_filtered_entries_with_partner_names_and_office_times(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str, gurjaani: str
) -> None:
    response = signed_in("auditor").get(f"/audit/export.xlsx?partnership={gurjaani}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename=tracker-log-9-filtered.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == (
        "Pozycja",
        "Zapisano (Europe/Warsaw)",
        "Zapisał(a)",
        "Identyfikator partnerstwa",
        "Partner",
        "Rodzaj wpisu",
    )
    entries = [e for e in queries.log_page(services.db)["items"] if e["partnership_id"] == gurjaani]
    assert [r[0] for r in rows[1:]] == [e["position"] for e in entries]
    for row, entry in zip(rows[1:], entries, strict=True):
        office = datetime.fromisoformat(entry["recorded_at"]).astimezone(WARSAW).replace(tzinfo=None)
        assert isinstance(row[1], datetime) and abs((row[1] - office).total_seconds()) < 0.001
        assert row[3] == gurjaani and row[4] == "Gmina Gurjaani" and row[10] == entry["hash"]
    assert [r[5] for r in rows[1:]] == [
        "Zarejestrowano partnerstwo",
        "Podpisano list intencyjny",
        "Odbyło się wydarzenie",
    ]
    assert [r[7] for r in rows[1:]] == ["2015-01-01", "2016", "2019-06"]  # as recorded, never padded
    assert "Rodzaj wydarzenia: Wizyta; Tytuł: Wizyta" in rows[3][8] and "{" not in rows[3][8]


def test_the_whole_log_as_a_spreadsheet_in_english(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    response = signed_in("auditor", lang="en").get("/audit/export.xlsx?order=newest")
    assert "filename=tracker-log-6.xlsx" in response.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))
    assert rows[0][1] == "Recorded at (Europe/Warsaw)" and [r[0] for r in rows[1:]] == [6, 5, 4, 3, 2, 1]
    assert rows[-1][5] == "Partnership registered" and "Partner's country: Montenegro" in rows[-1][8]


def test_only_auditors_download_the_spreadsheet(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    assert signed_in("officer").get("/audit/export.xlsx").status_code == 403
    assert signed_in("admin").get("/audit/export.xlsx").status_code == 200


def test_the_screens_speak_english_too(signed_in: Callable[..., FlaskClient], services: Services, bar: str) -> None:
    client = signed_in("auditor", lang="en")
    html = client.get(f"/audit/?partnership={bar}&type=school_joined").get_data(as_text=True)
    assert "2 entries match the filter" in html and "Oldest first" in html
    head = queries.head(services.db)
    typo = head["hash"][:-1] + ("0" if head["hash"][-1] != "0" else "1")
    assert "This is not a digest of this log." in verify(client, f"{head['position']}:{typo}")
    register_page = client.get("/register?as_of=2012").get_data(as_text=True)
    assert "1 partnership existed then." in register_page and "(approximate)" in register_page
