"""The composition root's parts: one Tracker, its read models and the users, per process."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.application import Tracker
from domain.errors import ReminderNotFound, ReminderNotOpen
from projections import queries
from projections.inline import attach
from projections.projection import Projection, views_recorder
from projections.queries import Clock
from projections.store import Db
from web.config import Config, ConfigError
from web.users import UserStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Config
    tracker: Tracker
    db: Db
    projection: Projection
    users: UserStore
    _follower: threading.Thread | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _subscription: Any = field(default=None, repr=False)

    def clock(self) -> Clock:
        return Clock(self.config.today(), self.config.inactivity_days)

    def today(self):  # noqa: ANN201 - a date
        return self.config.today()

    def after_command(self) -> None:
        """Read your writes: bring the read models up to the log before answering."""
        self.projection.catch_up()

    def follow(self, interval: float = 0.5) -> None:
        """Keep the read models following the log in a background thread (other processes' writes).

        On PostgreSQL the thread listens (LISTEN/NOTIFY through the library's
        subscription) and catches up as soon as another process commits; on
        SQLite, which cannot notify, it polls every ``interval`` seconds.
        """
        if self._follower is not None:
            return
        target = self._listen if self.config.is_postgres else self._poll
        self._follower = threading.Thread(target=target, args=(interval,), name="projection-follower", daemon=True)
        self._follower.start()

    def _catch_up_quietly(self) -> None:
        try:
            self.projection.catch_up()
        except Exception:  # keep following; the next round retries
            log.exception("catching up the read models failed")

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._catch_up_quietly()

    def _listen(self, interval: float) -> None:
        while not self._stop.is_set():
            self._catch_up_quietly()
            try:
                with self.tracker.recorder.subscribe(gt=self.projection.position) as subscription:
                    self._subscription = subscription
                    for _notification in subscription:
                        if self._stop.is_set():
                            break
                        self._catch_up_quietly()
            except Exception:
                log.exception("listening for new events failed; retrying")
            self._stop.wait(interval)

    def acknowledge_reminder(self, reminder_id: str, *, note: str | None, user: str) -> dict[str, Any]:
        """Acknowledge an open reminder (the one command behind the API and the dashboard); the reminder after."""
        reminder = queries.get_reminder(self.db, reminder_id)
        if reminder is None:
            raise ReminderNotFound(reminder_id)
        if not reminder["open"]:
            raise ReminderNotOpen(f"reminder {reminder_id} is not open")
        self.tracker.acknowledge_reminder(
            UUID(reminder["partnership_id"]),
            reminder["flagged_version"],
            note=note,
            recorded_by=user,
            today=self.today(),
        )
        self.after_command()
        return queries.get_reminder(self.db, reminder_id)

    def secret_key(self) -> str:
        if self.config.secret_key:
            return self.config.secret_key
        path = self.config.secret_key_file()
        if path is None:
            return self.users.setting("secret_key", secrets.token_urlsafe(48))
        return _key_file(path)

    def close(self) -> None:
        self._stop.set()
        if self._subscription is not None:
            self._subscription.stop()
        if self._follower is not None:
            self._follower.join(5)
        self.tracker.close()


class StoreNotInitialised(RuntimeError):
    """The tables were never created (PostgreSQL: `tracker db init`)."""


def _key_file(path: Path) -> str:
    if not path.exists():
        try:
            with path.open("x", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(48))
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip()


def _check_schema(config: Config) -> None:
    """A ``?schema=`` that does not exist is a configuration error, said as such (not a library failure)."""
    env = config.eventsourcing_env()
    schema = env.get("POSTGRES_SCHEMA")
    if not schema:
        return
    import psycopg

    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        connect_timeout=10,
    ) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    if not found:
        raise ConfigError(f"TRACKER_DATABASE: schema {schema!r} does not exist (create it, then run `tracker db init`)")


def build_services(config: Config, *, catch_up: bool = True) -> Services:
    """Open the store named by the configuration and (unless told not to) catch the read models up."""
    if config.is_postgres:
        _check_schema(config)
    else:
        parent = Path(config.database).resolve().parent
        if not parent.is_dir():
            raise FileNotFoundError(f"TRACKER_DATABASE: folder {parent} does not exist")
    tracker = Tracker(env=config.eventsourcing_env())
    db = Db(views_recorder(tracker))
    if not config.create_tables and not db.has_table("view_meta"):
        tracker.close()
        raise StoreNotInitialised("the database has no tracker tables yet: run `tracker db init` once")
    projection = Projection(tracker, db)
    attach(projection)  # SQLite: the views follow inside each write's own transaction
    users = UserStore(db, create_tables=config.create_tables)
    services = Services(config=config, tracker=tracker, db=db, projection=projection, users=users)
    if config.create_tables:
        projection.ensure_layout()
    if catch_up:
        projection.catch_up()
    return services
