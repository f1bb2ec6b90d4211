"""In a real browser (Debian's chromium, driven by Playwright), against the app served over HTTP: each role's
daily work, the language switch, time travel, the auditor's walk through the log, and axe-core on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from flask import Flask

from application.export import export_chunks
from application.seed import load_seed
from application.services import Services
from projections import queries

from .browser import axe_source, axe_violations, describe, have_chromium, served
from .helpers import PASSWORD, log_position

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not have_chromium(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="session")
def axe() -> str:
    return axe_source()


@pytest.fixture
def seeded(services: Services, users: dict[str, str]) -> Services:
    """The county's partner list, and a user per role (ala, ewa, jan, root)."""
    load_seed(services.tracker, today=services.today())
    services.projection.catch_up()
    return services


@pytest.fixture
def base_url(app: Flask, seeded: Services) -> Iterator[str]:
    with served(app) as url:
        yield url


class Visit:
    """A browser page that checks every page it lands on with axe-core."""

    def __init__(self, page: Any, base_url: str, axe: str) -> None:
        self.page, self.base_url, self.axe = page, base_url, axe
        self.checked: list[str] = []

    def accessible(self, what: str) -> None:
        violations = axe_violations(self.page, self.axe)
        assert violations == [], f"axe-core on {what} ({self.page.url}):\n{describe(violations)}"
        self.checked.append(what)

    def goto(self, path: str, what: str | None = None) -> Any:
        response = self.page.goto(self.base_url + path)
        if what:
            self.accessible(what)
        return response

    def login(self, name: str, password: str = PASSWORD) -> None:
        self.goto("/login")
        self.page.fill("#username", name)
        self.page.fill("#password", password)
        self.page.click("#submit")
        self.page.wait_for_url(re.compile(r".*/$"))

    def text(self, selector: str = "main") -> str:
        return self.page.locator(selector).inner_text()


@pytest.fixture
def visit(browser: Any, base_url: str, axe: str) -> Iterator[Any]:
    contexts = []

    def open_page(locale: str = "pl-PL", **options: Any) -> Visit:
        context = browser.new_context(locale=locale, **options)
        contexts.append(context)
        return Visit(context.new_page(), base_url, axe)

    yield open_page
    for context in contexts:
        context.close()


#: The events an officer records, in an order the rules allow, with what is typed into each form.
DAY_OF_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("letter_of_intent_signed", {"occurred_on": "2015-02-01", "signatories": "Starosta\nBurmistrz"}),
    ("agreement_signed", {"occurred_on": "2015-06-01", "agreement_kind": "partnership", "areas": ["sport"]}),
    (
        "council_resolution_adopted",
        {"occurred_on": "2015-06-20", "purpose": "establish", "resolution_number": "XII/3/15"},
    ),
    ("school_joined", {"occurred_on": "2016-09-01", "school_name": "LO nr 1", "side": "local", "town": "Piaseczno"}),
    ("youth_exchange_planned", {"occurred_on": "2017-01-10", "planned_for": "2017-07-01"}),
    ("youth_exchange_held", {"occurred_on": "2017-07-01", "ends_on": "2017-07-08", "participants": "30"}),
    ("activity_held", {"occurred_on": "2018-05-05", "activity_kind": "conference", "title": "Forum samorządów"}),
    ("cooperation_suspended", {"occurred_on": "2020-03-15", "reason": "Pandemia"}),
    ("cooperation_resumed", {"occurred_on": "2022-05-01", "reason": "Koniec pandemii"}),
    ("note_added", {"occurred_on": "2023-01-01", "text": "Spotkanie robocze"}),
    ("partnership_terminated", {"occurred_on": "2024-12-31", "reason": "Połączenie gmin"}),
]


def fill(page: Any, fields: dict[str, Any]) -> None:
    """Type into the form as a person would: by each field's id (its label's ``for``)."""
    for name, value in fields.items():
        target = f"#f-{name}"
        if isinstance(value, list):
            for choice in value:
                page.check(f"#f-{name}-{choice}")
        elif page.locator(target).evaluate("e => e.tagName") == "SELECT":
            page.select_option(target, value)
        else:
            page.fill(target, value)


def test_an_officers_day(visit: Any, seeded: Services) -> None:
    """Sign in, register a partnership (after a refused try), record every kind of event, retract one,
    and look at the partnership as it stood; axe-core finds nothing on any page on the way."""
    v = visit()
    v.goto("/login", "the login page")
    v.page.fill("#username", "ala")
    v.page.fill("#password", "wrong password")
    v.page.click("#submit")
    assert "Nieprawidłowa nazwa użytkownika lub hasło." in v.text()
    v.accessible("the login page with its error")
    v.page.fill("#password", PASSWORD)
    v.page.click("#submit")
    v.page.wait_for_url(re.compile(r".*/$"))
    v.accessible("the dashboard")

    v.page.click("text=Zarejestruj partnerstwo")
    v.accessible("the registration form")
    before = log_position(seeded)
    v.page.fill("#f-partner_name", "Gmina Kobuleti")
    v.page.click("button:has-text('Dalej')")
    assert "To pole jest wymagane." in v.text("#f-partner_kind-error") or v.page.locator(".error-summary").count()
    assert v.page.get_attribute("#f-partner_country", "aria-invalid") == "true"
    assert v.page.input_value("#f-partner_name") == "Gmina Kobuleti"  # what was typed is kept
    assert log_position(seeded) == before  # nothing was recorded
    v.accessible("the registration form with errors")
    fill(v.page, {"partner_country": "GE", "partner_kind": "municipality", "areas": ["education", "culture"]})
    v.page.fill("#f-occurred_on", "2014-10-01")
    # First under the name of a partnership already registered in Georgia: the review warns, then Change.
    v.page.fill("#f-partner_name", "gmina  gurjaani")
    v.page.click("button:has-text('Dalej')")
    assert "Sprawdź przed zarejestrowaniem partnerstwa" in v.text("h1")
    assert "Gmina Gurjaani" in v.text("#possible-duplicates a")
    assert "Rejestracji nie można wycofać" in v.text("#possible-duplicates")
    v.accessible("the registration's review with a possible duplicate")
    assert log_position(seeded) == before  # nothing recorded by the review
    v.page.click("#change")
    assert v.page.input_value("#f-partner_name") == "gmina  gurjaani" and v.page.is_checked("#f-areas-culture")
    v.page.fill("#f-partner_name", "Gmina Kobuleti")
    v.page.click("button:has-text('Dalej')")
    assert v.page.locator("#possible-duplicates").count() == 0 and "Gmina Kobuleti" in v.text("main")
    v.page.click("#confirm")
    assert "Partnerstwo zostało zarejestrowane." in v.text()
    assert v.page.locator("h1").inner_text() == "Gmina Kobuleti"
    v.accessible("a partnership's page")
    assert v.page.url.endswith("#event-1")  # landed on the registration, its confirmation beside it
    assert "Partnerstwo zostało zarejestrowane." in v.text("#event-1")
    partnership_url = v.page.url.split("#")[0]

    for event_type, typed in DAY_OF_EVENTS:
        v.page.goto(partnership_url)
        label = v.page.locator(f"a[href$='/record/{event_type}']")
        label.click()
        v.accessible(f"the form {event_type}")
        fill(v.page, typed)
        v.page.click("button:has-text('Dalej')")
        v.page.click("#confirm")
        assert "Zapisano: " in v.text(".event .confirmation"), (event_type, v.text())
    pid = partnership_url.rsplit("/", 1)[1]
    events = queries.list_events(seeded.db, pid)
    assert [e["type"] for e in events[1:]] == [t for t, _ in DAY_OF_EVENTS]
    assert all(e["recorded_by"] == "ala" for e in events)
    assert queries.get_partnership(seeded.db, pid, seeded.clock())["status"] == "terminated"
    v.accessible("a partnership's timeline with every kind of event")

    # A validation error on an event form: shown next to the field, nothing recorded.
    v.page.goto(partnership_url + "/record/youth_exchange_held")
    fill(v.page, {"occurred_on": "2017-07-08", "ends_on": "2017-07-01", "participants": "5"})
    before = log_position(seeded)
    v.page.click("button:has-text('Dalej')")
    assert "Nie może być wcześniej niż dzień rozpoczęcia." in v.text("#f-ends_on-error")
    assert v.page.get_attribute("#f-ends_on", "aria-describedby") == "f-ends_on-hint f-ends_on-error"
    assert log_position(seeded) == before
    v.accessible("an event form with an error")

    # Retract the school: a reason is asked for; then the entry is struck through with it.
    v.page.goto(partnership_url)
    v.page.click("text=Wycofaj wpis nr 5…")
    v.accessible("the retraction form")
    v.page.click("button:has-text('Dalej')")
    assert v.page.locator("#f-reason-error").is_visible()
    v.accessible("the retraction form with an error")
    v.page.fill("#f-reason", "Wpisano nie tę szkołę")
    v.page.click("button:has-text('Dalej')")
    v.accessible("the retraction's check-your-answers page")
    v.page.click("#confirm")
    assert "Wpis został wycofany." in v.text(".event .confirmation")
    entry = v.page.locator("#event-5")
    assert "retracted" in entry.get_attribute("class")
    assert "Wpisano nie tę szkołę" in entry.inner_text()
    assert entry.locator(".what").evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"

    # As of a past day: active (the agreement of 2015), before the suspension.
    v.page.fill("#moment-as_of", "2019-01-01")
    v.page.click("button:has-text('Pokaż')")
    assert v.page.locator(".status-line .badge").inner_text() == "Aktywne"
    assert "Stan na 1 stycznia 2019" in v.text(".notice")
    assert v.page.locator("a[href*='/record/']").count() == 0  # no write controls in the past
    v.accessible("a partnership as it stood")
    v.page.fill("#moment-as_of", "2001-01-01")
    v.page.click("button:has-text('Pokaż')")
    assert "W tym czasie partnerstwo jeszcze nie istniało." in v.text()
    v.accessible("a partnership before it existed")


def test_record_check_your_answers_and_land_on_the_entry(visit: Any, seeded: Services) -> None:
    """Record a resolution: the review page shows the entry and what it changes, records nothing; "Record it"
    appends it once and lands on its anchor with the confirmation beside it; only events allowed now are offered."""
    v = visit()
    v.login("ala")
    bar = next(
        p
        for p in queries.list_partnerships(seeded.db, seeded.clock(), limit=100)["items"]
        if "Bar" in p["partner_name"]
    )
    v.goto(f"/partnerships/{bar['id']}", "Bar's page")
    assert bar["status"] == "suspended"
    assert (
        v.page.locator("section[aria-labelledby='record-title'] > ul a[href$='/record/cooperation_suspended']").count()
        == 0
    )
    v.page.click("section[aria-labelledby='record-title'] > ul a[href$='/record/council_resolution_adopted']")
    assert v.page.locator("#f-reference").count() == 0  # the resolution's number is its reference
    fill(v.page, {"purpose": "resume", "resolution_number": "IV/12/24"})
    before = log_position(seeded)
    v.page.click("button:has-text('Dalej')")
    v.accessible("the check-your-answers page")
    assert "Status: Zawieszone → Aktywne" in v.text(".effect")
    assert "IV/12/24" in v.text(".event-box")
    assert log_position(seeded) == before  # nothing recorded yet
    v.page.click("#change")
    assert v.page.input_value("#f-resolution_number") == "IV/12/24"  # back to the form with what was typed
    v.page.click("button:has-text('Dalej')")
    v.page.click("#confirm")
    assert log_position(seeded) == before + 1
    version = queries.list_events(seeded.db, bar["id"])[-1]["version"]
    assert v.page.url.endswith(f"#event-{version}")
    entry = v.page.locator(f"#event-{version}")
    assert "Zapisano: Podjęto uchwałę rady" in entry.locator(".confirmation").inner_text()
    assert v.page.locator(".flashes").count() == 0  # not at the top of the page
    assert entry.evaluate("e => e.matches(':target')")
    v.accessible("the partnership's page landed on the new entry")


def test_switching_the_language(visit: Any) -> None:
    """The browser's language decides; the switch on every page overrides it, and the choice sticks."""
    english = visit(locale="en-US")
    english.goto("/login")
    assert english.page.locator("h1").inner_text() == "Sign in"
    v = visit(locale="pl-PL")
    v.goto("/login")
    assert v.page.locator("h1").inner_text() == "Zaloguj się"
    v.page.click("nav.languages >> text=English")
    assert v.page.locator("h1").inner_text() == "Sign in"
    v.accessible("the login page in English")
    v.login("ewa")
    assert v.page.locator("h1").inner_text() == "Partnerships"
    assert "Montenegro" in v.text()
    v.accessible("the dashboard in English")
    v.page.click("text=Audit")
    v.accessible("the audit page in English")
    v.page.click("nav.languages >> text=Polski")
    assert v.page.locator("h1").inner_text() == "Audyt"
    assert v.page.url.endswith("/audit/")  # the switch came back to the same page


def test_an_auditors_walk_through_the_log(visit: Any, seeded: Services) -> None:
    for i in range(40):
        seeded.tracker.register_partnership(
            {
                "partner_name": f"Gmina {i:02d}",
                "partner_country": "UA",
                "partner_kind": "municipality",
                "local_party": "P",
            },
            recorded_by="ala",
            today=seeded.today(),
        )
    seeded.projection.catch_up()
    head = queries.head(seeded.db)
    v = visit()
    v.login("ewa")
    assert v.page.locator("a[href='/partnerships/new']").count() == 0  # no write controls for auditors
    v.page.click("nav.main-nav >> text=Audyt")
    v.accessible("the audit page")
    assert v.page.input_value("#digest-now") == f"{head['position']}:{head['hash']}"
    first = v.page.locator("table.log tbody th").all_inner_texts()
    assert first == [str(i) for i in range(1, 51)]
    v.page.click("text=Następne wpisy")
    assert v.page.locator("table.log tbody th").all_inner_texts() == [str(i) for i in range(51, head["position"] + 1)]
    v.accessible("the log's second page")
    v.page.click("#verify")
    assert "Nienaruszony." in v.text(".report")
    assert f"{head['position']}:{head['hash']}" in v.text(".report")
    v.accessible("the integrity check's result")
    v.page.fill("#f-digest", "12:nonsense")
    v.page.click("#verify")
    assert v.page.get_attribute("#f-digest", "aria-invalid") == "true"
    v.accessible("the integrity check with a bad digest")
    v.page.fill("#f-digest", f"{head['position']}:{head['hash']}")
    v.page.click("#verify")
    assert "Nienaruszony." in v.text(".report")
    with v.page.expect_download() as download:
        v.page.click("text=Dziennik jako JSONL")
    path = download.value.path()
    assert open(path, "rb").read() == "".join(export_chunks(seeded.tracker, "jsonl")).encode()
    assert download.value.suggested_filename == f"tracker-log-{head['position']}.jsonl"


def test_a_manager_acknowledges_a_reminder(visit: Any, seeded: Services) -> None:
    gurjaani = next(p for p in queries.list_partnerships(seeded.db, seeded.clock())["items"] if p["inactive"])
    seeded.tracker.flag_inactivity(UUID(gurjaani["id"]), today=seeded.today(), days=seeded.config.inactivity_days)
    seeded.projection.catch_up()
    v = visit()
    v.login("jan")
    assert "Otwarte przypomnienia" in v.text()
    v.accessible("the dashboard with reminders")
    v.page.locator(".reminder input[name=note]").first.fill("Rozmawiałem z partnerem")
    v.page.locator(".reminder button").first.click()
    # the confirmation is where the eye is: in the reminders' section the page lands on, not at the top
    assert v.page.url.endswith("#reminders")
    assert "Przypomnienie zostało potwierdzone." in v.text("#reminders .confirmation")
    assert v.page.locator(".flashes").count() == 0
    reminder = queries.list_reminders(seeded.db)[0]
    assert reminder["acknowledged_by"] == "jan" and reminder["note"] == "Rozmawiałem z partnerem"
    v.page.click(f"text={gurjaani['partner_name']}")
    assert v.page.locator("a[href*='/record/']").count() == 0  # managers see no write controls
    assert "Potwierdzono przypomnienie" in v.text("#timeline")


def test_everything_works_without_javascript(visit: Any, seeded: Services) -> None:
    v = visit(java_script_enabled=False)
    v.login("ala")
    v.page.click("a:has-text('Miasto Bar')")
    v.page.click("a[href$='/record/note_added']")
    fill(v.page, {"occurred_on": "2024-05-05", "text": "Bez JavaScriptu"})
    v.page.click("button:has-text('Dalej')")
    v.page.click("#confirm")
    assert "Bez JavaScriptu" in v.text("#timeline")
    v.page.click("button:has-text('Wyloguj się')")
    assert v.page.locator("h1").inner_text() == "Zaloguj się"


def test_error_pages_are_accessible(visit: Any) -> None:
    v = visit()
    v.login("jan")
    assert v.goto("/partnerships/new", "the 403 page").status == 403
    assert v.goto("/nowhere", "the 404 page").status == 404
    assert v.goto(f"/partnerships/{date(2020, 1, 1)}", "an unknown partnership").status == 404
    v.goto("/?status=nonsense", "the dashboard with a bad filter")
    v.goto("/?area=culture&inactive=1", "the dashboard filtered")
