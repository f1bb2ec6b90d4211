"""Journeys in a real browser against the real `tracker serve` process, as on `make run`: the county's demo
data on the embedded store, the scheduled jobs running inside serve, nobody running a scan by hand.

The manager finds the reminders already there, explained and longest silence first; the officer records an
activity on the quietest partnership and its reminder closes by itself; the manager acknowledges another and
reads the confirmation where the page lands. axe-core checks every page on the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from backend import POSTGRES
from integration.helpers import Server, cli_env, database_of, open_services

from .browser import axe_source, axe_violations, describe, have_chromium
from .helpers import PASSWORD

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not have_chromium(), reason="needs Debian's chromium at /usr/bin/chromium"),
    pytest.mark.skipif(POSTGRES, reason="serve runs the jobs itself on the embedded store only"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`tracker serve` with its jobs on a store holding the county's demo data, an officer and a manager."""
    tmp_path = tmp_path_factory.mktemp("served")
    s = open_services(database_of(tmp_path))
    try:
        s.load_seed()
        s.users.add("ala", "officer", email="ala@powiat.example", password=PASSWORD)
        s.users.add("jan", "manager", email="jan@powiat.example", password=PASSWORD)
    finally:
        s.close()
    server = Server(tmp_path, cli_env(tmp_path), "serve", jobs=True)
    try:
        yield server
    finally:
        server.stop()


class Person:
    """One user's browser (their own cookies), checking every page it is asked to with axe-core."""

    def __init__(self, browser: Any, base: str, name: str, axe: str) -> None:
        self.context = browser.new_context(locale="pl-PL")
        self.page = self.context.new_page()
        self.base, self.axe = base, axe
        self.page.goto(f"{base}/login")
        self.page.fill("#username", name)
        self.page.fill("#password", PASSWORD)
        self.page.click("#submit")
        self.page.wait_for_url(re.compile(r".*/$"))

    def accessible(self, what: str) -> None:
        violations = axe_violations(self.page, self.axe)
        assert violations == [], f"axe-core on {what} ({self.page.url}):\n{describe(violations)}"

    def reminders(self) -> list[dict[str, Any]]:
        """The open reminders as the dashboard lists them: partner, and the days of silence it says."""
        found = []
        for item in self.page.locator("#reminders li.reminder").all():
            text = item.inner_text()
            days = re.search(r"(?:brak aktywności od|nieaktywne od) (\d+) dni|(\d+) dni", text)
            assert days, text
            found.append({"partner": item.locator("h3").inner_text(), "days": int(days.group(1) or days.group(2))})
        return found


def test_reminders_appear_without_a_manual_scan_and_close_by_themselves(served: Server, browser: Any) -> None:
    axe = axe_source()
    manager = Person(browser, served.base, "jan", axe)
    assert "Inactivity check at start" in served.output()  # serve ran it: nobody typed a command
    section = manager.page.locator("#reminders").inner_text()
    assert "Sprawdzenie bezczynności ostatnio" in section  # when it ran
    assert "365 dni" in section  # and the rule it applies
    open_now = manager.reminders()
    assert len(open_now) >= 2, section
    assert [r["days"] for r in open_now] == sorted((r["days"] for r in open_now), reverse=True)
    manager.accessible("the manager's dashboard with the reminders serve opened")

    # the officer records an activity today on the quietest partnership
    quietest = open_now[0]["partner"]
    officer = Person(browser, served.base, "ala", axe)
    officer.page.click("#list-title ~ * a >> text=" + quietest)
    officer.page.click("section[aria-labelledby='record-title'] > ul a[href$='/record/activity_held']")
    officer.page.select_option("#f-activity_kind", "conference")
    officer.page.fill("#f-title", "Spotkanie z partnerem")
    officer.page.click("button:has-text('Dalej')")
    officer.accessible("the officer's check-your-answers page")
    officer.page.click("#confirm")
    assert re.search(r"#event-\d+$", officer.page.url)
    assert "Zapisano" in officer.page.locator(":target .confirmation").inner_text()

    # the manager's reminder for it is gone: closed by the activity, not by anyone's hand
    manager.page.reload()
    after = manager.reminders()
    assert quietest not in [r["partner"] for r in after]
    assert len(after) == len(open_now) - 1

    # the manager acknowledges the next one and reads the confirmation where the page lands
    first = manager.page.locator("#reminders li.reminder").first
    acknowledged = first.locator("h3").inner_text()
    first.locator("input[name=note]").fill("Partner potwierdził spotkanie w maju")
    first.locator("button").click()
    assert manager.page.url.endswith("#reminders")
    assert "Przypomnienie zostało potwierdzone." in manager.page.locator("#reminders .confirmation").inner_text()
    assert acknowledged not in [r["partner"] for r in manager.reminders()]
    manager.accessible("the dashboard after an acknowledgement")
    for person in (manager, officer):
        person.context.close()


def test_the_served_pages_are_polish_for_a_polish_browser(served: Server, browser: Any) -> None:
    """The catalogues are compiled by the app itself, whatever started it (no Makefile step)."""
    manager = Person(browser, served.base, "jan", axe_source())
    assert manager.page.locator("html").get_attribute("lang") == "pl"
    assert "Otwarte przypomnienia" in manager.page.locator("main").inner_text()
    manager.context.close()
