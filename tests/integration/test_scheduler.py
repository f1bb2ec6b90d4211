"""The scheduler: the three jobs at the contract's office times, the job bodies, one scheduler at a time.

Trigger arithmetic is checked from fixed instants (``get_next_fire_time(None, now)``); job bodies are
called directly; a job run through a live scheduler is started by moving its next run time to now,
never by waiting for the clock. The process tests run the real ``tracker scheduler``.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from backend import ORGANISATION

from application.config import Config, load_config
from entrypoints import scheduler as sched
from infrastructure.locks import held
from projections import queries
from projections.outbox import Outbox

from .helpers import TODAY, TRACKER, cli_env, database_of, open_services, record, register
from .smtp import SmtpServer, body_of

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def job_config(tmp_path: Path, smtp: SmtpServer) -> Config:
    """A store with one quiet partnership, a manager and an auditor with addresses; today fixed."""
    database = database_of(tmp_path)
    s = open_services(database)
    try:
        pid = register(s.tracker, "Gmina Harmonogram")
        record(s.tracker, pid, "agreement_signed", occurred_on=date(2020, 1, 1), agreement_kind="partnership")
        s.users.add("jan", "manager", email="jan@powiat.example")
        s.users.add("ewa", "auditor", email="ewa@powiat.example")
    finally:
        s.close()
    return Config(database=database, smtp_url=smtp.url, fixed_today=TODAY, organisation=ORGANISATION)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the triggers --------------------------------------------------------------------------------------


def test_make_scheduler_registers_the_three_jobs_in_the_office_time_zone(config: Config) -> None:
    """Three jobs: the scan and the digest on daily cron triggers, the outbox every minute, all in Europe/Warsaw."""
    scheduler = sched.make_scheduler(config)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"inactivity_scan", "mail_outbox", "digest"}
    assert jobs["inactivity_scan"].func is sched.run_inactivity_scan
    assert jobs["mail_outbox"].func is sched.run_outbox
    assert jobs["digest"].func is sched.run_digest
    assert isinstance(jobs["inactivity_scan"].trigger, CronTrigger)
    assert isinstance(jobs["digest"].trigger, CronTrigger)
    assert isinstance(jobs["mail_outbox"].trigger, IntervalTrigger)
    for job in jobs.values():
        assert job.trigger.timezone == WARSAW
    assert scheduler.timezone == WARSAW


@pytest.mark.parametrize(
    ("now", "scan_at", "digest_at"),
    [
        # winter (CET, UTC+1): 07:00 Warsaw is 06:00 UTC
        (utc(2026, 1, 15, 5, 59), utc(2026, 1, 15, 6, 0), utc(2026, 1, 15, 6, 5)),
        (utc(2026, 1, 15, 6, 0, 1), utc(2026, 1, 16, 6, 0), utc(2026, 1, 15, 6, 5)),
        (utc(2026, 1, 15, 6, 5, 1), utc(2026, 1, 16, 6, 0), utc(2026, 1, 16, 6, 5)),
        # summer (CEST, UTC+2): 07:00 Warsaw is 05:00 UTC
        (utc(2026, 7, 1, 0, 0), utc(2026, 7, 1, 5, 0), utc(2026, 7, 1, 5, 5)),
        # the night the clocks go forward (29 March 2026) and back (25 October 2026)
        (utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 5, 0), utc(2026, 3, 29, 5, 5)),
        (utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 6, 0), utc(2026, 10, 25, 6, 5)),
    ],
)
def test_scan_at_seven_and_digest_at_five_past_seven_office_time(
    config: Config, now: datetime, scan_at: datetime, digest_at: datetime
) -> None:
    """The inactivity scan fires daily at 07:00 and the digest at 07:05 Europe/Warsaw, across DST changes."""
    scheduler = sched.make_scheduler(config)
    scan = scheduler.get_job("inactivity_scan").trigger.get_next_fire_time(None, now)
    digest = scheduler.get_job("digest").trigger.get_next_fire_time(None, now)
    assert scan == scan_at
    assert digest == digest_at
    assert (scan.astimezone(WARSAW).hour, scan.astimezone(WARSAW).minute) == (7, 0)
    assert (digest.astimezone(WARSAW).hour, digest.astimezone(WARSAW).minute) == (7, 5)


def test_the_outbox_runs_every_minute(config: Config) -> None:
    """The mail outbox fires within a minute of any instant, and then every 60 seconds."""
    scheduler = sched.make_scheduler(config)
    trigger = scheduler.get_job("mail_outbox").trigger
    assert trigger.interval == timedelta(minutes=1)
    now = datetime.now(UTC) + timedelta(days=3)  # a fixed instant after the trigger's start
    first = trigger.get_next_fire_time(None, now)
    assert now <= first <= now + timedelta(minutes=1)
    fire = first
    for _ in range(5):
        following = trigger.get_next_fire_time(fire, fire)
        assert following - fire == timedelta(minutes=1)
        fire = following


def test_the_schedule_follows_tracker_timezone(database_url: str) -> None:
    """With TRACKER_TIMEZONE set, 07:00 is that zone's seven o'clock."""
    config = load_config({"TRACKER_DATABASE": database_url, "TRACKER_TIMEZONE": "America/New_York"})
    scheduler = sched.make_scheduler(config)
    fire = scheduler.get_job("inactivity_scan").trigger.get_next_fire_time(None, utc(2026, 1, 15, 0, 0))
    assert fire == utc(2026, 1, 15, 12, 0)


@pytest.fixture
def running(job_config: Config) -> Iterator[sched.BlockingScheduler]:
    """The project's scheduler running (paused) in a thread, so that job defaults are applied."""
    scheduler = sched.make_scheduler(job_config)
    thread = threading.Thread(target=scheduler.start, kwargs={"paused": True}, daemon=True)
    thread.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while scheduler.state == STATE_STOPPED:
            assert datetime.now(UTC) < deadline, "the scheduler did not start"
            threading.Event().wait(0.01)
        yield scheduler
    finally:
        scheduler.shutdown(wait=True)
        thread.join(30)


def test_job_defaults_coalesce_and_one_instance(running: sched.BlockingScheduler) -> None:
    """Every job coalesces missed runs and never runs twice at once (max_instances=1)."""
    for job in running.get_jobs():
        assert job.coalesce is True, job.id
        assert job.max_instances == 1, job.id
        assert job.misfire_grace_time is not None and job.misfire_grace_time > 0, job.id


def test_a_job_run_by_the_live_scheduler_mails_the_reminder(
    running: sched.BlockingScheduler, job_config: Config, smtp: SmtpServer
) -> None:
    """Moving the scan's next run to now makes the scheduler run it: the partnership is flagged and mailed."""
    done: queue.Queue[JobExecutionEvent] = queue.Queue()
    running.add_listener(done.put, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    running.resume()
    running.modify_job("inactivity_scan", next_run_time=datetime.now(UTC))
    event = done.get(timeout=60)
    while event.job_id != "inactivity_scan":
        event = done.get(timeout=60)
    assert event.exception is None, event.traceback
    (message,) = smtp.messages
    assert "Gmina Harmonogram" in message["Subject"]
    assert smtp.envelopes[0].rcpt_tos == ["jan@powiat.example"]


# --- the job bodies, called directly ---------------------------------------------------------------------------


def test_run_inactivity_scan_flags_and_mails_once(job_config: Config, smtp: SmtpServer) -> None:
    """run_inactivity_scan flags the quiet partnership and mails the manager; a second run does neither again."""
    sched.run_inactivity_scan(job_config)
    sched.run_inactivity_scan(job_config)
    (message,) = smtp.messages
    assert "Gmina Harmonogram" in message["Subject"]
    s = open_services(job_config.database)
    try:
        reminders = queries.list_reminders(s.db)
        assert [(r["kind"], r["open"], r["opened_on"]) for r in reminders] == [("inactive", True, TODAY.isoformat())]
    finally:
        s.close()


def test_run_outbox_sends_what_an_outage_held_back(job_config: Config, smtp: SmtpServer) -> None:
    """A scan during an outage leaves the mail in the outbox; run_outbox sends it once the server is back."""
    smtp.stop()
    sched.run_inactivity_scan(job_config)
    smtp.start()
    assert smtp.messages == []
    sched.run_outbox(job_config)
    sched.run_outbox(job_config)
    assert len(smtp.messages) == 1
    s = open_services(job_config.database)
    try:
        assert Outbox(s.tracker, s.db).pending() == []
    finally:
        s.close()


def test_run_digest_mails_the_head_to_the_auditor(job_config: Config, smtp: SmtpServer) -> None:
    """run_digest mails the log's POSITION:HASH to the auditor."""
    sched.run_digest(job_config)
    s = open_services(job_config.database)
    try:
        head = queries.head(s.db)
    finally:
        s.close()
    (message,) = smtp.messages
    assert smtp.envelopes[0].rcpt_tos == ["ewa@powiat.example"]
    assert f"{head['position']}:{head['hash']}" in body_of(message)


def test_a_failing_job_does_not_poison_the_next(job_config: Config, smtp: SmtpServer) -> None:
    """A job that cannot mail (server down) returns; the next run, with the server back, mails."""
    smtp.stop()
    sched.run_digest(job_config)
    smtp.start()
    sched.run_digest(job_config)
    assert len(smtp.messages) == 1


# --- one scheduler process at a time ----------------------------------------------------------------------------------


class Process:
    """A ``tracker scheduler`` process whose stdout lines are read in a thread."""

    def __init__(self, tmp_path: Path) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.popen = subprocess.Popen(
            [str(TRACKER), "scheduler"],
            cwd=tmp_path,
            env=cli_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(self.popen.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line with {text!r}; saw {self.seen}") from None
            self.seen.append(line)
            if text in line:
                return line

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.popen.send_signal(sig)
        code = self.popen.wait(60)
        return code, self.popen.stderr.read()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(30)


@pytest.mark.slow
def test_only_one_scheduler_runs_and_sigterm_stops_it_cleanly(tmp_path: Path) -> None:
    """A second `tracker scheduler` says another one runs and exits non-zero; SIGTERM stops the first (exit 0)."""
    first = Process(tmp_path)
    try:
        running = first.wait_for("scheduler running")
        assert all(job in running for job in ("inactivity_scan", "mail_outbox", "digest"))

        second = subprocess.run(
            [str(TRACKER), "scheduler"],
            cwd=tmp_path,
            env=cli_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode != 0
        assert "another tracker scheduler is already running" in second.stderr
        assert "scheduler running" not in second.stdout
        assert first.popen.poll() is None

        code, _ = first.stop(signal.SIGTERM)
        assert code == 0
        first.wait_for("scheduler stopped")
    finally:
        first.kill()

    third = Process(tmp_path)
    try:
        third.wait_for("scheduler running")
        code, _ = third.stop(signal.SIGINT)
        assert code == 0
        third.wait_for("scheduler stopped")
    finally:
        third.kill()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGTERM], ids=["term", "int", "term-again"])
def test_a_signal_right_after_start_stops_the_scheduler_cleanly(tmp_path: Path, sig: int) -> None:
    """SIGTERM or SIGINT the moment the scheduler says it runs still stops it with exit 0 and no traceback."""
    process = Process(tmp_path)
    try:
        process.wait_for("scheduler running")
        code, err = process.stop(sig)
        assert code == 0, err
        assert "Traceback" not in err
    finally:
        process.kill()


def test_run_refuses_while_another_holds_the_scheduler_lock(config: Config) -> None:
    """In-process: with the scheduler lock held elsewhere, run() says so and returns 1 without starting."""
    said: list[str] = []
    with held(config.store, "scheduler") as got:
        assert got
        assert sched.run(config, echo=said.append) == 1
    assert said == ["another tracker scheduler is already running; exiting"]
