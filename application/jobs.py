"""Scheduled jobs as plain functions: the CLI, the scheduler and the tests call them directly.

Every job is idempotent: running it twice, or in two processes at once, does
the work once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from application.services import Services
from application.vocabulary import DEFAULT_LANGUAGE, N_, fill, words
from domain import rules
from infrastructure.locks import held
from infrastructure.mail import Mail, Mailer, MailError, MessageRefused, message_id, recipients
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
    #: messages that can never be sent as they are, set aside this run (the later ones went out)
    set_aside: list[dict[str, Any]] = field(default_factory=list)


def mailer_for(services: Services) -> Mailer:
    return Mailer(services.config.smtp_url, services.config.mail_from)


#: The jobs whose last run is kept (in the settings table, never in the log).
INACTIVITY_SCAN, MAIL_OUTBOX, DIGEST = "inactivity_scan", "mail_outbox", "digest"


def record_run(services: Services, job: str, today: date) -> None:
    """Keep when ``job`` last ran (now, in UTC) and for which office day."""
    moment = datetime.now(UTC).isoformat(timespec="seconds")
    services.users.put_setting(f"job:{job}:last_run", json.dumps({"at": moment, "today": today.isoformat()}))


def last_run(services: Services, job: str) -> dict[str, str] | None:
    """``{"at": UTC ISO moment, "today": office day}`` of the last run of ``job``, or None when it never ran."""
    value = services.users.get_setting(f"job:{job}:last_run")
    if not value:
        return None
    try:
        run = json.loads(value)
    except ValueError:
        return None
    return run if isinstance(run, dict) and "at" in run and "today" in run else None


def scan_due(services: Services) -> bool:
    """Whether the inactivity scan has not yet run for the office's today (run it at start then)."""
    run = last_run(services, INACTIVITY_SCAN)
    return run is None or run["today"] != services.today().isoformat()


def would_flag(services: Services, today: date) -> list[dict[str, Any]]:
    """What :func:`scan_inactivity` would flag on ``today``, recording nothing (the domain's rules decide)."""
    services.projection.catch_up()
    clock = queries.Clock(today, services.config.inactivity_days)
    out: list[dict[str, Any]] = []
    for pid in queries.inactivity_candidates(services.db, clock):
        state = services.tracker.get_partnership(UUID(pid)).current()
        doc = queries.get_partnership(services.db, pid, services.clock())
        name = doc["partner_name"] if doc else pid
        if rules.needs_inactivity_flag(state, today, services.config.inactivity_days):
            last = state.last_activity_on.isoformat() if state.last_activity_on else None
            out.append({"partnership_id": pid, "partner_name": name, "kind": "inactive", "last_activity_on": last})
        for _version, planned_for in rules.overdue_plans(state, today):
            out.append(
                {
                    "partnership_id": pid,
                    "partner_name": name,
                    "kind": "exchange_overdue",
                    "planned_for": planned_for.isoformat(),
                }
            )
    return out


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
    record_run(services, INACTIVITY_SCAN, today)
    return report


def reminder_mail(
    doc: dict[str, Any],
    event: Any,
    to: tuple[str, ...],
    base_url: str,
    lang: str = MAIL_LANGUAGE,
    *,
    reminder: str | None = None,
    sender: str = "tracker@localhost",
) -> Mail:
    """The reminder mail for one inactivity flag, in ``lang`` (Polish unless asked otherwise).

    With ``reminder`` (the reminder's id, as the outbox gives it) its ``Message-ID`` is derived from it, so a
    mail sent again (after a crash between handing it to SMTP and moving the outbox on) is the same message to
    the receiving system.
    """
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
    body = _signed([_("Hello,"), what, details, please], lang)
    stable = message_id(f"reminder.{reminder}", sender) if reminder else None
    return Mail(to=to, subject=subject, body=body, message_id=stable)


def _signed(paragraphs: list[str], lang: str) -> str:
    """A mail's body: its paragraphs, then the signature."""
    return "\n\n".join(paragraphs) + "\n\n-- \n" + words(lang).gettext(SIGNATURE) + "\n"


def send_outbox(services: Services, mailer: Mailer | None = None, *, limit: int = 100) -> JobReport:
    """Mail every reminder not yet mailed to every manager with an address; stop at the first SMTP outage.

    Reads the outbox ``limit`` reminders at a time until it is empty. A reminder whose flag was
    retracted before it went out is not mailed (there is nothing left to acknowledge). A message that
    can never be sent as it is (:class:`MessageRefused`) is set aside (:func:`set_aside_messages`),
    reported in ``set_aside``, and the messages behind it go out in the same run.
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
                rid = reminder_id(pid, event.originator_version)
                live = queries.get_reminder(services.db, rid) is not None
                if to and doc is not None and live:
                    sender = services.config.mail_from
                    try:
                        mail = reminder_mail(doc, event, to, services.config.base_url, reminder=rid, sender=sender)
                        mailer.send(mail)
                    except MessageRefused as e:
                        record = {"reminder_id": rid, "partnership_id": pid, "partner_name": doc["partner_name"]}
                        record |= {
                            "to": list(to),
                            "error": str(e),
                            "at": datetime.now(UTC).isoformat(timespec="seconds"),
                        }
                        log.warning("outbox: reminder %s set aside: %s", rid, e)
                        outbox.set_aside(notification_id, record)
                        report.set_aside.append(record)
                        continue
                    except MailError as e:
                        log.warning("outbox: %s; will retry", e)
                        report.failed = str(e)
                        return report
                    report.mailed.append({"partnership_id": pid, "partner_name": doc["partner_name"], "to": list(to)})
                outbox.mark_sent(notification_id)
    return report


def set_aside_messages(services: Services) -> list[dict[str, Any]]:
    """Every reminder mail set aside because it can never be sent as it is, oldest first (for the dashboard).

    Each: ``notification_id``, ``reminder_id``, ``partnership_id``, ``partner_name``, ``to``, ``error``
    (why, with no secret in it) and ``at`` (when it was set aside, ISO 8601 UTC).
    """
    return Outbox(services.tracker, services.db).set_aside_messages()


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
    # stable, and never a reminder's: the same day's digest of the same head is the same message
    stable = message_id(f"digest.{today}.{head['position']}", services.config.mail_from)
    try:
        mailer.send(Mail(to=to, subject=subject, body=body, message_id=stable))
    except MailError as e:
        report.failed = str(e)
        return report
    report.mailed.append({"digest": digest, "to": list(to)})
    return report
