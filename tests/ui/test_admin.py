"""The admin's user pages and the auditor's access-log page: the same changes as `tracker users`, sessions that end
on the server at once, secrets shown once, refusals that name the field and change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from backend import Store
from flask import Flask
from flask.testing import FlaskClient

from application.services import Services

from .helpers import PASSWORD, csrf_token, login, post_form

API = "/api/v1"


def access_entries(services: Services) -> list[dict]:
    return list(services.users.access_log.entries())


def shown(html: str, field_id: str) -> str:
    """The value of a read-only field on a "shown once" page."""
    match = re.search(rf'id="{field_id}"[^>]*value="([^"]+)"', html)
    assert match, html
    return unescape(match.group(1))


def confirmed(client: FlaskClient, path: str) -> Any:
    """Press a user's button, then "Confirm" on the page that asks (with that page's CSRF token)."""
    asked = post_form(client, path, {}, form_page="/admin/users")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'name="confirm"' in html, html
    return client.post(path, data={"confirm": "1", "csrf_token": csrf_token(html)})


def signed_in_as(app: Flask, name: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    login(client, name, password)
    return client


def test_only_an_admin_sees_the_users_page(signed_in: Callable[..., FlaskClient], client: FlaskClient) -> None:
    """An admin gets the list with every user and a link in the menu; other roles 403; anonymous: the login page."""
    admin = signed_in("admin")
    html = admin.get("/admin/users").get_data(as_text=True)
    for name in ("ala", "ewa", "jan", "root"):
        assert f'id="user-{name}"' in html
    assert 'href="/admin/users"' in admin.get("/").get_data(as_text=True)
    for role in ("officer", "auditor", "manager"):
        page = signed_in(role)
        assert page.get("/admin/users").status_code == 403
        assert 'href="/admin/users"' not in page.get("/").get_data(as_text=True)
    assert client.get("/admin/users").status_code == 302


def test_disabling_ends_the_users_session_at_once(app: Flask, signed_in: Callable[..., FlaskClient]) -> None:
    """Ala is signed in; the admin disables her: her very next request is sent to the login page, she cannot sign in
    again, and the access log says root did it to ala."""
    ala = signed_in("officer")
    assert ala.get("/").status_code == 200
    admin = signed_in("admin")
    response = confirmed(admin, "/admin/users/ala/disable")
    assert response.status_code == 302
    assert ala.get("/").status_code == 302
    fresh = app.test_client()
    token = csrf_token(fresh.get("/login").get_data(as_text=True))
    refused = fresh.post("/login", data={"username": "ala", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 401
    assert "Nieprawidłowa nazwa użytkownika lub hasło." in refused.get_data(as_text=True)  # the same as a bad password
    last = access_entries(app.extensions["tracker"])[-1]
    assert (last["actor"], last["action"], last["subject"]) == ("root", "user_disabled", "ala")
    assert "wyłączony" in admin.get("/admin/users").get_data(as_text=True)


def test_a_copied_cookie_stops_working_at_logout(app: Flask, signed_in: Callable[..., FlaskClient]) -> None:
    """The session lives on the server: a copy of the cookie taken before signing out is worthless after it."""
    ala = signed_in("officer")
    stolen = ala.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 200
    post_form(ala, "/logout", {}, form_page="/")
    assert thief.get("/").status_code == 302


def test_a_new_role_ends_the_sessions_and_applies_at_once(app: Flask, signed_in: Callable[..., FlaskClient]) -> None:
    """Ewa the auditor becomes a manager: her session ends; signed in again she is a manager (no audit page)."""
    ewa = signed_in("auditor")
    admin = signed_in("admin")
    response = post_form(admin, "/admin/users/ewa/role", {"role": "manager"}, form_page="/admin/users")
    assert response.status_code == 302
    assert ewa.get("/audit/").status_code == 302  # to the login page
    again = signed_in_as(app, "ewa")
    assert again.get("/audit/").status_code == 403
    last = access_entries(app.extensions["tracker"])[-1]
    assert (last["action"], last["data"]) == ("role_changed", {"from": "auditor", "to": "manager"})


def test_a_new_password_is_shown_once_and_the_old_one_stops(app: Flask, signed_in: Callable[..., FlaskClient]) -> None:
    """The admin resets Jan's password: the page shows the new one, his session ends, only the new one signs in."""
    jan = signed_in("manager")
    admin = signed_in("admin")
    page = confirmed(admin, "/admin/users/jan/password")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    password = shown(page.get_data(as_text=True), "new-password")
    assert jan.get("/").status_code == 302
    fresh = app.test_client()
    token = csrf_token(fresh.get("/login").get_data(as_text=True))
    assert fresh.post("/login", data={"username": "jan", "password": PASSWORD, "csrf_token": token}).status_code == 401
    signed_in_as(app, "jan", password)
    assert password not in admin.get("/admin/users").get_data(as_text=True)  # never shown again


def test_a_new_token_replaces_the_old_one(app: Flask, signed_in: Callable[..., FlaskClient]) -> None:
    """The admin issues a new API token for ala: the old one answers 401, the new one 200."""
    services: Services = app.extensions["tracker"]
    old = services.users.add("bot", "officer", actor="test")
    client = app.test_client()
    assert client.get(f"{API}/partnerships", headers={"Authorization": f"Bearer {old}"}).status_code == 200
    page = confirmed(signed_in("admin"), "/admin/users/bot/token")
    new = shown(page.get_data(as_text=True), "new-token")
    assert client.get(f"{API}/partnerships", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get(f"{API}/partnerships", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_adding_a_user_shows_the_password_and_token_once(app: Flask, signed_in: Callable[..., FlaskClient]) -> None:
    admin = signed_in("admin")
    page = post_form(admin, "/admin/users", {"name": "ola", "role": "auditor", "email": "ola@example.org"})
    html = page.get_data(as_text=True)
    password, token = shown(html, "new-password"), shown(html, "new-token")
    assert signed_in_as(app, "ola", password).get("/audit/").status_code == 200
    assert app.test_client().get(f"{API}/events", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    last = access_entries(app.extensions["tracker"])[-1]
    assert (last["actor"], last["action"], last["subject"], last["data"]["role"]) == (
        "root",
        "user_added",
        "ola",
        "auditor",
    )


@pytest.mark.parametrize(
    ("path", "data", "status", "field", "message"),
    [
        ("/admin/users", {"name": "a b", "role": "officer"}, 422, "Nazwa użytkownika", "Użyj od 1 do 64"),
        ("/admin/users", {"name": "ola", "role": "king"}, 422, "Rola", "Wybierz jedną z ról."),
        ("/admin/users", {"name": "ala", "role": "officer"}, 422, "Nazwa użytkownika", "już istnieje"),
        ("/admin/users", {"name": "ola", "role": "officer", "email": "nope"}, 422, "E-mail", "nie jest adres"),
        ("/admin/users/nobody/disable", {}, 404, "Nazwa użytkownika", "Nie ma użytkownika nobody."),
        ("/admin/users/nobody/disable", {"confirm": "1"}, 404, "Nazwa użytkownika", "Nie ma użytkownika nobody."),
        ("/admin/users/nobody/password", {}, 404, "Nazwa użytkownika", "Nie ma użytkownika nobody."),
        ("/admin/users/ala/role", {"role": "king"}, 422, "Rola", "Wybierz jedną z ról."),
        ("/admin/users/ala/enable", {}, 422, "Nazwa użytkownika", "ala nie jest wyłączony"),
        ("/admin/users/root/disable", {}, 422, "Nazwa użytkownika", "root to ostatni aktywny administrator"),
        ("/admin/users/root/disable", {"confirm": "1"}, 422, "Nazwa użytkownika", "root to ostatni aktywny"),
        ("/admin/users/root/role", {"role": "officer"}, 422, "Nazwa użytkownika", "root to ostatni aktywny"),
    ],
)
def test_a_refused_change_names_the_field_and_records_nothing(
    app: Flask, signed_in: Callable[..., FlaskClient], path: str, data: dict, status: int, field: str, message: str
) -> None:
    services: Services = app.extensions["tracker"]
    admin = signed_in("admin")
    before_log, before_users = (
        access_entries(services),
        services.users.describe(idle_seconds=3600, lifetime_seconds=3600),
    )
    response = post_form(admin, path, data, form_page="/admin/users")
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert 'role="alert"' in html and field in html and message in html, html
    assert access_entries(services) == before_log
    assert services.users.describe(idle_seconds=3600, lifetime_seconds=3600) == before_users


def test_changes_need_the_csrf_token(app: Flask, signed_in: Callable[..., FlaskClient]) -> None:
    """A forged cross-site post (no token) changes nothing."""
    admin = signed_in("admin")
    before = access_entries(app.extensions["tracker"])
    assert admin.post("/admin/users/ala/disable").status_code == 400
    assert access_entries(app.extensions["tracker"]) == before
    assert app.extensions["tracker"].users.get("ala").disabled is False


def test_an_idle_session_ends_and_so_does_an_old_one(
    app: Flask, signed_in: Callable[..., FlaskClient], time_machine: object
) -> None:
    """Defaults: 60 minutes without a request end a session; 12 hours end it however busy it was."""
    start = datetime.now(UTC)
    time_machine.move_to(start, tick=False)  # type: ignore[attr-defined]
    idle = signed_in("officer")
    busy = signed_in("auditor")
    for minutes in range(50, 12 * 60, 50):  # the auditor keeps working every 50 minutes
        time_machine.move_to(start + timedelta(minutes=minutes), tick=False)  # type: ignore[attr-defined]
        assert busy.get("/").status_code == 200, minutes
        if minutes == 50:
            assert idle.get("/").status_code == 200  # 50 minutes idle: still signed in
        if minutes == 150:
            assert idle.get("/").status_code == 302  # 100 minutes idle: gone
    time_machine.move_to(start + timedelta(hours=12, minutes=1), tick=False)  # type: ignore[attr-defined]
    assert busy.get("/").status_code == 302


def test_the_access_log_page_for_auditors_with_its_check(app: Flask, signed_in: Callable[..., FlaskClient]) -> None:
    """The auditor reads who gave whom which rights, keeps the digest, and the check finds a change made behind
    the program's back."""
    services: Services = app.extensions["tracker"]
    admin = signed_in("admin")
    post_form(admin, "/admin/users/jan/role", {"role": "officer"}, form_page="/admin/users")
    ewa = signed_in("auditor")
    html = ewa.get("/admin/access-log").get_data(as_text=True)
    assert "zmiana roli" in html and "Kierownik → Referent ds. współpracy zagranicznej" in html
    assert 'href="/admin/access-log"' in ewa.get("/").get_data(as_text=True)
    digest = re.search(r"access:\d+:[0-9a-f]{64}", html).group(0)
    ok = post_form(ewa, "/admin/access-log/verify", {"digest": digest}, form_page="/admin/access-log")
    assert ok.status_code == 200 and "report-ok" in ok.get_data(as_text=True)
    bad = post_form(ewa, "/admin/access-log/verify", {"digest": "5:abc"}, form_page="/admin/access-log")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert signed_in("officer").get("/admin/access-log").status_code == 403
    Store(services.config.database).execute("UPDATE tracker_users SET role = 'admin' WHERE name = 'ala'")
    broken = post_form(ewa, "/admin/access-log/verify", {"digest": digest}, form_page="/admin/access-log")
    html = broken.get_data(as_text=True)
    assert "report-broken" in html and "&#39;ala&#39; has role &#39;admin&#39;" in html


@pytest.mark.parametrize(
    ("change", "title"),
    [
        ("disable", "Wyłączyć użytkownika ala?"),
        ("password", "Nowe hasło dla użytkownika ala?"),
        ("token", "Nowy token API dla użytkownika ala?"),
        ("revoke", "Unieważnić token API i sesje użytkownika ala?"),
    ],
)
def test_a_change_that_ends_sessions_is_asked_for_first(
    app: Flask, signed_in: Callable[..., FlaskClient], change: str, title: str
) -> None:
    """The first press only asks (what it would end, Confirm / Cancel) and changes nothing; Confirm makes it."""
    services: Services = app.extensions["tracker"]
    ala = signed_in("officer")
    admin = signed_in("admin")
    before = access_entries(services)
    asked = post_form(admin, f"/admin/users/ala/{change}", {}, form_page="/admin/users")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and title in html and "Nic jeszcze nie zostało zmienione." in html
    assert 'href="/admin/users#user-ala"' in html and ">Anuluj<" in html  # Cancel: back to ala's row
    # the user it is about (an officer with one session and a token), not the admin who asks
    details = html.split('class="details summary-list"', 1)[1].split("</dl>", 1)[0]
    assert "<dd>Referent ds. współpracy zagranicznej</dd>" in details and "Administrator" not in details
    assert "<dd>1</dd>" in details and "<dd>ważny</dd>" in details
    assert "<script" not in html
    assert access_entries(services) == before
    assert services.users.get("ala").disabled is False and ala.get("/").status_code == 200
    done = admin.post(f"/admin/users/ala/{change}", data={"confirm": "1", "csrf_token": csrf_token(html)})
    assert done.status_code in (200, 302)
    assert [e["action"] for e in access_entries(services)[len(before) :]] == [
        {"disable": "user_disabled", "password": "password_reset", "token": "token_issued", "revoke": "tokens_revoked"}[
            change
        ]
    ]
    assert services.users.get("ala").disabled is (change == "disable")
    if change != "token":  # a new token leaves the sessions alone
        assert ala.get("/").status_code == 302


def test_a_refusal_of_a_change_to_a_user_is_one_sentence(signed_in: Callable[..., FlaskClient]) -> None:
    """The admin tries to disable himself, the last administrator: a sentence naming him, no stray field label."""
    html = post_form(signed_in("admin"), "/admin/users/root/disable", {}, form_page="/admin/users").get_data(
        as_text=True
    )
    message = re.search(r'<p id="refusal-message">([^<]*)</p>', html).group(1)
    assert message == "root to ostatni aktywny administrator: nikt nie mógłby już zarządzać użytkownikami."


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        ({"name": "a b", "role": "officer", "email": "nope"}, {"name": "Użyj od 1 do 64", "email": "nie jest adres"}),
        ({"name": "ala", "role": "king", "email": ""}, {"name": "już istnieje", "role": "Wybierz jedną z ról."}),
        ({"name": "", "role": "", "email": "x"}, {"name": "Użyj", "role": "Wybierz", "email": "nie jest adres"}),
    ],
)
def test_adding_a_user_reports_every_problem_at_once_beside_the_form(
    app: Flask, signed_in: Callable[..., FlaskClient], data: dict, problems: dict
) -> None:
    """Every bad field in one answer: a summary right above the form linking to each field, the message beside
    the field, the values kept; the form posts to its own fragment so the browser comes back to it."""
    services: Services = app.extensions["tracker"]
    admin = signed_in("admin")
    before_log, before_users = access_entries(services), services.users.count()
    response = post_form(admin, "/admin/users", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    form_part = html.split('<section aria-labelledby="add-title" id="add">', 1)[1]
    assert 'role="alert"' in form_part and 'role="alert"' not in html.split('id="add"', 1)[0]
    for field, message in problems.items():
        assert re.search(rf'<a href="#f-{field}">[^<]*{message}', form_part), field
        assert re.search(rf'id="f-{field}-error">.*{message}', form_part), field
        assert re.search(rf'id="f-{field}"[^>]* aria-invalid="true" aria-describedby="f-{field}-error"', form_part)
    for field in {"name", "role", "email"} - set(problems):
        assert f'id="f-{field}-error"' not in form_part
    assert 'action="/admin/users#add"' in form_part
    assert access_entries(services) == before_log and services.users.count() == before_users


def test_the_shown_once_page_names_the_user_and_what_is_shown(signed_in: Callable[..., FlaskClient]) -> None:
    admin = signed_in("admin")
    password = confirmed(admin, "/admin/users/jan/password").get_data(as_text=True)
    assert "Nowe hasło dla użytkownika jan" in password and "Hasło jest pokazywane tylko teraz" in password
    token = confirmed(admin, "/admin/users/jan/token").get_data(as_text=True)
    assert "Nowy token API dla użytkownika jan" in token and "Token API jest pokazywany tylko teraz" in token
    added = post_form(admin, "/admin/users", {"name": "ola", "role": "officer"}).get_data(as_text=True)
    assert "Hasło i token API są pokazywane tylko teraz" in added


def test_the_access_log_page_in_office_time_newest_first_paged_and_filtered(
    app: Flask, signed_in: Callable[..., FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Times are office times in <time>; newest first unless asked; the pager keeps the order and the filters."""
    from web.ui import admin as admin_ui

    services: Services = app.extensions["tracker"]
    for n in range(5):
        services.users.add(f"u{n}", "officer", actor="root")
        services.users.new_token(f"u{n}", actor="kadry")
    entries = access_entries(services)
    ewa = signed_in("auditor")
    monkeypatch.setattr(admin_ui, "PAGE_SIZE", 3)

    def positions(html: str) -> list[int]:
        return [int(p) for p in re.findall(r'<th scope="row">(\d+)</th>', html)]

    html = ewa.get("/admin/access-log").get_data(as_text=True)
    assert not re.search(r">\d{4}-\d\d-\d\dT", html)  # no raw UTC timestamp as text
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d">[^<]+</time>', html)
    newest = [e["position"] for e in reversed(entries)]
    assert positions(html) == newest[:3] and "Od najnowszych" in html
    seen = positions(html)
    while (next_link := re.search(r'<a href="([^"]+)" rel="next">', html)) is not None:
        html = ewa.get(unescape(next_link.group(1))).get_data(as_text=True)
        seen += positions(html)
    assert seen == newest
    back = re.search(r'<a href="([^"]+)" rel="prev">', html).group(1)
    assert (
        positions(ewa.get(unescape(back)).get_data(as_text=True))
        == [newest[i : i + 3] for i in range(0, len(newest), 3)][-2]
    )

    # oldest first, only what "kadry" did to u1..u4: the pager keeps both
    html = ewa.get("/admin/access-log?order=oldest&actor=kadry").get_data(as_text=True)
    kadry = [e["position"] for e in entries if e["actor"] == "kadry"]
    seen = positions(html)
    while (next_link := re.search(r'<a href="([^"]+)" rel="next">', html)) is not None:
        link = unescape(next_link.group(1))
        assert "order=oldest" in link and "actor=kadry" in link
        html = ewa.get(link).get_data(as_text=True)
        seen += positions(html)
    assert seen == kadry
    html = ewa.get("/admin/access-log?subject=u2").get_data(as_text=True)
    assert positions(html) == [e["position"] for e in reversed(entries) if e["subject"] == "u2"]
    assert "2 wpisy pasują do filtra" in html


def hidden_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` (as the browser sends them)."""
    form = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_a_double_click_on_a_new_password_makes_one_and_says_where_it_was_shown(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    """ "Confirm" sent twice (one rendered page, its own key): one new password, one access-log entry; the second
    answer (the one the browser shows) says the password was shown in the first, rather than making another."""
    admin = signed_in("admin")
    asked = post_form(admin, "/admin/users/jan/password", {}, form_page="/admin/users").get_data(as_text=True)
    sent = hidden_fields(asked, "/admin/users/jan/password")
    assert sent["form_key"] and sent["confirm"] == "1"
    before = len(access_entries(services))
    first = admin.post("/admin/users/jan/password", data=sent)
    second = admin.post("/admin/users/jan/password", data=sent)
    assert first.status_code == 200 and "new-password" in first.get_data(as_text=True)
    assert second.status_code == 303 and second.headers["Location"].endswith("/admin/users#user-jan")
    assert len(access_entries(services)) == before + 1
    landed = admin.get(second.headers["Location"]).get_data(as_text=True)
    assert "Nowe hasło dla jan zostało utworzone przy pierwszym wysłaniu" in landed


def test_a_double_click_on_add_user_adds_once_and_a_role_change_is_recorded_once(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    admin = signed_in("admin")
    sent = hidden_fields(admin.get("/admin/users").get_data(as_text=True), "/admin/users#add")
    before = len(access_entries(services))
    typed = {**sent, "name": "ola", "role": "auditor", "email": "ola@example.org"}
    first, second = admin.post("/admin/users", data=typed), admin.post("/admin/users", data=typed)
    assert first.status_code == 200 and "new-password" in first.get_data(as_text=True)
    assert second.status_code == 303  # not "ola already exists": told the first added her
    landed = admin.get(second.headers["Location"]).get_data(as_text=True)
    assert "Użytkownik ola został dodany przy pierwszym wysłaniu tego formularza" in landed
    role_form = hidden_fields(admin.get("/admin/users").get_data(as_text=True), "/admin/users/ola/role")
    changed = {**role_form, "role": "manager"}
    assert admin.post("/admin/users/ola/role", data=changed).status_code == 302
    assert admin.post("/admin/users/ola/role", data=changed).status_code == 303
    actions = [e["action"] for e in access_entries(services)[before:]]
    assert actions.count("user_added") == 1 and len(actions) == 2, actions
