"""Polish by default, English on request: Accept-Language, ``?lang=``, and the switch on every page."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from application.i18n import TRANSLATIONS
from application.vocabulary import CHOICE_LABELS, FIELD_LABELS, Message, domain_message
from domain.errors import MESSAGES as DOMAIN_MESSAGES
from domain.errors import InvalidField, NotAllowedInStatus
from web.messages import FIELD_MESSAGES, REQUEST_MESSAGES, field_message, request_message
from web.ui.i18n import say

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("accept", "lang", "text"),
    [
        (None, "pl", "Zaloguj się"),
        ("en-GB,en;q=0.9", "en", "Sign in"),
        ("de-DE,de;q=0.9,en;q=0.5", "en", "Sign in"),
        ("pl-PL,pl;q=0.9,en;q=0.8", "pl", "Zaloguj się"),
        ("de-DE", "pl", "Zaloguj się"),
    ],
)
def test_the_browsers_language_decides(client: FlaskClient, accept: str | None, lang: str, text: str) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    html = client.get("/login", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and f"<h1>{text}</h1>" in html


def test_lang_in_the_query_wins(client: FlaskClient) -> None:
    html = client.get("/login?lang=en", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert "<h1>Sign in</h1>" in html
    assert "<h1>Zaloguj się</h1>" in client.get("/login?lang=xx").get_data(as_text=True)


def test_the_switch_sets_a_cookie_that_overrides_the_browser(client: FlaskClient) -> None:
    html = client.get("/login?next=/audit/&lang=pl", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    link = re.search(r'href="(/language/en\?[^"]+)"', html).group(1).replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 302 and unquote(response.headers["Location"]) == "/login?next=/audit/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;") and "SameSite=Lax" in cookie and "HttpOnly" in cookie
    assert "<h1>Sign in</h1>" in client.get("/login", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    client.get("/language/pl")
    assert "<h1>Zaloguj się</h1>" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_the_switch_never_leaves_the_site_and_knows_two_languages(client: FlaskClient) -> None:
    assert client.get("/language/en?next=https://evil.example/").headers["Location"] == "/"
    assert client.get("/language/en?next=//evil.example/").headers["Location"] == "/"
    assert client.get("/language/de").status_code == 404


def test_the_switch_is_on_every_page(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    admin = signed_in("admin")
    for path in ("/", f"/partnerships/{bar}", "/partnerships/new", f"/partnerships/{bar}/record/note_added", "/audit/"):
        html = admin.get(path).get_data(as_text=True)
        assert 'href="/language/en?next=' in html and 'href="/language/pl?next=' in html, path
        assert '<a href="/language/pl' in html and 'lang="pl" hreflang="pl" aria-current="true">Polski' in html


def test_dates_and_countries_in_each_language(signed_in: Callable[..., FlaskClient], bar: str) -> None:
    pl = signed_in("officer").get(f"/partnerships/{bar}").get_data(as_text=True)
    en = signed_in("officer", lang="en").get(f"/partnerships/{bar}").get_data(as_text=True)
    assert "1 czerwca 2019" in pl and "Czarnogóra" in pl
    assert "June 1, 2019" in en and "Montenegro" in en
    assert "Suspended" in en and "Timeline" in en and "Zawieszone" not in en


def test_every_message_has_its_polish_translation() -> None:
    """No string of the UI is left untranslated (nor fuzzy) in the Polish catalogue."""
    with (TRANSLATIONS / "pl" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_the_catalogues_hold_every_string_of_the_sources(tmp_path: Path) -> None:
    """A string added to a template or a view without updating the catalogues fails here (run pybabel update)."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "pybabel"),
            "--quiet",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            str(pot),
            ".",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    for lang in ("pl", "en"):
        with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
            have = {m.id for m in read_po(f) if m.id}
        assert wanted - have == set(), lang


def _catalogue(lang: str) -> dict[str, str]:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def test_every_code_and_label_is_in_the_catalogues() -> None:
    """Each message code's English template and each label of the vocabulary is a message id with its Polish.

    (The check above sees only what pybabel extracts; this one fails when a template is added unmarked.)
    """
    wanted = {
        *DOMAIN_MESSAGES.values(),
        *FIELD_MESSAGES.values(),
        *REQUEST_MESSAGES.values(),
        *FIELD_LABELS.values(),
        *(label for labels in CHOICE_LABELS.values() for label in labels.values()),
    }
    polish = _catalogue("pl")
    assert {m for m in wanted if not polish.get(m)} == set()
    assert wanted - set(_catalogue("en")) == set()


@pytest.mark.parametrize(
    ("message", "polish", "english"),
    [
        (field_message("required"), "To pole jest wymagane.", "Required."),
        (field_message("too_long", max=200), "Najwyżej 200 znaków.", "At most 200 characters."),
        (
            field_message("one_of", choices="education, culture").inside(1),
            "Pozycja 2: Wybierz jedną z możliwości.",
            "Item 2: Choose one of the options.",
        ),
        (
            field_message("out_of_range", min=1, max=100000),
            "Podaj liczbę od 1 do 100000.",
            "Give a number from 1 to 100000.",
        ),
        (
            domain_message(InvalidField("occurred_on", "not_after_today")),
            "Nie może być późniejsza niż dzisiaj.",
            "Must not be after today.",
        ),
        (
            domain_message(NotAllowedInStatus("cooperation_suspended", "proposed", date(2020, 1, 31))),
            "Wpis „Zawieszono współpracę” jest niedozwolony, gdy partnerstwo ma status „Proponowane” "
            "(na dzień 31 sty 2020).",
            "“Cooperation suspended” is not allowed while the partnership is “Proposed” (as of Jan 31, 2020).",
        ),
        (request_message("forbidden", role="auditor"), "Twoja rola na to nie pozwala.", "Your role may not do this."),
        (Message("invalid", "something nobody foresaw"), "something nobody foresaw", "something nobody foresaw"),
    ],
)
def test_refusals_are_said_in_the_pages_language_by_their_code(app, message, polish, english) -> None:  # noqa: ANN001
    """The UI translates a refusal from its code's template and its parameters, never from the English."""
    with app.test_request_context("/"):
        assert say(message) == polish
    with app.test_request_context("/?lang=en"):
        assert say(message) == english
