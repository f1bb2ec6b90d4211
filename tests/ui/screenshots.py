"""Take the README's screenshots (docs/screenshots/*.png) with Playwright and Debian's chromium.

    .venv/bin/python -m tests.ui.screenshots [OUTPUT_DIR]

A fresh store in a temporary folder gets the county's seed and the demo users (with the random passwords the
demo loader gives them); a few events are added so the timeline shows a retraction and the dashboard a
reminder. The views: a desktop (1280 px) dashboard, partnership page and audit page, a phone (375 px) with the
register as stacked rows and a partnership's timeline, and a wide screen (1920 px) audit log whose hashes stay on one
line. Nothing outside the temporary folder changes.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from application import jobs
from application.config import Config
from application.services import Services, build_services
from entrypoints.cli import load_demo
from projections import queries
from web import create_app

from .browser import CHROMIUM, LAUNCH_ARGS, served

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
WIDE = {"width": 1920, "height": 1080}


def prepare(folder: Path) -> tuple[Services, str, dict[str, str]]:
    """The demo store with a retraction on Bar's timeline and an open reminder: (services, Bar's id, passwords)."""
    services = build_services(Config(database=str(folder / "events.db")))
    passwords = {name: password for name, _role, password, _token in load_demo(services)}
    items = queries.list_partnerships(services.db, services.clock())["items"]
    bar = next(p for p in items if p["partner_country"] == "ME")
    record = services.tracker.record_event
    pid = UUID(bar["id"])
    v = record(
        pid,
        "note_added",
        {"occurred_on": date(2012, 4, 2), "text": "Wizyta delegacji z Baru w Piasecznie"},
        recorded_by="urzednik",
        today=services.today(),
    ).version
    record(
        pid,
        "event_retracted",
        {"occurred_on": services.today(), "retracts": v, "reason": "Wpisano do złego partnera"},
        recorded_by="urzednik",
        today=services.today(),
    )
    jobs.scan_inactivity(services, services.today())  # the reminders, and "the check last ran" on the dashboard
    jobs.record_run(services, jobs.INACTIVITY_SCAN, services.today())
    services.projection.catch_up()
    return services, bar["id"], passwords


def main(out: Path = OUT) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracker-shots-") as folder:
        services, bar, passwords = prepare(Path(folder))
        app = create_app(services=services)
        with served(app) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)

            def signed_in(name: str, viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
                page = browser.new_context(locale="pl-PL", viewport=viewport, **options).new_page()
                page.goto(f"{url}/login")
                page.fill("#username", name)
                page.fill("#password", passwords[name])
                page.click("#submit")
                page.wait_for_url(f"{url}/")
                return page

            manager = signed_in("kierownik")
            manager.screenshot(path=str(out / "dashboard.png"), full_page=True)
            officer = signed_in("urzednik")
            officer.goto(f"{url}/partnerships/{bar}")
            officer.screenshot(path=str(out / "partnership.png"), full_page=True)
            auditor = signed_in("audytor", {**DESKTOP, "height": 1250})
            auditor.goto(f"{url}/audit/")
            auditor.click("#verify")
            auditor.screenshot(path=str(out / "audit.png"), full_page=False)

            phone = signed_in("urzednik", PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
            phone.evaluate("() => document.querySelector('.found').scrollIntoView()")
            phone.screenshot(path=str(out / "phone-dashboard.png"), full_page=False)
            phone.goto(f"{url}/partnerships/{bar}")
            phone.evaluate("() => document.getElementById('timeline-title').scrollIntoView()")
            phone.screenshot(path=str(out / "phone-timeline.png"), full_page=False)

            wide = signed_in("audytor", WIDE)
            wide.goto(f"{url}/audit/")
            wide.evaluate("() => document.getElementById('log-title').scrollIntoView()")
            wide.screenshot(path=str(out / "wide-audit.png"), full_page=False)
            browser.close()
        services.close()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
