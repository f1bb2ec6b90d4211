"""Every page and state of the UI is valid HTML: the Nu HTML checker (vnu-jar from npm, run with the installed
Java) finds no error on any of them, nor on the standalone council report.

The pages are collected generically: each role (and the admin in English) starts at the dashboard and follows
every link and every GET form (once as typed, once with nonsense in each field) inside the site; pages whose
address has the same shape (ids and numbers aside) are taken a limited number of times. Around that crawl, the
states only a POST reaches: each form refused with invalid input, each event's check-your-answers step, a
retraction, the integrity check's result, a failed sign-in, the 403 and 404 pages. All pages go to the checker
in one batch (its JVM starts once).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from backend import POSTGRES
from flask import Flask
from flask.testing import FlaskClient

from application import jobs
from application.report import render_report
from application.services import Services
from web.ui.partnerships import FORM_TYPES

from .browser import REPO, axe_source, axe_violations, have_chromium
from .browser import describe as axe_describe
from .helpers import PASSWORD, USERS, csrf_token, login, record, register
from .test_forms import TYPED

VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")
#: Pages taken per role and address shape (``/partnerships/{id}/record/{word}`` ...): enough to meet each
#: template with different data (schools or none, retractions, reminders), few enough to stay quick.
PER_SHAPE = 6
#: Typed into every field of a GET form to reach its error state.
NONSENSE = "2024-13-45x"
#: Never followed: they change the client (language cookie), are not pages, or are downloads.
NOT_FOLLOWED = re.compile(r"^/(static|api|language)/|^/audit/export")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(JAVA is None, reason="needs Java for the Nu HTML checker (CI installs default-jre-headless)"),
    pytest.mark.skipif(POSTGRES, reason="the markup does not depend on the store: checked once, in the SQLite run"),
]


# --- collecting pages -------------------------------------------------------------------------------


class _Links(HTMLParser):
    """The links (``<a href>`` without ``download``) and GET forms (action and named fields) of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[tuple[str, list[tuple[str, str, list[str]]]]] = []
        self._form: list[tuple[str, str, list[str]]] | None = None
        self._select: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a and "download" not in a:
            self.links.append(a["href"])
        elif tag == "form" and a.get("method", "get").lower() == "get":
            self._form = []
            self.forms.append((a.get("action", ""), self._form))
        elif self._form is not None and tag in ("input", "textarea") and a.get("name"):
            self._form.append((a["name"], a.get("type", "text"), [a.get("value", "")]))
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = (a["name"], [])
            self._form.append((a["name"], "select", self._select[1]))
        elif self._select is not None and tag == "option":
            self._select[1].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def shape(url: str) -> str:
    """The address with its ids and numbers taken out, and its query's names only: ``/partnerships/{id}?as_of``."""
    parts = urlsplit(url)
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{id}", parts.path)
    path = re.sub(r"/\d+(?=/|$)", "/{n}", path)
    names = sorted({pair.split("=", 1)[0] for pair in parts.query.split("&") if pair})
    return path + ("?" + "&".join(names) if names else "")


@dataclass
class Pages:
    """The HTML collected, by a readable name, with what it was (for the failure message)."""

    folder: Path
    what: dict[str, str] = field(default_factory=dict)
    #: pages that answered with a server error (the crawl finds them; they fail the test too)
    broken: list[str] = field(default_factory=list)

    def add(self, who: str, what: str, response: Any) -> None:
        if response.status_code >= 500:
            self.broken.append(f"{who}: {what} ({response.status_code})")
        if response.mimetype != "text/html":
            return
        name = f"{len(self.what):04d}-{who}-" + re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")[:80] + ".html"
        (self.folder / name).write_bytes(response.get_data())
        self.what[name] = f"{who}: {what} ({response.status_code})"

    def add_text(self, name: str, what: str, html: str) -> None:
        (self.folder / name).write_text(html, encoding="utf-8")
        self.what[name] = what


def crawl(client: FlaskClient, who: str, pages: Pages) -> int:
    """Follow every link and GET form from the dashboard (inside the site); returns how many pages were read."""
    seen: set[str] = set()
    per_shape: Counter[str] = Counter()
    queue: deque[str] = deque(["/"])
    while queue:
        url = queue.popleft()
        if url in seen or per_shape[shape(url)] >= PER_SHAPE:
            continue
        seen.add(url)
        per_shape[shape(url)] += 1
        response = client.get(url)
        pages.add(who, url, response)
        if response.mimetype != "text/html":
            continue
        found = _Links()
        found.feed(response.get_data(as_text=True))
        targets = list(found.links)
        for action, inputs in found.forms:
            targets.append(_submitted(action or url, inputs, nonsense=False))
            targets.append(_submitted(action or url, inputs, nonsense=True))
        for target in targets:
            absolute = urljoin(url, target).split("#", 1)[0]
            parts = urlsplit(absolute)
            if parts.netloc or not parts.path.startswith("/") or NOT_FOLLOWED.search(parts.path):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return len(seen)


def _submitted(action: str, inputs: list[tuple[str, str, list[str]]], *, nonsense: bool) -> str:
    """The address a GET form goes to: as shown (the first choice of each select), or with nonsense in each field."""
    query = []
    for name, kind, values in inputs:
        if kind in ("submit", "button"):
            continue
        if kind == "checkbox":
            query.append((name, NONSENSE if nonsense else values[0]))
        else:
            query.append((name, NONSENSE if nonsense else (values[-1] if kind == "select" and values else values[0])))
    return action.split("?", 1)[0] + "?" + urlencode(query)


# --- the states a POST reaches -------------------------------------------------------------------------


def post(client: FlaskClient, path: str, data: dict[str, Any], form_page: str | None = None) -> Any:
    token = csrf_token(client.get(form_page or path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def refused_and_reviewed(client: FlaskClient, pages: Pages, bar: str, who: str) -> None:
    """Each form refused with invalid input (dates that are no dates echoed back), and each event's review step."""
    pages.add(who, "register refused", post(client, "/partnerships/new", {"partner_name": "", "occurred_on": "32.13"}))
    namesake = {"partner_name": "miasto  bar", "partner_country": "ME", "partner_kind": "city", "areas": ["sport"]}
    pages.add(who, "register review with a namesake", post(client, "/partnerships/new", namesake))
    pages.add(who, "register changed", post(client, "/partnerships/new", {**namesake, "change": "1"}))
    for event_type in FORM_TYPES:
        path = f"/partnerships/{bar}/record/{event_type}"
        bad = {"occurred_on": "2019-02-30", "ends_on": "yesterday", "planned_for": "13/2020", "participants": "-4"}
        pages.add(who, f"{event_type} refused", post(client, path, bad))
        typed, _held = TYPED[event_type]
        when = "2020-01-01" if event_type == "cooperation_resumed" else "2015-06-01"
        pages.add(who, f"{event_type} review", post(client, path, {"occurred_on": when, **typed}))
    retract = f"/partnerships/{bar}/events/3/retract"
    pages.add(who, "retraction refused", post(client, retract, {"reason": ""}))
    pages.add(who, "retraction review", post(client, retract, {"reason": "Wpisano omyłkowo"}))
    pages.add(who, "retraction changed", post(client, retract, {"reason": "Wpisano omyłkowo", "change": "1"}))


def audit_states(client: FlaskClient, pages: Pages, who: str) -> None:
    pages.add(who, "verify intact", post(client, "/audit/verify", {"digest": ""}, form_page="/audit/"))
    pages.add(who, "verify with a digest", post(client, "/audit/verify", {"digest": "1:" + "0" * 64}, "/audit/"))
    pages.add(who, "verify bad digest", post(client, "/audit/verify", {"digest": "not a digest"}, "/audit/"))


@pytest.fixture
def story(services: Services, users: dict[str, str]) -> dict[str, str]:
    """The county's seed, Bar with a retraction and a late entry, and the reminders of an inactivity scan."""
    services.load_seed()
    bar = register(services, "Miasto Bar", "ME", occurred_on=date(2009, 3, 27))
    record(services, bar, "council_resolution_adopted", date(2009, 3, 27), purpose="establish", resolution_number="X/1")
    record(services, bar, "agreement_signed", date(2010, 5, 14), agreement_kind="partnership", reference="OR.1.2010")
    record(services, bar, "school_joined", date(2011, 9, 1), school_name="Liceum im. Kopernika", side="local")
    record(services, bar, "note_added", date(2012, 4, 2), text="Wizyta delegacji")
    record(services, bar, "event_retracted", services.today(), retracts=5, reason="Wpisano do złego partnera")
    record(services, bar, "youth_exchange_planned", date(2012, 1, 10), planned_for=date(2012, 7, 1))
    record(services, bar, "cooperation_suspended", date(2019, 6, 1), reason="Brak odpowiedzi partnera")
    record(services, bar, "cooperation_suspended", date(2015, 1, 1), reason="Wybory")  # late, takes #8's effect
    jobs.scan_inactivity(services, services.today())
    jobs.record_run(services, jobs.INACTIVITY_SCAN, services.today())
    services.projection.catch_up()
    return {"bar": bar}


@pytest.fixture
def pages(tmp_path: Path, app: Flask, services: Services, story: dict[str, str]) -> Pages:
    """Every page and state, each role's, written to files."""
    out = Pages(tmp_path / "pages")
    out.folder.mkdir()
    anonymous = app.test_client()
    out.add("anonymous", "login", anonymous.get("/login"))
    out.add("anonymous", "login refused", post(anonymous, "/login", {"username": "ala", "password": "wrong"}))
    out.add("anonymous", "login in English", app.test_client().get("/login", headers={"Accept-Language": "en-GB"}))
    for role, lang in (("officer", None), ("auditor", None), ("manager", None), ("admin", None), ("admin", "en-GB")):
        client = app.test_client()
        if lang:
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        login(client, USERS[role], PASSWORD)
        who = f"{role}-{lang or 'pl'}"
        crawl(client, who, out)
        out.add(who, "404", client.get("/partnerships/00000000-0000-0000-0000-000000000000"))
        out.add(who, "404 path", client.get("/no/such/page"))
        if role in ("officer", "admin"):
            refused_and_reviewed(client, out, story["bar"], who)
        else:
            out.add(who, "403 register form", client.get("/partnerships/new"))
        if role in ("auditor", "admin"):
            audit_states(client, out, who)
        if role in ("manager", "admin"):
            dashboard = client.get("/").get_data(as_text=True)
            action = re.search(r'action="(/reminders/[^"]+/acknowledge)"', dashboard)
            assert action, "the scan opened no reminder a manager sees"
            out.add(who, "acknowledgement refused", post(client, action.group(1), {"note": "x" * 5000}, form_page="/"))
    for lang in ("pl", "en"):
        html = render_report(services.db, services.clock(), as_of=services.today(), known_at=None, lang=lang)
        out.add_text(f"report-{lang}.html", f"the council report ({lang})", html)
        html = render_report(
            services.db, services.clock(), as_of=date(2012, 12, 31), known_at=datetime.now(UTC), lang=lang
        )
        out.add_text(f"report-2012-{lang}.html", f"the council report as of 2012, known now ({lang})", html)
    return out


# --- the checker ------------------------------------------------------------------------------------------

#: A page the checker must refuse: proof that it ran and read the files (a silent checker would pass anything).
CANARY = '<!doctype html><html lang="en"><title>x</title><time datetime="2026-01-02T03:04:05.123456+00:00">x</time>'


def vnu_jar() -> Path:
    """The checker's jar, installed with ``npm ci`` first when it is missing."""
    if not VNU.exists() and shutil.which("npm"):
        subprocess.run(["npm", "ci", "--silent"], cwd=REPO, check=True, capture_output=True)
    if not VNU.exists():
        raise RuntimeError("vnu-jar is missing: run `npm ci` in the repository (it needs Node.js and npm)")
    return VNU


def check(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The checker's messages on every file in the folder, by file name (one run of the JVM)."""
    files = sorted(str(f) for f in folder.iterdir())
    assert JAVA
    done = subprocess.run(
        [JAVA, "-Xss4m", "-jar", str(vnu_jar()), "--format", "json", "--stdout", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), f"the checker failed to run: {done.stderr[-2000:]}"
    messages: dict[str, list[dict[str, Any]]] = {}
    for m in json.loads(done.stdout)["messages"]:
        messages.setdefault(Path(m.get("url", "?").removeprefix("file:")).name, []).append(m)
    return messages


def describe(pages: Pages, messages: dict[str, list[dict[str, Any]]], kind: str) -> list[str]:
    """The checker's messages of one kind, each distinct one once with how often and on which pages."""
    found: dict[str, list[str]] = {}
    for name, said in sorted(messages.items()):
        for m in said:
            if m["type"] == kind or (kind == "error" and m["type"] == "non-document-error"):
                key = re.sub(r"“[^”]*”", "“…”", m["message"], count=1) if "Bad value" in m["message"] else m["message"]
                found.setdefault(key, []).append(
                    f"{pages.what.get(name, name)} line {m.get('lastLine', '?')}: "
                    f"«{m.get('extract', '').strip()[:140]}»"
                )
    lines = []
    for message, where in sorted(found.items(), key=lambda item: -len(item[1])):
        lines.append(f"{len(where)}× {message}")
        lines.extend(f"    {w}" for w in where[:4])
    return lines


def test_every_page_and_state_is_valid_html(pages: Pages) -> None:
    """The Nu HTML checker finds no error on any page any role reaches, in any state, nor on the report."""
    assert not pages.broken, f"server errors: {pages.broken}"
    pages.add_text("canary.html", "the canary", CANARY)
    assert len(pages.what) > 150, f"the crawl found only {len(pages.what)} pages"
    messages = check(pages.folder)
    assert any("fraction of a second" in m["message"] for m in messages.get("canary.html", [])), messages
    del messages["canary.html"]
    errors = describe(pages, messages, "error")
    warnings = describe(pages, messages, "info")
    print(f"{len(pages.what) - 1} pages checked; warnings:", *warnings, sep="\n")
    assert not errors, f"{len(pages.what) - 1} pages checked; the Nu HTML checker finds errors:\n" + "\n".join(errors)


# --- accessibility of the same pages ----------------------------------------------------------------------

#: Pages of one role with the same address shape and status show the same template: axe-core reads one.
ONE_PER_KIND = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+")


@pytest.mark.e2e
@pytest.mark.timeout(900)  # the crawl, then axe-core on each kind of page: minutes on a loaded machine
@pytest.mark.skipif(not have_chromium(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_every_kind_of_page_and_state_is_accessible(pages: Pages, browser: Any) -> None:
    """axe-core (WCAG 2.1 A and AA, best practices) finds nothing on one page of each kind the crawl met (its
    address's shape and its state: refused forms, reviews, results, errors), the site's stylesheet applied."""
    kinds: dict[str, str] = {}
    for name, what in pages.what.items():
        if name.startswith("report-"):
            continue  # the standalone report: its own journey checks it in the browser
        who, _, rest = what.partition(": ")
        kinds.setdefault(ONE_PER_KIND.sub("N", rest), name)
    assert len(kinds) > 40, f"only {len(kinds)} kinds of page"
    site = "http://tracker.test"
    static = REPO / "web" / "static"
    failures: list[str] = []
    context = browser.new_context(locale="pl-PL")
    try:
        page = context.new_page()

        def answer(route: Any) -> None:
            path = urlsplit(route.request.url).path
            if path.startswith("/static/") and (static / path.removeprefix("/static/")).is_file():
                route.fulfill(path=str(static / path.removeprefix("/static/")))
            elif path.startswith("/page/"):
                route.fulfill(path=str(pages.folder / path.removeprefix("/page/")), content_type="text/html")
            else:
                route.fulfill(status=204)

        page.route(f"{site}/**", answer)
        source = axe_source()
        print(f"axe-core on {len(kinds)} kinds of page")
        for name in kinds.values():
            page.goto(f"{site}/page/{name}")
            violations = axe_violations(page, source)
            if violations:
                failures.append(f"{pages.what[name]}:\n{axe_describe(violations)}")
    finally:
        context.close()
    assert not failures, f"axe-core on {len(kinds)} kinds of page:\n" + "\n".join(failures)
