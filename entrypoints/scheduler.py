"""``tracker scheduler``: APScheduler 3 in its own process, one instance at a time.

The jobs are the module-level functions of :mod:`application.jobs`; each run opens
the store, does its work and closes it, so a failing run never poisons the next.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from application.config import Config
from infrastructure.locks import held

log = logging.getLogger("tracker.scheduler")

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def _with_services(config: Config, work: Callable[[Any], Any]) -> Any:
    from application.services import build_services

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

    _with_services(config, lambda services: jobs.send_outbox(services))


def run_digest(config: Config) -> None:
    from application import jobs

    _with_services(config, lambda services: jobs.send_digest(services))


def make_scheduler(config: Config) -> BlockingScheduler:
    """The three jobs of the contract at their office-time schedules."""
    scheduler = BlockingScheduler(timezone=config.tz, job_defaults=JOB_DEFAULTS)
    scheduler.add_job(
        run_inactivity_scan, CronTrigger(hour=7, minute=0, timezone=config.tz), args=[config], id="inactivity_scan"
    )
    scheduler.add_job(run_outbox, IntervalTrigger(minutes=1, timezone=config.tz), args=[config], id="mail_outbox")
    scheduler.add_job(run_digest, CronTrigger(hour=7, minute=5, timezone=config.tz), args=[config], id="digest")
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
        stopping = False

        def stop(*_: object) -> None:
            # A signal may come before the scheduler is up (shutdown() would raise): remember it.
            nonlocal stopping
            stopping = True
            if scheduler.state != STATE_STOPPED:
                scheduler.shutdown(wait=False)

        def started(_event: object) -> None:
            echo(f"scheduler running ({', '.join(j.id for j in scheduler.get_jobs())}); SIGTERM stops it")
            if stopping and scheduler.state != STATE_STOPPED:
                scheduler.shutdown(wait=False)

        scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, stop)
        scheduler.start()
        echo("scheduler stopped")
    return 0
