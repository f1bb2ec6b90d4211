"""The composition root's parts: one Tracker, its read models and the users, per process."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

from application.config import Config, ConfigError
from application.replies import Replies
from application.rights import check_may_record, check_may_record_type
from application.seed import load_seed, load_seed_file
from application.users import UserStore
from domain.errors import InvalidField, ReminderNotFound, ReminderNotOpen
from domain.event_types import RETRACTED_TYPE
from domain.partnership import Partnership
from domain.tracker import CLOCK_SLACK, Recorded, Tracker
from infrastructure.store import Db
from projections import bulk, queries
from projections.audit import verify_store
from projections.inline import attach
from projections.projection import Projection, views_recorder
from projections.queries import Clock

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Services:
    config: Config
    tracker: Tracker
    db: Db
    projection: Projection
    users: UserStore
    replies: Replies  # the kept answers of requests with an Idempotency-Key
    _follower: threading.Thread | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _subscription: Any = field(default=None, repr=False)

    def clock(self) -> Clock:
        return Clock(self.config.today(), self.config.inactivity_days)

    def today(self) -> date:
        """Today in the office's calendar."""
        return self.config.today()

    # --- the front door: every write goes through one of these ------------------------------

    def execute(self, command: Callable[[Tracker], T]) -> T:
        """Run one command against the log, then bring the read models up to it (read your writes).

        When the command wrote and the views followed each of its writes inside the write's own transaction
        (``projections.inline``: they were next in line), they are up to date with it already: the catch-up,
        a round of reads, is skipped."""
        group = getattr(self.tracker.recorder, "group", None)
        if group is not None:
            group.begin()
        result = command(self.tracker)
        if group is None or not group.views_followed():
            self.projection.catch_up()
        return result

    def organisation(self) -> str | None:
        """The register's own local government: ``TRACKER_ORGANISATION``, else the one the demo data named."""
        return self.config.organisation or self.users.get_setting("organisation")

    def _with_local_party(self, fields: Mapping[str, Any]) -> Mapping[str, Any]:
        """``local_party`` defaults to the register's organisation (and is required when none is configured)."""
        if fields.get("local_party"):
            return fields
        organisation = self.organisation()
        if not organisation:
            raise InvalidField("local_party", "local_party_required")
        return {**fields, "local_party": organisation}

    def preview_registration(self, fields: Mapping[str, Any], *, user: str) -> Partnership:
        """What registering would record (the same checks, the same refusals), without recording it."""
        return Partnership.register(uuid4(), recorded_by=user, today=self.today(), **self._with_local_party(fields))

    def register_partnership(
        self,
        fields: Mapping[str, Any],
        *,
        user: str,
        partnership_id: UUID | None = None,
        request_id: str | None = None,
    ) -> Recorded:
        """Register a partnership as ``user``, dated by the office's today; ``local_party`` defaults to the
        register's organisation (and is required when none is configured). ``request_id``: see
        :meth:`record_event`."""
        fields = self._with_local_party(fields)
        return self.execute(
            lambda t: t.register_partnership(
                fields, recorded_by=user, today=self.today(), partnership_id=partnership_id, request_id=request_id
            )
        )

    def preview_event(
        self,
        partnership_id: UUID,
        event_type: str,
        fields: Mapping[str, Any],
        *,
        user: str,
        role: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Partnership, Partnership.Event]:
        """What :meth:`record_event` would append (same checks, same refusals), appending nothing."""
        self._check_rights(role, partnership_id, event_type, fields)
        return self.tracker.preview_event(
            partnership_id,
            event_type,
            fields,
            recorded_by=user,
            today=self.today(),
            expected_version=expected_version,
        )

    def record_event(
        self,
        partnership_id: UUID,
        event_type: str,
        fields: Mapping[str, Any],
        *,
        user: str,
        role: str | None = None,
        expected_version: int | None = None,
        since: datetime | None = None,
        request_id: str | None = None,
    ) -> Recorded:
        """Record one event as ``user`` (``expected_version``: refuse when the partnership moved on).

        ``role``: the user's role, whose rights (application/rights.py) are checked here, for the API and
        the UI alike; None only for the program's own writers (seed, import, tests), which act as no user.
        ``since``: a retry of an attempt begun then whose outcome is unknown (see ``Tracker.record_event``).
        ``request_id``: the identity of the request, the same for each attempt at it (kept with the event: a
        retry finds its own write by it).
        """
        self._check_rights(role, partnership_id, event_type, fields)
        return self.execute(
            lambda t: t.record_event(
                partnership_id,
                event_type,
                fields,
                recorded_by=user,
                today=self.today(),
                expected_version=expected_version,
                since=since,
                request_id=request_id,
            )
        )

    def written_by_request(self, partnership_id: UUID, request_id: str, since: datetime) -> int | None:
        """The version of the event the request ``request_id`` recorded since ``since`` (an attempt whose outcome
        is unknown), or None. When it is there, the read models are caught up first: on PostgreSQL they follow
        the log after the commit, and the failed attempt's catch-up may never have run."""
        version = self.tracker.written_by_request(partnership_id, request_id, since)
        if version is not None:
            self.projection.catch_up()
        return version

    def _check_rights(self, role: str | None, partnership_id: UUID, event_type: str, fields: Mapping[str, Any]) -> None:
        """Refuse (NotPermitted) what the role may not record or retract, before anything is written.

        A race (the retracted event is fixed by its version, and versions never change) cannot turn an
        allowed retraction into a forbidden one, so checking before the write is enough.
        """
        if role is None:
            return
        if event_type == RETRACTED_TYPE:  # who may retract depends on what is retracted
            check_may_record(role, event_type, fields, self.tracker.get_partnership(partnership_id))
        else:
            check_may_record_type(role, event_type)

    def flag_inactivity(self, partnership_id: UUID, *, today: date) -> Recorded | None:
        """The inactivity job's command: flag the spell and the overdue plans of one partnership."""
        days = self.config.inactivity_days
        return self.execute(lambda t: t.flag_inactivity(partnership_id, today=today, days=days))

    def acknowledge_reminder(
        self,
        reminder_id: str,
        *,
        note: str | None,
        user: str,
        since: datetime | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Acknowledge an open reminder (the one command behind the API and the dashboard); the reminder after.

        ``since``: a retry of an attempt begun then whose outcome is unknown; when that attempt acknowledged
        the reminder (the same user and note, since then), that is the answer rather than "not open"."""
        if since is not None:  # the failed attempt may have written without its read models following (PostgreSQL)
            self.projection.catch_up()
        reminder = queries.get_reminder(self.db, reminder_id)
        if reminder is None:
            raise ReminderNotFound(reminder_id)
        if not reminder["open"] and since is not None and _acknowledged_since(reminder, user, note, since):
            return reminder
        if not reminder["open"]:
            raise ReminderNotOpen(reminder_id)
        self.execute(
            lambda t: t.acknowledge_reminder(
                UUID(reminder["partnership_id"]),
                reminder["flagged_version"],
                note=note,
                recorded_by=user,
                today=self.today(),
                request_id=request_id,
            )
        )
        return queries.get_reminder(self.db, reminder_id)

    def load_seed(self) -> int:
        """Load the county's partner list (idempotent); the number of events written."""
        seed = load_seed_file()
        if not self.config.organisation and seed.get("organisation"):
            self.users.setting("organisation", seed["organisation"])  # the demo names its county (first one wins)
        return self.execute(lambda t: load_seed(t, today=self.today(), seed=seed))

    def import_events(self, events: list[Partnership.Event]) -> int:
        """Append an export's events to an empty store, in one transaction; the number appended."""
        return self.execute(lambda t: t.import_events(events))

    # --- reads that must see the whole log ---------------------------------------------------

    def verify(self, kept: tuple[int, str] | None = None, access_kept: tuple[int, str] | None = None) -> dict[str, Any]:
        """The integrity check of both logs: the partnership log's report (:meth:`verify_log`), not ``ok`` when
        the access log is broken too, its problems then added with ``kind: access_log`` (and no position in
        the partnership log)."""
        report = self.verify_log(kept)
        access = self.verify_access_log(access_kept)
        if not access["ok"]:
            report["ok"] = False
            report["problems"] += [
                {
                    "position": None,
                    "kind": "access_log",
                    "detail": f"access log position {p['position']}: {p['kind']}: {p['detail']}",
                }
                for p in access["problems"]
            ]
        return report

    def verify_log(self, kept: tuple[int, str] | None = None) -> dict[str, Any]:
        """The partnership log: the hash chain (against a digest kept earlier) and the views against a replay."""
        with suppress(Exception):  # an unreadable event stops the views; the check itself says where
            self.projection.catch_up()
        return verify_store(self.tracker, self.db, kept)

    def verify_access_log(self, kept: tuple[int, str] | None = None) -> dict[str, Any]:
        """The access log: its hash chain (against an ``access:`` digest kept earlier) and the users' roles and
        states against what its entries say."""
        return self.users.verify_access_log(kept)

    def _refresh_logged(self) -> None:
        """The follower's catch-up: a failure is logged and the next round retries."""
        try:
            self.projection.catch_up()
        except Exception:
            log.exception("catching up the read models failed")

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

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._refresh_logged()

    def _listen(self, interval: float) -> None:
        while not self._stop.is_set():
            self._refresh_logged()
            try:
                with self.tracker.recorder.subscribe(gt=self.projection.position) as subscription:
                    self._subscription = subscription
                    for _notification in subscription:
                        if self._stop.is_set():
                            break
                        self._refresh_logged()
            except Exception:
                log.exception("listening for new events failed; retrying")
            self._stop.wait(interval)

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
    """The session key kept in ``path``, created once with a fresh key, readable by its owner only from the
    start (opened 0600 and exclusively: never a moment world-readable, never two processes' keys)."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


#: The mode of the files that hold the register and its secrets: the owner's only.
PRIVATE = 0o600


def _create_private(path: Path) -> None:
    """Create the SQLite database file empty and 0600 before SQLite opens it (SQLite would create it 0644 under
    the usual umask). SQLite gives the ``-wal``, ``-shm`` and journal files the database file's own mode, so
    they are private from the start too. An existing file is left as its owner set it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    except FileExistsError:
        pass


def _check_schema(config: Config) -> None:
    """A ``?schema=`` that does not exist is a configuration error, said as such (not a library failure)."""
    schema = config.store.schema
    if not schema:
        return
    with config.store.connect() as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    if not found:
        raise ConfigError(f"TRACKER_DATABASE: schema {schema!r} does not exist (create it, then run `tracker db init`)")


def _acknowledged_since(reminder: Mapping[str, Any], user: str, note: str | None, since: datetime) -> bool:
    """Whether ``reminder`` was acknowledged by ``user`` with ``note`` at or after ``since`` (less the clock
    slack allowed between processes)."""
    at = reminder.get("acknowledged_at")
    return (
        at is not None
        and reminder.get("acknowledged_by") == user
        and reminder.get("note") == note
        and datetime.fromisoformat(at) >= since - CLOCK_SLACK
    )


def build_services(config: Config, *, catch_up: bool = True) -> Services:
    """Open the store named by the configuration and (unless told not to) catch the read models up."""
    if config.is_postgres:
        _check_schema(config)
    else:
        parent = Path(config.database).resolve().parent
        if not parent.is_dir():
            raise FileNotFoundError(f"TRACKER_DATABASE: folder {parent} does not exist")
        if not config.database.startswith(("file:", ":memory:")):
            _create_private(Path(config.database))
    tracker = Tracker(env=config.eventsourcing_env())
    db = Db(views_recorder(tracker))
    if not config.create_tables and not db.has_table("view_meta"):
        tracker.close()
        raise StoreNotInitialised("the database has no tracker tables yet: run `tracker db init` once")
    projection = Projection(tracker, db)
    attach(projection)  # the views follow inside each write's own transaction
    users = UserStore(db, create_tables=config.create_tables, password_slots=config.password_slots)
    replies = Replies(db, create_tables=config.create_tables)
    services = Services(config=config, tracker=tracker, db=db, projection=projection, users=users, replies=replies)
    if config.create_tables:
        projection.ensure_layout()
    bulk.finish(projection)  # a bulk rebuild that stopped between its passes
    if catch_up:
        projection.catch_up()
    return services
