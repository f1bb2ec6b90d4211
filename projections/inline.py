"""On SQLite: the read models written in the same transaction as the events they follow.

A write then costs one durable commit instead of two (the event's, then the
views'), and a write's answer never waits for a catch-up. The tracking position
still moves with the views, so everything else stays as it was: a write whose
views are behind (another process wrote while this one's views were being
rebuilt, say) is left to the ordinary catch-up, which applies it in order, and
a projection failure is rolled back to a savepoint without refusing the event.

PostgreSQL keeps the catch-up after commit (and LISTEN/NOTIFY between processes):
there the library inserts in pipeline mode under a table lock.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from infrastructure.store import Tx
from projections import bulk
from projections.projection import Projection

log = logging.getLogger(__name__)


#: the most writes one group commit takes (the transaction, and so each writer's wait, stays short)
GROUP_LIMIT = 64


class _Write:
    """One writer's events waiting for a group commit, and what became of them."""

    __slots__ = ("done", "error", "events", "ids", "kwargs")

    def __init__(self, events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> None:
        self.events, self.kwargs = events, kwargs
        self.done = threading.Event()
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None


class InlineSQLiteRecorder(SQLiteApplicationRecorder):
    """Appends events and, when a projection is attached, its read models in the same transaction.

    **Group commit.** Writers of one process that arrive while a commit is under way wait, and the next of
    them commits all the waiting writes in one transaction, so one durable commit (one fsync of the WAL)
    serves many writers. Each write is a savepoint of its own: a write that conflicts (its version was taken)
    is rolled back alone and its writer told so, the others are kept. Each writer returns only after the
    transaction holding its events has committed, and with an error if it did not. A lone writer commits
    at once, as before.
    """

    projection: Projection | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: list[_Write] = []
        self._waiting_lock = threading.Lock()
        self._committing = threading.Lock()
        #: how many commits, and how many writes they held (for the benchmark and the tests)
        self.commits = 0
        self.writes = 0

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        write = _Write(stored_events, kwargs)
        with self._waiting_lock:
            self._waiting.append(write)
        while not write.done.is_set():
            with self._committing:  # the commit under way ends; then this writer commits what waits
                if write.done.is_set():
                    break
                with self._waiting_lock:
                    group, self._waiting = self._waiting[:GROUP_LIMIT], self._waiting[GROUP_LIMIT:]
                if group:
                    self._commit(group)
        if write.error is not None:
            raise write.error
        return write.ids

    def _commit(self, group: list[_Write]) -> None:
        try:
            with self.datastore.transaction(commit=True) as c:
                for write in group:
                    c.execute("SAVEPOINT group_write")
                    try:
                        write.ids = self._insert_events(c, write.events, **write.kwargs)
                    except sqlite3.IntegrityError as e:  # this writer lost a race: only its write goes
                        c.execute("ROLLBACK TO group_write")
                        write.ids, write.error = None, IntegrityError(e)
                    c.execute("RELEASE group_write")
            self.commits += 1
            self.writes += len(group)
        except BaseException as e:  # nothing of the group was kept: every writer hears why
            for write in group:
                write.ids = None
                write.error = write.error or e
            if not isinstance(e, Exception):
                raise
        finally:
            for write in group:
                write.done.set()

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if self.projection is not None and ids:
            apply_inline(self.projection, c.sqlite_cursor, stored_events, ids)
        return ids


#: The recorder's topic, for the library's ``APPLICATION_RECORDER_TOPIC`` setting (``Config.eventsourcing_env``).
TOPIC = f"{__name__}:{InlineSQLiteRecorder.__qualname__}"


def attach(projection: Projection) -> bool:
    """Have the application's recorder keep ``projection`` in step inside each write (SQLite only)."""
    recorder = projection.app.recorder
    if not isinstance(recorder, InlineSQLiteRecorder):
        return False
    recorder.projection = projection
    return True


def apply_inline(projection: Projection, cursor: Any, stored_events: Sequence[StoredEvent], ids: Sequence[int]) -> None:
    """Apply freshly inserted events to the views inside the inserting transaction, when they are next in line."""
    tx = Tx(projection.db, cursor)
    if tx.tracking_position(projection.name) != ids[0] - 1:
        return  # the views are behind (or ahead): the catch-up applies these in order
    cursor.execute("SAVEPOINT inline_views")
    try:
        # decoded straight from the JSON just written (what the catch-up would read), no domain event built
        entries = [bulk.entry_of_stored(projection.app, s) for s in stored_events]
        projection.apply_entries(tx, entries, ids)
        tx.insert_tracking(Tracking(projection.name, ids[-1]))
    except Exception:
        cursor.execute("ROLLBACK TO inline_views")
        log.exception("the read models could not follow events %s..%s inline; the catch-up will retry", ids[0], ids[-1])
    cursor.execute("RELEASE inline_views")


def detach(projection: Projection) -> None:
    """Leave ``projection`` to the catch-up alone (the views then lag each write until caught up)."""
    recorder = projection.app.recorder
    if isinstance(recorder, InlineSQLiteRecorder) and recorder.projection is projection:
        recorder.projection = None
