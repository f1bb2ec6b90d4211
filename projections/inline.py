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
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from infrastructure.store import Tx
from projections.projection import Projection

log = logging.getLogger(__name__)


class InlineSQLiteRecorder(SQLiteApplicationRecorder):
    """Appends events and, when a projection is attached, its read models in the same transaction."""

    projection: Projection | None = None

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
        events = [projection.app.mapper.to_domain_event(s) for s in stored_events]
        projection.apply_batch(tx, events, ids)
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
