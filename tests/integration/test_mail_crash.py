"""Mail at most once to the reader: a real `tracker scheduler` killed between the SMTP server's acceptance of a
reminder and the outbox's "mark sent".

The outbox sends, then marks (docs/operators.md, "Mail delivery"): a crash in between repeats the message at
the next run, never loses it, and the repeat carries the same ``Message-ID`` (``<reminder.ID@DOMAIN>``, from the
reminder's id and the sender's domain), so the receiving system and mail clients take it for the same message.

The SMTP server (aiosmtpd on loopback) SIGKILLs the scheduler itself, at two moments: when it has stored the
message but before its ``250`` reached the scheduler, and after the ``250`` (when the scheduler says QUIT, which
it does only after reading the 250 and before marking). The next scheduler started sends the reminder again;
the one after that sends nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from backend import ORGANISATION

from application import jobs
from application.config import Config
from application.services import build_services
from infrastructure.locks import held
from infrastructure.mail import Mailer
from projections import queries
from projections.outbox import Outbox

from .helpers import TODAY, TRACKER, cli_env, eventually, open_services, record, register
from .smtp import Collector, SmtpServer

pytestmark = pytest.mark.slow

DEADLINE_S = 60  # a bound on every wait, never a timing assertion
SENDER = "tracker@powiat.example"
MANAGER = "jan@powiat.example"


class KillingCollector(Collector):
    """Collects like the others; at ``moment`` ("data": message stored, 250 not yet answered; "quit": 250
    answered, the client's QUIT not yet) it SIGKILLs the process ``victim``, once."""

    def __init__(self, moment: str) -> None:
        super().__init__()
        self.moment = moment
        self.victim: int | None = None
        self.killed = threading.Event()

    def _kill(self) -> None:
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = None
            self.killed.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        status = await super().handle_DATA(server, session, envelope)
        if self.moment == "data":
            self._kill()
        return status

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.moment == "quit":
            self._kill()
        return "221 Bye"


class Scheduler:
    """A `tracker scheduler` process, its output in a file."""

    def __init__(self, tmp_path: Path, env: dict[str, str], name: str) -> None:
        self.log_path = tmp_path / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                [str(TRACKER), "scheduler"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.popen.send_signal(signal.SIGTERM)
        assert self.popen.wait(DEADLINE_S) == 0, self.output()

    def clean_up(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(DEADLINE_S)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    """The test's store: one partnership quiet since 2020, flagged (a reminder in the outbox, not yet mailed),
    and a manager with an address. Yields the services (for looking at the outbox and the settings)."""
    env = cli_env(tmp_path)
    services = open_services(env["TRACKER_DATABASE"])
    try:
        pid = register(services.tracker, "Gmina Awaria")
        record(services.tracker, pid, "agreement_signed", occurred_on=date(2020, 1, 1), agreement_kind="partnership")
        services.users.add("jan", "manager", email=MANAGER)
        report = jobs.scan_inactivity(services, TODAY)
        assert len(report.flagged) == 1
        yield services
    finally:
        services.close()


@pytest.mark.parametrize("moment", ["data", "quit"], ids=["before-250-reached-it", "after-250"])
def test_a_scheduler_killed_between_smtp_acceptance_and_mark_sent_repeats_the_same_message_id(
    tmp_path: Path, store: Any, moment: str
) -> None:
    (reminder,) = queries.list_reminders(store.db)
    outbox = Outbox(store.tracker, store.db)
    assert len(outbox.pending()) == 1

    smtp = SmtpServer()
    killer = KillingCollector(moment)
    smtp.handler = killer
    started: list[Scheduler] = []
    env = cli_env(tmp_path, TRACKER_SMTP_URL=smtp.url, TRACKER_MAIL_FROM=SENDER)

    def start(name: str) -> Scheduler:
        # the lock of the scheduler before (released by the kernel, or by PostgreSQL when it sees the
        # connection close) must be free, or the new one would say another one runs and exit
        eventually(lambda: _lock_free(store), "the scheduler lock is free")
        scheduler = Scheduler(tmp_path, env, name)
        started.append(scheduler)
        return scheduler

    def outbox_ran() -> bool:
        return jobs.last_run(store, jobs.MAIL_OUTBOX) is not None

    with smtp:
        try:
            # 1. the first scheduler hands the reminder to SMTP and dies before marking it sent
            first = start("first")
            killer.victim = first.popen.pid
            assert killer.killed.wait(DEADLINE_S), f"the reminder never reached the server:\n{first.output()}"
            assert first.popen.wait(DEADLINE_S) == -signal.SIGKILL
            assert len(smtp.messages) == 1  # the server has it ...
            assert len(outbox.pending()) == 1  # ... and the outbox was not marked
            assert not outbox_ran()

            # 2. the next scheduler sends it again at start, and marks it
            second = start("second")
            eventually(outbox_ran, "the second scheduler ran the outbox")
            second.stop()
            assert outbox.pending() == []

            messages = smtp.messages
            assert len(messages) == 2
            ids = {m["Message-ID"] for m in messages}
            # the reader-side key, as docs/operators.md gives it: the reminder's id at the sender's domain
            assert ids == {f"<reminder.{reminder['id']}@powiat.example>"}
            assert [e.rcpt_tos for e in smtp.envelopes] == [[MANAGER], [MANAGER]]
            assert messages[0]["Subject"] == messages[1]["Subject"]
            assert "Gmina Awaria" in messages[0]["Subject"]

            # 3. a third scheduler finds nothing to send
            store.users.put_setting(f"job:{jobs.MAIL_OUTBOX}:last_run", "")  # forget the run, to see the next
            third = start("third")
            eventually(outbox_ran, "the third scheduler ran the outbox")
            third.stop()
            assert len(smtp.messages) == 2
        finally:
            for scheduler in started:
                scheduler.clean_up()


def _lock_free(services: Any) -> bool:
    with held(services.config.store, "scheduler") as got:
        return got


def test_the_reminder_and_the_digest_have_distinct_stable_message_ids(store: Any) -> None:
    """The digest, sent twice the same day over the same head, keeps one Message-ID (``<digest.DAY.POSITION@...>``),
    and it is not the reminder's (``<reminder.ID@...>``)."""
    store.users.add("ewa", "auditor", email="ewa@powiat.example")
    config = Config(database=store.config.database, fixed_today=TODAY, organisation=ORGANISATION, mail_from=SENDER)
    services = build_services(config)
    with SmtpServer() as smtp:
        try:
            mailer = Mailer(smtp.url, SENDER)
            for _ in range(2):
                assert jobs.send_digest(services, mailer).failed is None
            assert len(jobs.send_outbox(services, mailer).mailed) == 1
        finally:
            services.close()
        messages = smtp.messages
    (reminder,) = queries.list_reminders(store.db)
    reminder_ids = {m["Message-ID"] for m in messages if "Gmina Awaria" in m["Subject"]}
    digest_ids = {m["Message-ID"] for m in messages if "Gmina Awaria" not in m["Subject"]}
    assert len(messages) == 3
    assert reminder_ids == {f"<reminder.{reminder['id']}@powiat.example>"}
    (digest_id,) = digest_ids  # sent twice, one Message-ID
    position = queries.head(store.db)["position"]
    assert digest_id == f"<digest.{TODAY.isoformat()}.{position}@powiat.example>"
