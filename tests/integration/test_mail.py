"""Reminder and digest mail against a real SMTP server on loopback (aiosmtpd).

The scan and the outbox are called directly with a fixed date; the outage cases take the
server down or make it answer 451, and then check that the next run sends exactly what is missing.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from uuid import UUID

import pytest
from backend import ORGANISATION

from application import jobs
from application.config import Config
from application.services import Services
from infrastructure.mail import Mail, Mailer, MailError
from projections.outbox import Outbox

from .helpers import TODAY, TRACKER, cli_env, database_of, open_services, record, register, tracker
from .smtp import SmtpServer, body_of

BASE_URL = "https://rejestr.powiat.example/"
MANAGERS = {"jan": "jan@powiat.example", "maria": "maria@powiat.example"}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, smtp: SmtpServer) -> Config:
    """The test's store, mail to the loopback server, links to BASE_URL, today fixed."""
    return Config(
        database=database_of(tmp_path),
        smtp_url=smtp.url,
        base_url=BASE_URL,
        fixed_today=TODAY,
        organisation=ORGANISATION,
    )


@pytest.fixture
def people(services: Services) -> None:
    """Two managers with addresses, one without, and an officer, auditor and admin with addresses."""
    for name, address in MANAGERS.items():
        services.users.add(name, "manager", email=address)
    services.users.add("bez-adresu", "manager")
    services.users.add("ala", "officer", email="ala@powiat.example")
    services.users.add("ewa", "auditor", email="ewa@powiat.example")
    services.users.add("root", "admin", email="root@powiat.example")


def quiet(services: Services, name: str, since: str = "2020-01-01") -> UUID:
    """An active partnership whose only activity is an agreement on ``since``."""
    pid = register(services.tracker, name)
    record(
        services.tracker, pid, "agreement_signed", occurred_on=date.fromisoformat(since), agreement_kind="partnership"
    )
    return pid


def link_of(pid: UUID | str) -> str:
    return f"{BASE_URL.rstrip('/')}/partnerships/{pid}"


def linked_partnership(message: EmailMessage) -> str:
    """The partnership id a reminder mail links to."""
    found = re.findall(r"/partnerships/([0-9a-f-]{36})", body_of(message))
    assert len(found) == 1, body_of(message)
    return found[0]


def per_partnership(smtp: SmtpServer) -> Counter[str]:
    return Counter(linked_partnership(m) for m in smtp.messages)


# --- who gets what -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
def test_one_mail_per_reminder_to_every_manager_with_an_address(services: Services, smtp: SmtpServer) -> None:
    """Each reminder is one message addressed to all managers with an e-mail, and to no one else."""
    a = quiet(services, "Gmina Alfa")
    b = quiet(services, "Gmina Beta")
    assert len(jobs.scan_inactivity(services, TODAY).flagged) == 2
    report = jobs.send_outbox(services)
    assert report.failed is None
    assert len(report.mailed) == 2
    assert per_partnership(smtp) == Counter({str(a): 1, str(b): 1})
    for envelope, message in zip(smtp.envelopes, smtp.messages, strict=True):
        assert sorted(envelope.rcpt_tos) == sorted(MANAGERS.values())
        assert envelope.mail_from == "tracker@localhost"
        assert sorted(a.strip() for a in message["To"].split(",")) == sorted(MANAGERS.values())
        assert message["From"] == "tracker@localhost"
    assert sorted(report.mailed[0]["to"]) == sorted(MANAGERS.values())


def test_no_manager_with_an_address_means_no_mail_and_the_outbox_moves_on(services: Services, smtp: SmtpServer) -> None:
    """With no manager to write to nothing is sent, and those reminders are not sent later either."""
    services.users.add("bez-adresu", "manager")
    services.users.add("ewa", "auditor", email="ewa@powiat.example")
    quiet(services, "Gmina Alfa")
    jobs.scan_inactivity(services, TODAY)
    report = jobs.send_outbox(services)
    assert (report.mailed, report.failed) == ([], None)
    assert smtp.messages == []
    assert Outbox(services.tracker, services.db).pending() == []


# --- what the mail says ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
def test_the_inactivity_mail_is_polish_and_names_the_partner_the_silence_and_the_link(
    services: Services, smtp: SmtpServer
) -> None:
    """Subject and body (decoded UTF-8) give the partner's name, the days of silence and the partnership's link."""
    pid = quiet(services, "Gmina Żółkiewka-Łęczna", since="2020-01-01")
    jobs.scan_inactivity(services, TODAY)
    jobs.send_outbox(services)
    (message,) = smtp.messages
    days = (TODAY - date(2020, 1, 1)).days
    assert message["Subject"] == f"Partnerstwo bez aktywności od {days} dni: Gmina Żółkiewka-Łęczna"
    body = body_of(message)
    assert "Gmina Żółkiewka-Łęczna" in body
    assert f"{days} dni" in body
    assert "2020-01-01" in body
    assert link_of(pid) in body
    assert "Dzień dobry" in body


@pytest.mark.usefixtures("people")
def test_the_exchange_overdue_mail_gives_the_planned_date(services: Services, smtp: SmtpServer) -> None:
    """An overdue youth exchange is mailed with the planned date, the partner and the link."""
    pid = quiet(services, "Gmina Wymiany", since="2026-01-01")
    record(
        services.tracker,
        pid,
        "youth_exchange_planned",
        occurred_on=date(2026, 2, 1),
        planned_for=date(2026, 6, 15),
    )
    report = jobs.scan_inactivity(services, TODAY)
    assert [f["kind"] for f in report.flagged] == ["exchange_overdue"]
    jobs.send_outbox(services)
    (message,) = smtp.messages
    assert message["Subject"] == "Zaległa wymiana młodzieży: Gmina Wymiany"
    body = body_of(message)
    assert "2026-06-15" in body
    assert "Gmina Wymiany" in body
    assert link_of(pid) in body
    assert f"{(TODAY - date(2026, 6, 15)).days} dni po terminie" in body


# --- outages: delayed, never lost, never repeated ----------------------------------------------------------------


@pytest.mark.usefixtures("people")
def test_a_server_refusing_after_the_first_mail_delays_the_rest(services: Services, smtp: SmtpServer) -> None:
    """Three reminders, the server answers 451 after the first: the rest wait; the next run sends exactly those."""
    pids = [quiet(services, f"Gmina {n}") for n in ("Alfa", "Beta", "Gamma")]
    jobs.scan_inactivity(services, TODAY)
    smtp.accept_only(1)
    first = jobs.send_outbox(services)
    assert len(first.mailed) == 1
    assert first.failed and "451" in first.failed
    assert len(smtp.messages) == 1
    assert len(Outbox(services.tracker, services.db).pending()) == 2

    still = jobs.send_outbox(services)  # still refusing: nothing sent, nothing lost
    assert (still.mailed, bool(still.failed)) == ([], True)
    assert len(Outbox(services.tracker, services.db).pending()) == 2

    smtp.recover()
    second = jobs.send_outbox(services)
    assert second.failed is None
    assert len(second.mailed) == 2
    assert per_partnership(smtp) == Counter({str(p): 1 for p in pids})
    assert jobs.send_outbox(services).mailed == []
    assert per_partnership(smtp) == Counter({str(p): 1 for p in pids})


@pytest.mark.usefixtures("people")
def test_a_server_that_is_down_delays_every_mail_and_a_later_run_sends_them_once(
    services: Services, smtp: SmtpServer
) -> None:
    """Server down: nothing is sent and the outbox stays; once it is back, each reminder goes out exactly once."""
    pids = [quiet(services, f"Gmina {n}") for n in ("Alfa", "Beta", "Gamma")]
    jobs.scan_inactivity(services, TODAY)
    outbox = Outbox(services.tracker, services.db)
    before = outbox.position
    smtp.stop()
    down = jobs.send_outbox(services)
    assert (down.mailed, bool(down.failed)) == ([], True)
    assert outbox.position == before
    smtp.start()
    up = jobs.send_outbox(services)
    assert up.failed is None
    assert per_partnership(smtp) == Counter({str(p): 1 for p in pids})


@pytest.mark.usefixtures("people")
def test_an_outage_between_two_scans_loses_and_repeats_nothing(services: Services, smtp: SmtpServer) -> None:
    """Mail sent, server down, more reminders, server refusing one, back: every reminder arrives exactly once."""
    early = [quiet(services, f"Gmina Wczesna {i}") for i in range(2)]
    jobs.scan_inactivity(services, TODAY)
    assert len(jobs.send_outbox(services).mailed) == 2

    later = [quiet(services, f"Gmina Późna {i}", since="2025-11-01") for i in range(3)]
    smtp.stop()
    jobs.scan_inactivity(services, date(2026, 11, 27))
    assert jobs.send_outbox(services).failed
    smtp.start()
    smtp.refuse(1)
    assert jobs.send_outbox(services).failed
    third = jobs.send_outbox(services)
    assert third.failed is None
    assert len(third.mailed) == 3
    assert per_partnership(smtp) == Counter({str(p): 1 for p in early + later})
    assert smtp.refused == 1


@pytest.mark.usefixtures("people")
def test_two_outbox_runs_one_after_the_other_send_nothing_twice(
    services: Services, config: Config, smtp: SmtpServer
) -> None:
    """A second process's outbox run (its own services on the same file) finds nothing left to send."""
    pids = [quiet(services, f"Gmina {i}") for i in range(3)]
    jobs.scan_inactivity(services, TODAY)
    other = open_services(config.database)
    try:
        other_report = jobs.send_outbox(other, Mailer(config.smtp_url, config.mail_from))
    finally:
        other.close()
    assert len(other_report.mailed) == 3
    assert jobs.send_outbox(services).mailed == []
    assert per_partnership(smtp) == Counter({str(p): 1 for p in pids})


@pytest.mark.usefixtures("people")
def test_more_reminders_than_one_batch_all_go_out_in_one_run(services: Services, smtp: SmtpServer) -> None:
    """The outbox is read batch after batch: one run sends every pending reminder, not just the first batch."""
    pids = [quiet(services, f"Gmina {i}") for i in range(5)]
    jobs.scan_inactivity(services, TODAY)
    report = jobs.send_outbox(services, limit=2)
    assert report.failed is None
    assert len(report.mailed) == 5
    assert per_partnership(smtp) == Counter({str(p): 1 for p in pids})
    assert Outbox(services.tracker, services.db).pending() == []


@pytest.mark.usefixtures("people")
def test_a_flag_retracted_before_it_was_mailed_is_not_mailed(services: Services, smtp: SmtpServer) -> None:
    """A reminder whose flag an officer retracted during an outage is not mailed afterwards; the others are."""
    keep = quiet(services, "Gmina Zostaje")
    gone = quiet(services, "Gmina Wycofana")
    report = jobs.scan_inactivity(services, TODAY)
    smtp.stop()
    assert jobs.send_outbox(services).failed
    (flag,) = [f for f in report.flagged if f["partnership_id"] == str(gone)]
    record(services.tracker, gone, "event_retracted", occurred_on=TODAY, retracts=flag["version"], reason="pomyłka")
    smtp.start()
    sent = jobs.send_outbox(services)
    assert sent.failed is None
    assert [m["partnership_id"] for m in sent.mailed] == [str(keep)]
    assert per_partnership(smtp) == Counter({str(keep): 1})
    assert Outbox(services.tracker, services.db).pending() == []


@pytest.mark.usefixtures("people")
def test_a_flag_not_yet_in_the_read_model_is_still_mailed(services: Services, smtp: SmtpServer) -> None:
    """A flag written by another writer that the read models have not caught up with is mailed, not skipped."""
    pid = quiet(services, "Gmina Świeża")
    services.projection.catch_up()
    assert services.tracker.flag_inactivity(pid, today=TODAY, days=365) is not None  # no catch-up after it
    sent = jobs.send_outbox(services)
    assert [m["partnership_id"] for m in sent.mailed] == [str(pid)]
    assert per_partnership(smtp) == Counter({str(pid): 1})


@pytest.mark.usefixtures("people")
def test_one_refused_manager_address_does_not_hold_back_the_others(services: Services, smtp: SmtpServer) -> None:
    """A 451 for one manager's mailbox still delivers to the other managers (that one address is not retried)."""
    pid = quiet(services, "Gmina Skrzynka")
    jobs.scan_inactivity(services, TODAY)
    smtp.refuse_recipient(MANAGERS["maria"])
    sent = jobs.send_outbox(services)
    assert sent.failed is None
    assert [m["partnership_id"] for m in sent.mailed] == [str(pid)]
    (envelope,) = smtp.envelopes
    assert envelope.rcpt_tos == [MANAGERS["jan"]]


# --- without SMTP ---------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
def test_without_an_smtp_url_mail_is_logged_and_the_outbox_advances(
    services: Services, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """With no TRACKER_SMTP_URL each reminder is written to the log (not sent) and counts as done."""
    pid = quiet(services, "Gmina Logowana")
    jobs.scan_inactivity(services, TODAY)
    mailer = Mailer(None, "tracker@localhost")
    with caplog.at_level(logging.INFO, logger="tracker.mail"):
        report = jobs.send_outbox(services, mailer)
    assert report.failed is None
    assert len(report.mailed) == 1
    (logged,) = mailer.logged
    assert sorted(logged.to) == sorted(MANAGERS.values())
    assert "Gmina Logowana" in logged.subject
    assert link_of(pid) in logged.body
    assert any("Gmina Logowana" in r.getMessage() and "not sent" in r.getMessage() for r in caplog.records)
    assert Outbox(services.tracker, services.db).pending() == []
    assert jobs.send_outbox(services, mailer).mailed == []
    assert smtp.messages == []


@pytest.mark.usefixtures("people")
def test_a_store_configured_without_smtp_logs_its_reminders(
    services: Services, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """With TRACKER_SMTP_URL unset in the configuration the outbox job logs each mail and moves on."""
    services.config = replace(services.config, smtp_url=None)
    quiet(services, "Gmina Bez Poczty")
    jobs.scan_inactivity(services, TODAY)
    with caplog.at_level(logging.INFO, logger="tracker.mail"):
        report = jobs.send_outbox(services)
    assert (len(report.mailed), report.failed) == (1, None)
    (logged,) = [r.getMessage() for r in caplog.records if r.name == "tracker.mail"]
    assert "Gmina Bez Poczty" in logged
    assert all(address in logged for address in MANAGERS.values())
    assert Outbox(services.tracker, services.db).pending() == []
    assert smtp.messages == []


def test_the_mailer_raises_mail_error_when_the_server_is_unreachable(smtp: SmtpServer) -> None:
    """A refused connection is a MailError (the outbox's cue to retry), not a crash."""
    smtp.stop()
    with pytest.raises(MailError):
        Mailer(smtp.url, "tracker@localhost", timeout=5).send(Mail(to=("a@b.example",), subject="x", body="y"))


# --- the digest -----------------------------------------------------------------------------------------------------


def test_the_digest_mails_the_same_position_and_hash_as_audit_digest(
    services: Services, smtp: SmtpServer, tmp_path: Path
) -> None:
    """The digest job mails POSITION:HASH, equal to `tracker audit digest`, to every auditor with an address."""
    services.users.add("ewa", "auditor", email="ewa@powiat.example")
    services.users.add("olga", "auditor", email="olga@powiat.example")
    services.users.add("bez-adresu", "auditor")
    services.users.add("jan", "manager", email="jan@powiat.example")
    quiet(services, "Gmina Skrót")
    report = jobs.send_digest(services)
    assert report.failed is None

    printed = tracker(tmp_path, "audit", "digest")
    assert printed.returncode == 0, printed.stderr
    digest = printed.stdout.decode().strip()
    assert re.fullmatch(r"2:[0-9a-f]{64}", digest)
    assert report.mailed == [{"digest": digest, "to": ["ewa@powiat.example", "olga@powiat.example"]}]

    (envelope,) = smtp.envelopes
    assert sorted(envelope.rcpt_tos) == ["ewa@powiat.example", "olga@powiat.example"]
    (message,) = smtp.messages
    assert "pozycja 2" in message["Subject"]
    assert digest in body_of(message)
    assert f"tracker audit verify --digest {digest}" in body_of(message)


def test_the_digest_waits_for_an_auditor_with_an_address(services: Services, smtp: SmtpServer) -> None:
    """With no auditor to write to, the digest job sends nothing."""
    services.users.add("bez-adresu", "auditor")
    assert jobs.send_digest(services).mailed == []
    assert smtp.messages == []


def test_the_digest_during_an_outage_reports_the_failure(services: Services, smtp: SmtpServer) -> None:
    """An SMTP outage makes the digest job report the failure instead of crashing the scheduler."""
    services.users.add("ewa", "auditor", email="ewa@powiat.example")
    smtp.stop()
    report = jobs.send_digest(services)
    assert report.mailed == []
    assert report.failed


# --- the command -----------------------------------------------------------------------------------------------------


def test_scan_inactivity_command_mails_the_managers(tmp_path: Path, smtp: SmtpServer) -> None:
    """`tracker scan-inactivity --today D` with TRACKER_SMTP_URL prints what it flagged and whom it mailed."""
    s = open_services(database_of(tmp_path))
    try:
        pid = quiet(s, "Gmina Komenda")
        for name, address in MANAGERS.items():
            s.users.add(name, "manager", email=address)
        s.users.add("ala", "officer", email="ala@powiat.example")
    finally:
        s.close()
    env = cli_env(tmp_path, TRACKER_SMTP_URL=smtp.url, TRACKER_BASE_URL=BASE_URL)
    result = tracker(tmp_path, "scan-inactivity", "--today", TODAY.isoformat(), env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert f"flagged inactive: Gmina Komenda ({pid})" in lines
    assert f"mailed {', '.join(sorted(MANAGERS.values()))}: Gmina Komenda" in lines
    (message,) = smtp.messages
    assert sorted(smtp.envelopes[0].rcpt_tos) == sorted(MANAGERS.values())
    assert link_of(pid) in body_of(message)

    again = tracker(tmp_path, "scan-inactivity", "--today", TODAY.isoformat(), env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.decode().splitlines() == [f"nothing to flag on {TODAY.isoformat()}"]
    assert len(smtp.messages) == 1


def test_scan_inactivity_command_during_an_outage_mails_later(tmp_path: Path, smtp: SmtpServer) -> None:
    """With the SMTP server down the command still flags (exit 0) and says mail is delayed; the next run mails it."""
    s = open_services(database_of(tmp_path))
    try:
        pid = quiet(s, "Gmina Awaria")
        s.users.add("jan", "manager", email="jan@powiat.example")
    finally:
        s.close()
    env = cli_env(tmp_path, TRACKER_SMTP_URL=smtp.url)
    smtp.stop()
    down = tracker(tmp_path, "scan-inactivity", "--today", TODAY.isoformat(), env=env)
    assert down.returncode == 0, down.stderr
    assert f"flagged inactive: Gmina Awaria ({pid})" in down.stdout.decode()
    assert "mail delayed" in down.stderr
    smtp.start()
    up = subprocess.run(
        [str(TRACKER), "scan-inactivity", "--today", TODAY.isoformat()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert up.returncode == 0, up.stderr
    assert "mailed jan@powiat.example: Gmina Awaria" in up.stdout
    assert per_partnership(smtp) == Counter({str(pid): 1})
