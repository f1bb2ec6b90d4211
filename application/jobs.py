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
from application.vocabulary import DEFAULT_LANGUAGE, N_, fill, words
from infrastructure.locks import held
from infrastructure.mail import Mail, Mailer, MailError, recipients
from projections import queries
from projections.documents import reminder_id
from projections.outbox import Outbox

log = logging.getLogger("tracker.jobs")

#: The language of the mails (the office's); their texts are in the catalogues, under English message ids.
MAIL_LANGUAGE = DEFAULT_LANGUAGE
#: The mails' signature.
SIGNATURE = N_("Register of foreign cooperation (message sent automatically)")


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


def reminder_mail(
    doc: dict[str, Any], event: Any, to: tuple[str, ...], base_url: str, lang: str = MAIL_LANGUAGE
) -> Mail:
    """The reminder mail for one inactivity flag, in ``lang`` (Polish unless asked otherwise)."""
    _ = words(lang).gettext
    link = f"{base_url.rstrip('/')}/partnerships/{doc['id']}"
    name = doc["partner_name"]
    today = event.occurred_on.isoformat()
    if event.kind == "exchange_overdue":
        late = (event.occurred_on.first - event.planned_for.last).days  # a month or a year is late after its end
        subject = fill(_("Youth exchange overdue: {name}"), {"name": name})
        what = fill(
            _(
                "the youth exchange in the partnership “{name}” was planned for {planned_for}, and by today "
                "({today}, {late} days after that date) it has not been recorded as held."
            ),
            {"name": name, "planned_for": event.planned_for.isoformat(), "today": today, "late": late},
        )
    else:
        quiet = (event.occurred_on.first - event.last_activity_on.last).days  # counted from a period's last day
        subject = fill(_("Partnership without activity for {days} days: {name}"), {"days": quiet, "name": name})
        what = fill(
            _(
                "in the partnership “{name}” the last activity was recorded on {last_activity_on}, "
                "{days} days ago (as of {today})."
            ),
            {"name": name, "last_activity_on": event.last_activity_on.isoformat(), "days": quiet, "today": today},
        )
    details = fill(_("Details of the partnership: {link}"), {"link": link})
    please = _("Please check the state of the cooperation and acknowledge the reminder in the system.")
    return Mail(to=to, subject=subject, body=_signed([_("Hello,"), what, details, please], lang))


def _signed(paragraphs: list[str], lang: str) -> str:
    """A mail's body: its paragraphs, then the signature."""
    return "\n\n".join(paragraphs) + "\n\n-- \n" + words(lang).gettext(SIGNATURE) + "\n"


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


def send_digest(services: Services, mailer: Mailer | None = None, *, lang: str = MAIL_LANGUAGE) -> JobReport:
    """Mail the log's head position and hash to every auditor with an address (in Polish unless asked otherwise)."""
    mailer = mailer or mailer_for(services)
    report = JobReport()
    services.projection.catch_up()
    head = queries.head(services.db)
    to = recipients([u.email for u in services.users.list("auditor")])
    if not to:
        return report
    digest = f"{head['position']}:{head['hash']}"
    _ = words(lang).gettext
    today = services.today().isoformat()
    line = fill(_("the register's digest for today ({today}): {digest}"), {"today": today, "digest": digest})
    keep = _("Please keep this message outside the system. The command")
    proves = _("will prove later that the entries up to this position have not been changed.")
    body = _signed([_("Hello,"), line, f"{keep}\n  tracker audit verify --digest {digest}\n{proves}"], lang)
    subject = fill(_("Register digest: position {position}"), {"position": head["position"]})
    try:
        mailer.send(Mail(to=to, subject=subject, body=body))
    except MailError as e:
        report.failed = str(e)
        return report
    report.mailed.append({"digest": digest, "to": list(to)})
    return report
