"""``tracker scheduler``: APScheduler 3 in its own process, one instance at a time; or the same jobs
inside ``tracker serve`` on the embedded store (:func:`start_in_serve`), under the same lock.

The jobs are the module-level functions of :mod:`application.jobs`; each run opens
the store, does its work and closes it, so a failing run never poisons the next.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from application.config import Config
from infrastructure.locks import held

log = logging.getLogger("tracker.scheduler")

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


#: One job at a time opens the store: two jobs starting together (the outbox runs at start) would otherwise make
#: the library's PostgreSQL tables and functions at once when table creation is on ("tuple concurrently updated").
_OPENING = threading.Lock()


def _with_services(config: Config, work: Callable[[Any], Any]) -> Any:
    from application.services import build_services

    with _OPENING:
        services = build_services(config)
    try:
        return work(services)
    finally:
        services.close()


def run_inactivity_scan(config: Config) -> None:
    from application import jobs

    def work(services: Any) -> None:
        report = jobs.scan_inactivity(services, services.today())
        log.info("inactivity scan: %d flagged", len(report.flagged))
        jobs.send_outbox(services)

    _with_services(config, work)


def run_outbox(config: Config) -> None:
    from application import jobs

    def work(services: Any) -> None:
        jobs.send_outbox(services)
        jobs.record_run(services, jobs.MAIL_OUTBOX, services.today())

    _with_services(config, work)


def run_digest(config: Config) -> None:
    from application import jobs

    def work(services: Any) -> None:
        jobs.send_digest(services)
        jobs.record_run(services, jobs.DIGEST, services.today())

    _with_services(config, work)


def make_scheduler(config: Config) -> BlockingScheduler:
    """The three jobs of the contract at their office-time schedules."""
    return _add_jobs(BlockingScheduler(timezone=config.tz, job_defaults=JOB_DEFAULTS), config)


def _add_jobs(scheduler: Any, config: Config) -> Any:
    scheduler.add_job(
        run_inactivity_scan, CronTrigger(hour=7, minute=0, timezone=config.tz), args=[config], id="inactivity_scan"
    )
    scheduler.add_job(  # first at start: mail held back while no scheduler ran (or after a crash) goes out at once
        run_outbox,
        IntervalTrigger(minutes=1, timezone=config.tz),
        args=[config],
        id="mail_outbox",
        next_run_time=datetime.now(config.tz),
    )
    scheduler.add_job(run_digest, CronTrigger(hour=7, minute=5, timezone=config.tz), args=[config], id="digest")
    return scheduler


def jobs_in_serve_allowed(config: Config, workers: int) -> bool:
    """Jobs run inside ``tracker serve`` only on the embedded store with one worker process."""
    return not config.is_postgres and workers == 1


def start_in_serve(services: Any, stack: ExitStack, echo: Callable[[str], None] = print) -> BaseScheduler | None:
    """The scheduled jobs in the serving process, for as long as ``stack`` lasts; None when another holds the lock.

    Takes the same lock as ``tracker scheduler`` (so one of them runs the jobs), runs the inactivity
    scan (and the outbox) at once when it has not run for the office's today, then starts a
    BackgroundScheduler with the same jobs at the same times.
    """
    from application import jobs

    config = services.config
    if not stack.enter_context(held(config.store, "scheduler")):
        echo("Scheduled jobs: not run here, another tracker scheduler holds the lock.")
        return None
    if jobs.scan_due(services):
        try:
            report = jobs.scan_inactivity(services, services.today())
            echo(f"Inactivity check at start: {len(report.flagged)} flagged.")
            jobs.send_outbox(services)
        except Exception:  # the server must start all the same; the 07:00 run tries again
            log.exception("inactivity check at start failed")
    scheduler = _add_jobs(BackgroundScheduler(timezone=config.tz, job_defaults=JOB_DEFAULTS), config)
    scheduler.start()
    stack.callback(lambda: scheduler.shutdown(wait=False) if scheduler.state != STATE_STOPPED else None)
    echo(f"Scheduled jobs running in this process ({', '.join(j.id for j in scheduler.get_jobs())}).")
    return scheduler


def run(config: Config, echo: Callable[[str], None] = print, warn: Callable[[str], None] | None = None) -> int:
    """Run the scheduler until SIGTERM/SIGINT; returns 0, or 1 when another scheduler holds the lock.

    ``echo`` says what it does; ``warn`` (``echo`` unless given) says why it will not run.
    """
    with held(config.store, "scheduler") as got:
        if not got:
            (warn or echo)("another tracker scheduler is already running; exiting")
            return 1
        scheduler = make_scheduler(config)
        # The signal handler only sets this event; a thread of its own shuts the scheduler down. Shutting
        # down inside the handler deadlocked when the signal came while the main thread was handing a job to
        # the executor (both take the executor's lock, which is not reentrant).
        stopping = threading.Event()
        shutting = threading.Lock()

        def shut_down() -> None:
            with shutting:  # from the stopper thread or the start listener, whichever sees the signal
                if scheduler.state != STATE_STOPPED:
                    scheduler.shutdown(wait=False)

        def stopper() -> None:
            stopping.wait()
            shut_down()  # a signal before the scheduler is up: the start listener shuts it down

        def stop(*_: object) -> None:
            stopping.set()

        def started(_event: object) -> None:
            echo(f"scheduler running ({', '.join(j.id for j in scheduler.get_jobs())}); SIGTERM stops it")
            if stopping.is_set():
                shut_down()

        scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
        threading.Thread(target=stopper, name="scheduler-stopper", daemon=True).start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, stop)
        scheduler.start()
        echo("scheduler stopped")
    return 0
