"""Scheduled jobs as plain functions: the CLI, the scheduler and the tests call them directly.

Every job is idempotent: running it twice, or in two processes at once, does
the work once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from application.services import Services
from infrastructure.locks import held
from infrastructure.mail import Mail, Mailer, MailError, recipients
from projections import queries
from projections.documents import reminder_id
from projections.outbox import Outbox

log = logging.getLogger("tracker.jobs")


@dataclass
class JobReport:
    flagged: list[dict[str, Any]] = field(default_factory=list)
    mailed: list[dict[str, Any]] = field(default_factory=list)
    failed: str | None = None


def mailer_for(services: Services) -> Mailer:
    return Mailer(services.config.smtp_url, services.config.mail_from)


def scan_inactivity(services: Services, today: date) -> JobReport:
    """Flag every partnership that went quiet (once per spell) and every overdue exchange plan (once per plan)."""
    report = JobReport()
    services.projection.catch_up()
    clock = queries.Clock(today, services.config.inactivity_days)
    for pid in queries.inactivity_candidates(services.db, clock):
        recorded = services.flag_inactivity(UUID(pid), today=today)
        if recorded is None:
            continue
        doc = queries.get_partnership(services.db, pid, services.clock())
        for version in recorded.result:
            reminder = queries.get_reminder(services.db, reminder_id(pid, version))
            report.flagged.append(
                {
                    "partnership_id": pid,
                    "partner_name": doc["partner_name"],
                    "kind": reminder["kind"],
                    "version": version,
                }
            )
    return report


def reminder_mail(doc: dict[str, Any], event: Any, to: tuple[str, ...], base_url: str) -> Mail:
    """The Polish reminder mail for one inactivity flag."""
    link = f"{base_url.rstrip('/')}/partnerships/{doc['id']}"
    name = doc["partner_name"]
    if event.kind == "exchange_overdue":
        late = (event.occurred_on - event.planned_for).days
        subject = f"Zaległa wymiana młodzieży: {name}"
        what = (
            f"wymiana młodzieży w partnerstwie „{name}” była zaplanowana na {event.planned_for.isoformat()}, "
            f"a do dziś ({event.occurred_on.isoformat()}, {late} dni po terminie) nie odnotowano, że się odbyła."
        )
    else:
        quiet = (event.occurred_on - event.last_activity_on).days
        subject = f"Partnerstwo bez aktywności od {quiet} dni: {name}"
        what = (
            f"w partnerstwie „{name}” ostatnią aktywność odnotowano {event.last_activity_on.isoformat()}, "
            f"czyli {quiet} dni temu (stan na {event.occurred_on.isoformat()})."
        )
    body = (
        f"Dzień dobry,\n\n{what}\n\n"
        f"Szczegóły partnerstwa: {link}\n\n"
        "Prosimy o sprawdzenie stanu współpracy i potwierdzenie przypomnienia w systemie.\n\n"
        "-- \nRejestr współpracy zagranicznej (wiadomość wysłana automatycznie)\n"
    )
    return Mail(to=to, subject=subject, body=body)


def send_outbox(services: Services, mailer: Mailer | None = None, *, limit: int = 100) -> JobReport:
    """Mail every reminder not yet mailed to every manager with an address; stop at the first SMTP failure.

    Reads the outbox ``limit`` reminders at a time until it is empty. A reminder whose flag was
    retracted before it went out is not mailed (there is nothing left to acknowledge).
    """
    mailer = mailer or mailer_for(services)
    report = JobReport()
    outbox = Outbox(services.tracker, services.db)
    with held(services.config.store, "outbox", wait=30) as got:
        if not got:
            report.failed = "another process is sending the outbox"
            return report
        to = recipients([u.email for u in services.users.list("manager")])
        while batch := outbox.pending(limit):
            services.projection.catch_up()  # now the read model holds every reminder of the batch
            for notification_id, event in batch:
                pid = str(event.originator_id)
                doc = queries.get_partnership(services.db, pid, services.clock())
                live = queries.get_reminder(services.db, reminder_id(pid, event.originator_version)) is not None
                if to and doc is not None and live:
                    try:
                        mailer.send(reminder_mail(doc, event, to, services.config.base_url))
                    except MailError as e:
                        log.warning("outbox: %s; will retry", e)
                        report.failed = str(e)
                        return report
                    report.mailed.append({"partnership_id": pid, "partner_name": doc["partner_name"], "to": list(to)})
                outbox.mark_sent(notification_id)
    return report


def send_digest(services: Services, mailer: Mailer | None = None) -> JobReport:
    """Mail the log's head position and hash to every auditor with an address."""
    mailer = mailer or mailer_for(services)
    report = JobReport()
    services.projection.catch_up()
    head = queries.head(services.db)
    to = recipients([u.email for u in services.users.list("auditor")])
    if not to:
        return report
    digest = f"{head['position']}:{head['hash']}"
    body = (
        "Dzień dobry,\n\n"
        f"skrót rejestru na dziś ({services.today().isoformat()}): {digest}\n\n"
        "Prosimy zachować tę wiadomość poza systemem. Polecenie\n"
        f"  tracker audit verify --digest {digest}\n"
        "udowodni później, że wpisy do tej pozycji nie zostały zmienione.\n\n"
        "-- \nRejestr współpracy zagranicznej (wiadomość wysłana automatycznie)\n"
    )
    try:
        mailer.send(Mail(to=to, subject=f"Skrót rejestru: pozycja {head['position']}", body=body))
    except MailError as e:
        report.failed = str(e)
        return report
    report.mailed.append({"digest": digest, "to": list(to)})
    return report
