"""Fixtures of the web UI tests: users with passwords, signed-in test clients per role, a partnership.

The store, app and services come from ``tests/conftest.py``. The app compiles the message catalogues when
the ``.mo`` files are missing or older than the ``.po`` files, so a fresh checkout tests the Polish pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from application.services import Services

from .helpers import PASSWORD, USERS, login, record, register


@pytest.fixture
def users(services: Services) -> dict[str, str]:
    """One user per role, with a password: ala (officer), ewa (auditor), jan (manager), root (admin)."""
    for role, name in USERS.items():
        services.users.add(name, role, email=f"{name}@example.org", password=PASSWORD)
    return dict(USERS)


@pytest.fixture
def signed_in(app: Flask, users: dict[str, str]) -> Callable[..., FlaskClient]:
    """``signed_in("officer")``: a test client with that role's user signed in (Polish unless ``lang``)."""

    def make(role: str, lang: str | None = None) -> FlaskClient:
        client = app.test_client()
        if lang:
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        login(client, users[role])
        return client

    return make


@pytest.fixture
def bar(services: Services) -> str:
    """Bar, Montenegro: a resolution in 2009, an agreement in 2010, a school on each side, suspended in 2019."""
    pid = register(services, "Miasto Bar", "ME", occurred_on=date(2009, 3, 27))
    record(
        services,
        pid,
        "council_resolution_adopted",
        date(2009, 3, 27),
        purpose="establish",
        resolution_number="XXV/4/09",
    )
    record(services, pid, "agreement_signed", date(2010, 5, 14), agreement_kind="partnership", reference="OR.1.2010")
    record(services, pid, "school_joined", date(2011, 9, 1), school_name="Liceum im. Kopernika", side="local")
    record(services, pid, "school_joined", date(2011, 9, 2), school_name="Gimnazija Niko Rolović", side="partner")
    record(services, pid, "cooperation_suspended", date(2019, 6, 1), reason="Brak odpowiedzi partnera")
    return pid


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright, one for the whole run: Playwright's sync API runs one event
    loop per thread, so modules opening their own while another is open would fail."""
    from playwright.sync_api import sync_playwright

    from .browser import LAUNCH_ARGS, have_chromium

    if not have_chromium():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()
