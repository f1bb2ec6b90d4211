"""Issue 13, points 5 and 6, as an attacker found them: a line break in a name jammed every reminder mail,
an officer could undo a manager, the SMTP password was printed, the database and key were world-readable.

Mail is tested against a real SMTP server on loopback (aiosmtpd); the API, the CLI and the file modes
through the real ``tracker`` script and a served process.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from backend import ORGANISATION, POSTGRES

from application import jobs
from application.config import Config
from application.services import Services
from infrastructure.mail import Mail, Mailer, MailError, MessageRefused, redacted
from projections import queries
from projections.documents import reminder_id

from .helpers import (
    TODAY,
    Server,
    add_user,
    cli_env,
    database_of,
    free_port,
    open_services,
    record,
    register,
    request_json,
    tracker,
)
from .smtp import Collector, SmtpServer

MANAGERS = {"jan": "jan@powiat.example", "maria": "maria@powiat.example"}
#: a partner name as old data or an import may hold it: CR/LF and the Unicode separators
BROKEN_NAME = "Gmina\r\nBcc: intruz@example.org\u2028Bar\u0085"
#: the marker of the message the test SMTP server refuses for good
REFUSED_MARK = "Odrzucana"


class RefusingCollector(Collector):
    """Answers 550 (for good) to the DATA of every message whose subject names :data:`REFUSED_MARK`."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        if REFUSED_MARK.encode() in envelope.original_content.split(b"\r\n\r\n", 1)[0]:
            with self._lock:
                self.refused += 1
            return "550 5.7.1 Message refused by policy"
        return await super().handle_DATA(server, session, envelope)


class PermanentRecipientRefusal(Collector):
    """Answers 550 at RCPT for the addresses in ``refused_for_good``."""

    def __init__(self) -> None:
        super().__init__()
        self.refused_for_good: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refused_for_good:
            return "550 5.1.1 No such mailbox"
        return await super().handle_RCPT(server, session, envelope, address, options)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.handler = RefusingCollector()
    with server:
        yield server


@pytest.fixture
def config(tmp_path: Path, smtp: SmtpServer) -> Config:
    return Config(database=database_of(tmp_path), smtp_url=smtp.url, fixed_today=TODAY, organisation=ORGANISATION)


@pytest.fixture
def managers(services: Services) -> None:
    for name, address in MANAGERS.items():
        services.users.add(name, "manager", email=address)


def quiet(services: Services, name: str) -> UUID:
    """An active partnership silent since 2020, written straight through the Tracker (no schema)."""
    pid = register(services.tracker, name)
    record(services.tracker, pid, "agreement_signed", occurred_on=date(2020, 1, 1), agreement_kind="partnership")
    return pid


def subjects(smtp: SmtpServer) -> list[str]:
    return [str(m["Subject"]) for m in smtp.messages]


# --- the schema: single-line fields refuse line breaks -------------------------------------------------------


@pytest.mark.parametrize("separator", ["\r\n", "\n", "\r", "\u0085", "\u2028", "\u2029"])
def test_the_api_refuses_a_partner_name_with_a_line_break_and_records_nothing(
    tmp_path: Path, separator: str, served: tuple[Server, dict[str, str]]
) -> None:
    """Through the served process: 422 naming ``partner_name`` with the code ``line_break``; nothing recorded."""
    server, tokens = served
    before = request_json("GET", f"{server.base}/api/v1/health")[1]["position"]
    body = {"partner_name": f"Gmina{separator}Bar", "partner_country": "ME", "partner_kind": "municipality"}
    status, answer = request_json("POST", f"{server.base}/api/v1/partnerships", tokens["officer"], body)
    assert status == 422, answer
    assert answer["field_codes"] == {"partner_name": ["line_break"]}
    assert answer["fields"]["partner_name"] == ["Must be one line (no line breaks)."]
    assert request_json("GET", f"{server.base}/api/v1/health")[1]["position"] == before
    # a description keeps its lines, and white space around a name (a trailing newline) is still trimmed
    body = {**body, "partner_name": "Gmina Bar\n", "description": f"first line{separator}second line"}
    status, answer = request_json("POST", f"{server.base}/api/v1/partnerships", tokens["officer"], body)
    assert status == 201, answer
    assert answer["partner_name"] == "Gmina Bar"


def test_a_title_and_a_reference_refuse_line_breaks_a_note_keeps_them(served: tuple[Server, dict[str, str]]) -> None:
    server, tokens = served
    pid = _registered(server, tokens["officer"], "Gmina Tytuł")
    url = f"{server.base}/api/v1/partnerships/{pid}/events"
    held = {"type": "activity_held", "occurred_on": "2024-05-01", "activity_kind": "visit"}
    status, answer = request_json("POST", url, tokens["officer"], {**held, "title": "Visit\u2028of the mayor"})
    assert (status, answer["field_codes"]) == (422, {"title": ["line_break"]})
    status, answer = request_json("POST", url, tokens["officer"], {**held, "title": "Visit", "reference": "A\nB"})
    assert (status, answer["field_codes"]) == (422, {"reference": ["line_break"]})
    note = {"type": "note_added", "occurred_on": "2024-05-02", "text": "one\ntwo", "note": "three\r\nfour"}
    status, answer = request_json("POST", url, tokens["officer"], note)
    assert status == 201, answer
    assert answer["data"]["text"] == "one\ntwo"


def test_the_openapi_document_gives_single_line_fields_the_single_line_pattern(
    served: tuple[Server, dict[str, str]],
) -> None:
    from web.schemas import LINE_PATTERN, TEXT_PATTERN

    server, _ = served
    status, doc = request_json("GET", f"{server.base}/api/v1/openapi.json")
    assert status == 200
    schemas = doc["components"]["schemas"]
    registration = next(s for name, s in schemas.items() if name.startswith("RegisterPartnership"))
    assert registration["properties"]["partner_name"]["pattern"] == LINE_PATTERN
    assert registration["properties"]["description"]["pattern"] == TEXT_PATTERN


# --- mail that never jams ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("managers")
def test_a_partner_name_with_a_line_break_is_mailed_with_a_one_line_subject_and_the_rest_go_out(
    services: Services, smtp: SmtpServer
) -> None:
    """Old data bypassing the schema: the subject is folded to one line, no header is injected, and the
    reminders behind it are mailed in the same run."""
    before = quiet(services, "Gmina Alfa")
    broken = quiet(services, BROKEN_NAME)
    after = quiet(services, "Gmina Omega")
    assert len(jobs.scan_inactivity(services, TODAY).flagged) == 3
    report = jobs.send_outbox(services)
    assert (report.failed, report.set_aside) == (None, [])
    assert len(report.mailed) == 3
    assert len(smtp.messages) == 3
    for message in smtp.messages:
        assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
        assert message["Bcc"] is None
        for envelope in smtp.envelopes:
            assert sorted(envelope.rcpt_tos) == sorted(MANAGERS.values())  # no intruder among the recipients
    assert any("Gmina Bcc: intruz@example.org Bar" in s for s in subjects(smtp))
    assert {str(p) for p in (before, broken, after)} == {m["partnership_id"] for m in report.mailed}


@pytest.mark.usefixtures("managers")
def test_a_message_the_server_refuses_for_good_is_set_aside_once_and_the_next_ones_go_out(
    services: Services, smtp: SmtpServer
) -> None:
    """A 550 to one message: it is set aside (reported, listed for the dashboard), the others are mailed in
    the same run, and a second run neither retries it nor sends anything twice."""
    first = quiet(services, "Gmina Alfa")
    refused = quiet(services, f"Gmina {REFUSED_MARK}")
    last = quiet(services, "Gmina Omega")
    jobs.scan_inactivity(services, TODAY)
    report = jobs.send_outbox(services)
    assert report.failed is None
    assert {m["partnership_id"] for m in report.mailed} == {str(first), str(last)}
    assert [a["partnership_id"] for a in report.set_aside] == [str(refused)]
    aside = report.set_aside[0]
    assert aside["reminder_id"] == reminder_id(str(refused), 3)  # registered, agreement, flag
    assert "550" in aside["error"]
    listed = jobs.set_aside_messages(services)
    assert [(a["partnership_id"], a["reminder_id"]) for a in listed] == [(str(refused), aside["reminder_id"])]
    assert listed[0]["to"] == sorted(MANAGERS.values())
    assert smtp.refused == 1
    assert len(smtp.messages) == 2

    again = jobs.send_outbox(services)
    assert (again.mailed, again.set_aside, again.failed) == ([], [], None)
    assert smtp.refused == 1 and len(smtp.messages) == 2
    assert len(jobs.set_aside_messages(services)) == 1
    # kept out of the event log: the log holds only the partnerships' events
    types = {e["type"] for e in queries.list_events(services.db, str(refused))}
    assert types == {"partnership_registered", "agreement_signed", "inactivity_flagged"}

    # the managers see it on the dashboard, with the partner and the server's answer; an officer does not
    from ui.helpers import PASSWORD, login

    from web import create_app

    app = create_app(services=services)
    services.users.add("kasia", "manager", password=PASSWORD)
    services.users.add("ola", "officer", password=PASSWORD)
    manager, officer = app.test_client(), app.test_client()
    login(manager, "kasia")
    login(officer, "ola")
    page = manager.get("/").get_data(as_text=True)
    notice = page[page.index('id="set-aside"') :].split("</div>", 1)[0]
    assert "1 wiadomość z przypomnieniem nie mogła zostać wysłana" in notice
    assert f"Gmina {REFUSED_MARK}" in notice and "550" in notice
    assert 'id="set-aside"' not in officer.get("/").get_data(as_text=True)


@pytest.mark.usefixtures("managers")
def test_every_recipient_refused_for_good_sets_the_message_aside_but_a_busy_mailbox_only_delays(
    tmp_path: Path, services: Services
) -> None:
    """550 at RCPT for every recipient: set aside. 451 at RCPT for every recipient: an outage, kept for later."""
    server = SmtpServer()
    handler = PermanentRecipientRefusal()
    server.handler = handler
    with server:
        mailer = Mailer(server.url, "tracker@localhost")
        quiet(services, "Gmina Alfa")
        jobs.scan_inactivity(services, TODAY)
        for address in MANAGERS.values():
            handler.refused_recipients.add(address)  # 451: try later
        delayed = jobs.send_outbox(services, mailer)
        assert delayed.failed is not None and delayed.set_aside == [] and delayed.mailed == []
        handler.refused_recipients.clear()
        handler.refused_for_good |= set(MANAGERS.values())  # 550: never
        report = jobs.send_outbox(services, mailer)
        assert report.failed is None and report.mailed == []
        assert len(report.set_aside) == 1 and "refused every recipient" in report.set_aside[0]["error"]
        assert server.messages == []


def test_the_mailer_sorts_its_refusals() -> None:
    """A header the library refuses is MessageRefused (set aside); an unreachable server a plain MailError."""
    mailer = Mailer(f"smtp://127.0.0.1:{free_port()}", "tracker@localhost", timeout=2)
    with pytest.raises(MessageRefused):
        mailer.message(Mail(to=("jan@powiat.example",), subject="s", body="b", message_id="<a@b>\r\nBcc: x@y"))
    with pytest.raises(MailError) as outage:
        mailer.send(Mail(to=("jan@powiat.example",), subject="s", body="b"))
    assert not isinstance(outage.value, MessageRefused)
    # every line break and control character of a header becomes a space
    message = mailer.message(Mail(to=("jan@powiat.example",), subject="a\r\nb\u2028c\x85d\x00e", body="b"))
    assert message["Subject"] == "a b c d e"


@pytest.mark.usefixtures("managers")
def test_each_reminder_mail_carries_a_message_id_derived_from_the_reminder(
    services: Services, smtp: SmtpServer
) -> None:
    """The Message-ID is the reminder's: the same on a resend, different between reminders."""
    a = quiet(services, "Gmina Alfa")
    b = quiet(services, "Gmina Beta")
    jobs.scan_inactivity(services, TODAY)
    jobs.send_outbox(services)
    reminders = {r["partnership_id"]: r["id"] for r in queries.list_reminders(services.db, is_open=True)}
    sent = {m["Message-ID"] for m in smtp.messages}
    wanted = {f"<reminder.{reminders[str(p)]}@localhost>" for p in (a, b)}
    assert sent == wanted
    # a resend (the outbox crashed after SMTP took it) builds the very same header
    doc = queries.get_partnership(services.db, str(a), services.clock())
    rid = reminders[str(a)]
    assert rid == reminder_id(str(a), 3)  # registered, agreement, flag
    mails = [
        jobs.reminder_mail(doc, _flag_of(services, a), ("jan@powiat.example",), "http://x", reminder=rid)
        for _ in range(2)
    ]
    ids = {Mailer(None, "tracker@localhost").message(m)["Message-ID"] for m in mails}
    assert ids == {f"<reminder.{rid}@localhost>"}


def _flag_of(services: Services, pid: UUID) -> Any:
    """The partnership's inactivity_flagged event, as the outbox reads it."""
    from projections.outbox import Outbox

    outbox = Outbox(services.tracker, services.db, name="test.reader")
    return next(event for _, event in outbox.pending() if event.originator_id == pid)


def test_scan_inactivity_on_such_data_prints_no_traceback_and_mails_the_rest(tmp_path: Path, smtp: SmtpServer) -> None:
    """Through the real command: a name with a line break and a message the server refuses for good."""
    env = cli_env(tmp_path, TRACKER_SMTP_URL=smtp.url)
    services = open_services(env["TRACKER_DATABASE"])
    try:
        for name, address in MANAGERS.items():
            services.users.add(name, "manager", email=address)
        quiet(services, BROKEN_NAME)
        quiet(services, f"Gmina {REFUSED_MARK}")
        quiet(services, "Gmina Omega")
    finally:
        services.close()
    result = tracker(tmp_path, "scan-inactivity", "--today", TODAY.isoformat(), env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "mail set aside" in result.stderr and REFUSED_MARK in result.stderr
    assert len(smtp.messages) == 2
    again = tracker(tmp_path, "scan-inactivity", "--today", TODAY.isoformat(), env=env)
    assert again.returncode == 0 and "Traceback" not in again.stderr
    assert "mail set aside" not in again.stderr
    assert len(smtp.messages) == 2 and smtp.refused == 1


# --- secrets -------------------------------------------------------------------------------------------------

PASSWORD = "Tajne-Haslo-42"  # noqa: S105 - the secret whose absence is tested


def test_the_smtp_password_is_never_printed(tmp_path: Path) -> None:
    """Neither the command's output nor the served process's log says the SMTP URL's password."""
    url = f"smtp://tracker:{PASSWORD}@127.0.0.1:{free_port()}"  # nobody listens: every send fails
    env = cli_env(tmp_path, TRACKER_SMTP_URL=url)
    services = open_services(env["TRACKER_DATABASE"])
    try:
        services.users.add("jan", "manager", email="jan@powiat.example")
        quiet(services, "Gmina Alfa")
    finally:
        services.close()
    result = tracker(tmp_path, "scan-inactivity", "--today", TODAY.isoformat(), env=env)
    out = result.stdout.decode() + result.stderr
    assert "mail delayed" in out and "tracker:***@127.0.0.1" in out
    assert PASSWORD not in out

    if not POSTGRES:  # serve runs the jobs (and so sends the outbox) on the embedded store only
        server = Server(tmp_path, env, "serve-with-smtp", jobs=True)  # the jobs at start send the outbox
        try:
            _wait_for(lambda: "***@127.0.0.1" in server.output(), "the outbox's warning in the server's log")
        finally:
            server.stop()
        assert PASSWORD not in server.output()

    bad = tracker(tmp_path, "scan-inactivity", env={**env, "TRACKER_SMTP_URL": f"smtp:/x:{PASSWORD}@h"})
    assert bad.returncode != 0 and PASSWORD not in bad.stderr + bad.stdout.decode()
    assert redacted(f"smtps://u:{PASSWORD}@mail.example:465") == "smtps://u:***@mail.example:465"


def _wait_for(condition: Any, what: str, deadline_s: float = 60) -> None:
    import time

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"no {what} in time")


def test_the_database_its_wal_and_shm_and_the_key_are_private_from_the_start(tmp_path: Path) -> None:
    """A fresh SQLite store served under umask 022: every file that holds the register or the key is 0600."""
    env = cli_env(tmp_path)
    if env["TRACKER_DATABASE"].startswith(("postgresql://", "postgres://")):
        pytest.skip("a PostgreSQL store has no files")
    database = tmp_path / "fresh" / "events.db"
    database.parent.mkdir()
    env["TRACKER_DATABASE"] = str(database)
    old = os.umask(0o022)
    try:
        server = Server(tmp_path, env, "fresh")
    finally:
        os.umask(old)
    try:
        token = add_user(tmp_path, env, "ala", "officer")
        _registered(server, token, "Gmina Alfa")  # a write: the WAL and the shared memory are in use
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in database.parent.iterdir()}
    finally:
        server.stop()
    assert {"events.db", "events.db-wal", "events.db-shm", "events.db.secret_key"} <= set(files), files
    for name in ("events.db", "events.db-wal", "events.db-shm", "events.db.secret_key"):
        assert files[name] == 0o600, (name, oct(files[name]))


# --- rights on retraction --------------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    """A served process with an officer, a manager and an admin (their tokens by role)."""
    env = cli_env(tmp_path)
    tokens = {role: add_user(tmp_path, env, f"u-{role}", role) for role in ("officer", "manager", "admin")}
    server = Server(tmp_path, env, "rights")
    server.env = env  # type: ignore[attr-defined]
    try:
        yield server, tokens
    finally:
        server.stop()


def _registered(server: Server, token: str, name: str) -> str:
    body = {"partner_name": name, "partner_country": "ME", "partner_kind": "municipality", "occurred_on": "2015"}
    status, answer = request_json("POST", f"{server.base}/api/v1/partnerships", token, body)
    assert status == 201, answer
    return answer["id"]


def _versions(server: Server, token: str, pid: str) -> dict[str, int]:
    status, answer = request_json("GET", f"{server.base}/api/v1/partnerships/{pid}/events", token)
    assert status == 200
    return {e["type"]: e["version"] for e in answer["items"]}


def test_who_may_retract_a_flag_and_an_acknowledgement(tmp_path: Path, served: tuple[Server, dict[str, str]]) -> None:
    """Officer: not a flag, not an acknowledgement (403, nothing recorded, dry run alike). Manager: an
    acknowledgement (201), nothing else. Admin: a flag."""
    server, tokens = served
    pid = _registered(server, tokens["officer"], "Gmina Cicha")
    url = f"{server.base}/api/v1/partnerships/{pid}/events"
    agreement = {"type": "agreement_signed", "occurred_on": "2016-01-01", "agreement_kind": "partnership"}
    assert request_json("POST", url, tokens["officer"], agreement)[0] == 201
    scan = tracker(tmp_path, "scan-inactivity", env=server.env)  # type: ignore[attr-defined]
    assert scan.returncode == 0, scan.stderr
    _wait_for(lambda: "inactivity_flagged" in _versions(server, tokens["officer"], pid), "flag in the served views")
    flagged = _versions(server, tokens["officer"], pid)["inactivity_flagged"]

    def retract(role: str, version: int, dry_run: bool = False) -> tuple[int, dict[str, Any]]:
        body = {"type": "event_retracted", "occurred_on": str(date.today().year), "retracts": version, "reason": "x"}
        return request_json("POST", url + ("?dry_run=true" if dry_run else ""), tokens[role], body)

    def position() -> int:
        return request_json("GET", f"{server.base}/api/v1/health")[1]["position"]

    before = position()
    for dry_run in (True, False):
        status, answer = retract("officer", flagged, dry_run)
        assert (status, answer["code"]) == (403, "role_may_not_retract"), answer
    status, answer = retract("manager", flagged)
    assert (status, answer["code"]) == (403, "role_may_not_retract")
    assert position() == before

    status, reminders = request_json("GET", f"{server.base}/api/v1/reminders?open=true", tokens["manager"])
    rid = next(r["id"] for r in reminders["items"] if r["partnership_id"] == pid)
    status, answer = request_json("POST", f"{server.base}/api/v1/reminders/{rid}/acknowledge", tokens["manager"], {})
    assert status == 200, answer
    acknowledged = _versions(server, tokens["officer"], pid)["reminder_acknowledged"]

    before = position()
    status, answer = retract("officer", acknowledged)
    assert (status, answer["code"]) == (403, "role_may_not_retract"), answer
    # a manager records nothing else: not a note, not the retraction of an officer's entry
    note = {"type": "note_added", "occurred_on": "2024", "text": "x"}
    assert request_json("POST", url, tokens["manager"], note)[1]["code"] == "role_may_not_record"
    assert request_json("POST", url, tokens["manager"], {"type": "note_added"})[0] == 403
    status, answer = retract("manager", _versions(server, tokens["officer"], pid)["agreement_signed"])
    assert (status, answer["code"]) == (403, "role_may_not_retract")
    assert position() == before

    status, answer = retract("manager", acknowledged)
    assert status == 201, answer
    assert answer["data"]["retracts"] == acknowledged
    status, answer = retract("admin", flagged)
    assert status == 201, answer
    # the officer still retracts an ordinary entry
    status, answer = retract("officer", _versions(server, tokens["officer"], pid)["agreement_signed"])
    assert status == 201, answer
