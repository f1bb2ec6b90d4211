"""Configuration from the ``TRACKER_*`` environment, with the contract's defaults."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from infrastructure.database import POSTGRES_SCHEMES, Database
from infrastructure.mail import redacted
from projections import inline


class ConfigError(ValueError):
    """A ``TRACKER_*`` variable has a value the tracker cannot use."""


@dataclass(frozen=True)
class Config:
    database: str = "events.db"
    secret_key: str | None = field(default=None, repr=False)  # never in a log line
    inactivity_days: int = 365
    smtp_url: str | None = field(default=None, repr=False)  # its password: never in a log line
    mail_from: str = "tracker@localhost"
    timezone: str = "Europe/Warsaw"
    #: where the office reaches the web UI (links in reminder mails)
    base_url: str = "http://127.0.0.1:5000"
    #: a fixed "today" (tests, `--today`); None means the office's calendar
    fixed_today: date | None = None
    #: the local government whose register this is (TRACKER_ORGANISATION): default local_party, report issuer
    organisation: str | None = None
    #: create tables on start (off for workers of a shared PostgreSQL database)
    create_tables: bool = True
    #: address of the reverse proxy whose X-Forwarded-* headers are believed (TRACKER_TRUSTED_PROXY); None: none
    trusted_proxy: str | None = None
    #: argon2 password checks at once per process, 64 MiB each (TRACKER_PASSWORD_SLOTS)
    password_slots: int = 2
    #: a browser session ends after this many minutes without a request (TRACKER_SESSION_IDLE_MINUTES)
    session_idle_minutes: int = 60
    #: ... and this many hours after signing in, however busy (TRACKER_SESSION_HOURS)
    session_hours: int = 12
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def store(self) -> Database:
        """The store ``database`` names (its dialect, the library's settings, connections)."""
        return Database(self.database, self.create_tables)

    @property
    def is_postgres(self) -> bool:
        return self.store.is_postgres

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self) -> date:
        """Today in the office's time zone."""
        return self.fixed_today or datetime.now(self.tz).date()

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment the ``eventsourcing`` library reads, built from our one setting.

        The read models are written in the same transaction as the events (``projections.inline``).
        """
        env = self.store.eventsourcing_env()
        # Partnerships stay in memory between commands, brought up to date from the store before each (the
        # library's fast-forward), so a write into a long history reads only what is new since the last one.
        env.setdefault("AGGREGATE_CACHE_MAXSIZE", str(AGGREGATE_CACHE))
        # Writers of a process share durable commits (``infrastructure.group_commit``).
        env["APPLICATION_RECORDER_TOPIC"] = inline.POSTGRES_TOPIC if self.is_postgres else inline.TOPIC
        return env

    def secret_key_file(self) -> Path | None:
        return None if self.is_postgres else self.store.sibling("secret_key")


#: how many partnerships each process keeps in memory for commands
AGGREGATE_CACHE = 1000


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Read the ``TRACKER_*`` variables (``os.environ`` by default); refuse bad values by name."""
    env = os.environ if environ is None else environ
    days_text = env.get("TRACKER_INACTIVITY_DAYS", str(Config.inactivity_days))
    try:
        days = int(days_text)
    except ValueError:
        raise ConfigError(f"TRACKER_INACTIVITY_DAYS must be a whole number of days, not {days_text!r}") from None
    if days < 1:
        raise ConfigError("TRACKER_INACTIVITY_DAYS must be at least 1")
    timezone = env.get("TRACKER_TIMEZONE", Config.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TRACKER_TIMEZONE {timezone!r} is not a known time zone") from None
    smtp = env.get("TRACKER_SMTP_URL") or None
    if smtp and not smtp.startswith(("smtp://", "smtps://")):
        raise ConfigError(f"TRACKER_SMTP_URL must start with smtp:// or smtps://, not {redacted(smtp)!r}")
    database = env.get("TRACKER_DATABASE") or Config.database
    proxy = (env.get("TRACKER_TRUSTED_PROXY") or "").strip() or None
    if proxy is not None:
        try:
            ipaddress.ip_address(proxy)
        except ValueError:
            raise ConfigError(f"TRACKER_TRUSTED_PROXY must be an IP address, not {proxy!r}") from None
    slots_text = env.get("TRACKER_PASSWORD_SLOTS", str(Config.password_slots))
    if not slots_text.isdigit() or not 1 <= int(slots_text) <= 64:
        raise ConfigError(f"TRACKER_PASSWORD_SLOTS must be a whole number from 1 to 64, not {slots_text!r}")
    idle = _whole(env, "TRACKER_SESSION_IDLE_MINUTES", Config.session_idle_minutes, 1, 7 * 24 * 60)
    hours = _whole(env, "TRACKER_SESSION_HOURS", Config.session_hours, 1, 24 * 31)
    return Config(
        database=database,
        secret_key=env.get("TRACKER_SECRET_KEY") or None,
        inactivity_days=days,
        smtp_url=smtp,
        mail_from=env.get("TRACKER_MAIL_FROM") or Config.mail_from,
        timezone=timezone,
        base_url=env.get("TRACKER_BASE_URL") or Config.base_url,
        organisation=(env.get("TRACKER_ORGANISATION") or "").strip() or None,
        # On a shared PostgreSQL database the tables are created once, by `tracker db init`:
        # the library's concurrent creation races when several workers start together.
        create_tables=not database.startswith(POSTGRES_SCHEMES),
        session_idle_minutes=idle,
        session_hours=hours,
        trusted_proxy=proxy,
        password_slots=int(slots_text),
    )


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole-number setting between ``low`` and ``high``; ConfigError naming it otherwise."""
    text = env.get(name, str(default)).strip()
    if not text.isdigit() or not text.isascii() or not low <= int(text) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)
