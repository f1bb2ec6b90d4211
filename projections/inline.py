"""On SQLite: the read models written in the same transaction as the events they follow.

A write then costs one durable commit instead of two (the event's, then the
views'), and a write's answer never waits for a catch-up. The tracking position
still moves with the views, so everything else stays as it was: a write whose
views are behind (another process wrote while this one's views were being
rebuilt, say) is left to the ordinary catch-up, which applies it in order, and
a projection failure is rolled back to a savepoint without refusing the event.

On PostgreSQL the same holds: the library's recorder is replaced by one that inserts without pipeline mode,
under the library's table lock, and writes the views in that transaction too (taking the projection's
advisory lock, as the catch-up does). LISTEN/NOTIFY still tells other processes of new events.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier, Literal

from infrastructure.group_commit import GroupCommit, Write
from infrastructure.store import Tx
from projections import bulk
from projections.projection import PROJECTION_LOCK, Projection

log = logging.getLogger(__name__)


class InlineSQLiteRecorder(SQLiteApplicationRecorder):
    """Appends events and, when a projection is attached, its read models in the same transaction.

    **Group commit** (:mod:`infrastructure.group_commit`): writers of one process that arrive while a commit is
    under way wait, and the next of them commits all the waiting writes in one transaction, so one durable
    commit (one fsync of the WAL) serves many writers. Each write is a savepoint of its own: a write that
    conflicts (its version was taken) is rolled back alone and its writer told so, the others are kept. Each
    writer returns only after the transaction holding its events has committed, and with an error if it did
    not. A lone writer commits at once, as before.
    """

    projection: Projection | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = GroupCommit(self._write_group)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        return self.group.submit(stored_events, kwargs)

    def _write_group(self, group: list[Write]) -> None:
        with self.datastore.transaction(commit=True) as c:
            for write in group:
                c.execute("SAVEPOINT group_write")
                try:
                    write.ids = self._insert_events(c, write.events, **write.kwargs)
                    if self.projection is not None and write.ids:
                        write.followed = apply_inline(self.projection, c.sqlite_cursor, write.events, write.ids)
                except sqlite3.IntegrityError as e:  # this writer lost a race: only its write goes
                    c.execute("ROLLBACK TO group_write")
                    write.ids, write.error, write.followed = None, IntegrityError(e), False
                c.execute("RELEASE group_write")


class InlinePostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder with group commit, and the read models written in the same transaction.

    The library inserts each write in its own transaction under an ``EXCLUSIVE`` lock of the events table (so
    notification ids are committed in order, for readers that follow the log), which makes every inserting
    transaction of the database wait for the previous one's commit; the views then took a second transaction
    (the catch-up) and a second durable commit. Here the writers of a process that arrive meanwhile share one
    transaction: the table lock is taken and ``NOTIFY`` sent once, each write is inserted in a savepoint of its
    own (``RETURNING`` its notification ids) and, when a projection is attached and the views are next in line,
    applied to the views in it (under the projection's advisory lock, which the catch-up of every process
    takes too); one commit answers them all. A failure of the connection is retried the library's way (each
    writer of the group again); the caller finds out whether an earlier attempt had in fact committed
    (``domain/tracker.py``)."""

    projection: Projection | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = GroupCommit(self._write_group)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:  # the library's stored function does it all in one call
            return super().insert_events(stored_events, **kwargs)
        return self.group.submit(stored_events, kwargs)

    def _write_group(self, group: list[Write]) -> None:
        alone = len(group) == 1
        projection = self.projection
        with self.datastore.transaction(commit=True) as curs:
            # the library's lock of the events table and its NOTIFY, and the views' advisory lock: statements
            # without parameters, sent as one simple query (one round trip instead of four)
            statements = [*self.lock_table_statements, SQL("NOTIFY {0}").format(Identifier(self.channel_name))]
            if projection is not None:
                statements.append(SQL("SELECT pg_advisory_xact_lock({0})").format(Literal(PROJECTION_LOCK)))
            curs.execute(SQL("; ").join(statements))
            for write in group:
                if not alone:
                    curs.execute("SAVEPOINT group_write")
                try:
                    self._insert_events(curs, write.events, **write.kwargs)
                    if write.events:
                        # the library's insert without its lock and NOTIFY, which this transaction took once
                        super(PostgresApplicationRecorder, self)._insert_stored_events(curs, write.events)
                        write.ids = self._fetch_ids_after_insert_events(curs, write.events)
                        if projection is not None and write.ids:
                            write.followed = apply_inline(projection, curs, write.events, write.ids)
                except psycopg.IntegrityError as e:
                    if alone:
                        raise  # the transaction is rolled back; the datastore names the library's error
                    curs.execute("ROLLBACK TO SAVEPOINT group_write")  # this writer lost a race: only its write goes
                    write.ids, write.error, write.followed = None, IntegrityError(str(e)), False
                if not alone:
                    curs.execute("RELEASE SAVEPOINT group_write")


#: The recorders' topics, for the library's ``APPLICATION_RECORDER_TOPIC`` setting (``Config.eventsourcing_env``).
TOPIC = f"{__name__}:{InlineSQLiteRecorder.__qualname__}"
POSTGRES_TOPIC = f"{__name__}:{InlinePostgresRecorder.__qualname__}"

_INLINE = (InlineSQLiteRecorder, InlinePostgresRecorder)


def attach(projection: Projection) -> bool:
    """Have the application's recorder keep ``projection`` in step inside each write."""
    recorder = projection.app.recorder
    if not isinstance(recorder, _INLINE):
        return False
    recorder.projection = projection
    return True


def apply_inline(projection: Projection, cursor: Any, stored_events: Sequence[StoredEvent], ids: Sequence[int]) -> bool:
    """Apply freshly inserted events to the views inside the inserting transaction, when they are next in line;
    whether they were."""
    tx = Tx(projection.db, cursor)
    if tx.tracking_position(projection.name) != ids[0] - 1:
        return False  # the views are behind (or ahead): the catch-up applies these in order
    cursor.execute("SAVEPOINT inline_views")
    try:
        # decoded straight from the JSON just written (what the catch-up would read), no domain event built
        entries = [bulk.entry_of_stored(projection.app, s) for s in stored_events]
        projection.apply_entries(tx, entries, ids)
        tx.insert_tracking(Tracking(projection.name, ids[-1]))
    except Exception:
        cursor.execute("ROLLBACK TO SAVEPOINT inline_views")
        log.exception("the read models could not follow events %s..%s inline; the catch-up will retry", ids[0], ids[-1])
        followed = False
    else:
        followed = True
    cursor.execute("RELEASE SAVEPOINT inline_views")
    return followed


def detach(projection: Projection) -> bool:
    """Leave ``projection`` to the catch-up alone (the views then lag each write until caught up); whether it
    was attached."""
    recorder = projection.app.recorder
    if isinstance(recorder, _INLINE) and recorder.projection is projection:
        recorder.projection = None
        return True
    return False
