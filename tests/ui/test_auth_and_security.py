"""Signing in and out, what anonymous visitors see, CSRF, the session cookie and the security headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from application.services import Services

from .helpers import PASSWORD, csrf_token, log_position, login, post_form


def cookie_header(response, name: str = "session") -> str:  # noqa: ANN001 - a TestResponse
    found = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert found, response.headers
    return found[-1]


@pytest.mark.parametrize("path", ["/", "/partnerships/new", "/audit/", "/audit/export.jsonl", "/nowhere"])
def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient, path: str) -> None:
    """Every page but the login page redirects an anonymous visitor to it (remembering where they were going)."""
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_anonymous_visitors_may_still_reach_the_public_api_and_the_stylesheet(client: FlaskClient) -> None:
    """The health check, the OpenAPI document and the static CSS need no session; the rest of the API says 401."""
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/static/tracker.css").status_code == 200
    assert client.get("/api/v1/partnerships").status_code == 401


def test_login_page_has_labelled_fields_and_a_csrf_token(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<label for="username">' in html and 'id="username"' in html
    assert '<label for="password">' in html and 'id="password"' in html
    assert csrf_token(html)


def test_wrong_password_is_refused_with_the_error_tied_to_the_fields(client: FlaskClient, users: dict) -> None:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "ala", "password": "wrong-one", "csrf_token": token})
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "Nieprawidłowa nazwa użytkownika lub hasło." in html
    assert 'aria-invalid="true" aria-describedby="login-error"' in html
    assert 'value="ala"' in html  # what was typed is kept (never the password)
    assert client.get("/").status_code == 302


def test_login_then_logout(client: FlaskClient, users: dict) -> None:
    """The same users as the API; after signing out the pages send you back to the login page."""
    login(client, "ala")
    page = client.get("/")
    assert page.status_code == 200
    assert "ala" in page.get_data(as_text=True)
    response = post_form(client, "/logout", {}, form_page="/")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert "Wylogowano." in client.get("/login").get_data(as_text=True)


def test_login_goes_back_to_the_page_asked_for_but_never_to_another_site(client: FlaskClient, users: dict) -> None:
    for target, expected in (("/audit/", "/audit/"), ("//evil.example/", "/"), ("https://evil.example/", "/")):
        fresh = client.application.test_client()
        token = csrf_token(fresh.get("/login").get_data(as_text=True))
        response = fresh.post(
            "/login", query_string={"next": target}, data={"username": "ewa", "password": PASSWORD, "csrf_token": token}
        )
        assert response.headers["Location"] == expected


def test_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_http(client: FlaskClient, users: dict) -> None:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "ala", "password": PASSWORD, "csrf_token": token})
    cookie = cookie_header(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(app: Flask, users: dict) -> None:
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={"username": "ala", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    cookie = cookie_header(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" in response.headers


def test_session_cookie_is_secure_behind_the_trusted_proxy_only(app: Flask, services: Services) -> None:
    """``X-Forwarded-Proto: https`` makes the cookie Secure only from TRACKER_TRUSTED_PROXY (the test client is
    127.0.0.1); from anyone else it is ignored. Through the real servers: tests/integration/test_exposure.py."""
    from dataclasses import replace

    from web import create_app

    assert "Secure" not in cookie_header(app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"}))
    trusted = create_app(replace(services.config, trusted_proxy="127.0.0.1"), services)
    assert "Secure" in cookie_header(trusted.test_client().get("/login", headers={"X-Forwarded-Proto": "https"}))


def test_a_form_posted_without_its_csrf_token_is_refused(
    signed_in: Callable[..., FlaskClient], services: Services, bar: str
) -> None:
    """Register, record, retract, acknowledge, verify, logout: each refuses a POST without the token (400)."""
    officer = signed_in("officer")
    before = log_position(services)
    for path, data in (
        ("/partnerships/new", {"partner_name": "X", "partner_country": "IT", "partner_kind": "city"}),
        (f"/partnerships/{bar}/record/note_added", {"occurred_on": "2020-01-01", "text": "x"}),
        (f"/partnerships/{bar}/events/2/retract", {"occurred_on": "2020-01-01", "reason": "x"}),
        ("/logout", {}),
    ):
        response = officer.post(path, data=data)
        assert response.status_code == 400, path
        assert "Formularz wygasł" in response.get_data(as_text=True)
    response = officer.post(f"/partnerships/{bar}/record/note_added", data={"csrf_token": "forged", "text": "x"})
    assert response.status_code == 400
    assert log_position(services) == before
    assert signed_in("auditor").post("/audit/verify").status_code == 400
    assert signed_in("manager").post("/reminders/whatever/acknowledge", data={}).status_code == 400


def test_the_login_form_needs_its_csrf_token_too(client: FlaskClient, users: dict) -> None:
    response = client.post("/login", data={"username": "ala", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_security_headers_on_pages_and_api_answers(client: FlaskClient) -> None:
    """A content security policy without any script, no framing, no sniffing: on HTML pages and JSON alike."""
    for response in (client.get("/login"), client.get("/api/v1/health")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'none'" in csp and "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    admin = signed_in("admin")
    for path in ("/", f"/partnerships/{bar}", "/partnerships/new", "/audit/"):
        html = admin.get(path).get_data(as_text=True)
        assert "<script" not in html and "style=" not in html and "<style" not in html, path


def test_api_writes_with_a_browser_session_must_be_json(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    """The API takes no CSRF token, so a session may write to it only with a JSON body (no cross-site form can)."""
    officer = signed_in("officer")
    body = {"partner_name": "Kraków", "partner_country": "PL", "partner_kind": "city"}
    before = log_position(services)
    for kwargs in ({"data": body}, {"data": '{"partner_name": "x"}', "content_type": "text/plain"}):
        response = officer.post("/api/v1/partnerships", **kwargs)
        assert response.status_code == 400
        assert "JSON" in response.get_json()["error"]
    assert log_position(services) == before
    assert officer.post("/api/v1/partnerships", json=body).status_code == 201


def test_api_tokens_are_unaffected_by_the_session_rule(client: FlaskClient, services: Services) -> None:
    token = services.users.add("bot", "officer")
    body = '{"partner_name": "Kraków", "partner_country": "PL", "partner_kind": "city"}'
    response = client.post(
        "/api/v1/partnerships", data=body, content_type="text/plain", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201


def test_role_decides_which_controls_the_header_shows(signed_in: Callable[..., FlaskClient]) -> None:
    officer, auditor, manager = (
        signed_in(r).get("/").get_data(as_text=True) for r in ("officer", "auditor", "manager")
    )
    assert 'href="/partnerships/new"' in officer and 'href="/audit/"' not in officer
    assert 'href="/audit/"' in auditor and 'href="/partnerships/new"' not in auditor
    assert 'href="/audit/"' not in manager and 'href="/partnerships/new"' not in manager


def test_error_pages_are_html_outside_the_api(signed_in: Callable[..., FlaskClient]) -> None:
    officer = signed_in("officer")
    response = officer.get("/nowhere")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Nie znaleziono" in response.get_data(as_text=True)
    api = officer.get("/api/v1/nowhere")
    assert api.status_code == 404 and api.mimetype == "application/json"
