"""Take the README's screenshots (docs/screenshots/*.png) with Playwright and Debian's chromium.

    .venv/bin/python -m tests.ui.screenshots [OUTPUT_DIR]

A fresh store in a temporary folder gets the county's seed and the demo users; a few events are added so
the timeline shows a retraction and the dashboard a reminder. Nothing outside the temporary folder changes.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path
from uuid import UUID

from application.config import Config
from application.services import build_services
from entrypoints.cli import DEMO_PASSWORD, load_demo
from projections import queries
from web import create_app

from .browser import CHROMIUM, LAUNCH_ARGS, served

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def prepare(folder: Path):  # noqa: ANN201 - the Services
    services = build_services(Config(database=str(folder / "events.db")))
    load_demo(services)
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
    inactive = next(p for p in items if p["inactive"])
    services.tracker.flag_inactivity(UUID(inactive["id"]), today=services.today(), days=services.config.inactivity_days)
    services.projection.catch_up()
    return services, bar["id"]


def main(out: Path = OUT) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracker-shots-") as folder:
        services, bar = prepare(Path(folder))
        app = create_app(services=services)
        with served(app) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)

            def signed_in(name: str, height: int = 900):  # noqa: ANN202 - a Playwright page
                page = browser.new_context(locale="pl-PL", viewport={"width": 1280, "height": height}).new_page()
                page.goto(f"{url}/login")
                page.fill("#username", name)
                page.fill("#password", DEMO_PASSWORD)
                page.click("#submit")
                return page

            manager = signed_in("kierownik")
            manager.screenshot(path=str(out / "dashboard.png"), full_page=True)
            officer = signed_in("urzednik")
            officer.goto(f"{url}/partnerships/{bar}")
            officer.screenshot(path=str(out / "partnership.png"), full_page=True)
            auditor = signed_in("audytor", height=1250)
            auditor.goto(f"{url}/audit/")
            auditor.click("#verify")
            auditor.screenshot(path=str(out / "audit.png"), full_page=False)
            browser.close()
        services.close()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
