"""Rebuilding the read models in bulk, from the stored log, in two streaming passes.

1. **Append.** The stored events are read in pages; each record's JSON is decoded once, straight into its log
   entry (:func:`entry_of_stored`: no domain event is built, which is most of the cost of reading the log
   through the library), and the log and event rows are written in one transaction per page, with the
   tracking position. Nothing is folded yet.
2. **Fold.** Each partnership is then folded once from its event rows (:meth:`Projection.refold`), a few
   hundred partnerships per transaction.

Memory stays flat in the size of the store: one page of events, or one chunk of partnerships, at a time.
The result is the same as replaying the log event by event (``tests/integration/test_bulk_rebuild.py``).

A crash between the passes leaves the ``fold_pending`` mark in ``view_meta``; the next start of the tracker
(:func:`finish`, from ``build_services``) folds every partnership then. A write made meanwhile by another
process is projected as usual: it finds its partnership's row missing (the append pass removes the rows of
the partnerships it touches) and refolds it from its complete event rows.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.partnership import ENVELOPE_FIELDS, EVENT_CLASSES
from projections.log import entry_of
from projections.projection import PROJECTION_LOCK, VIEW_TABLES, Projection

#: stored events per page of the append pass
PAGE = 1000
#: partnerships per transaction of the fold pass
FOLD_CHUNK = 200
PENDING = "fold_pending"

#: the stored topic of each event class -> (its type, its class version)
_TOPICS = {get_topic(cls): (name, getattr(cls, "class_version", 1)) for name, cls in EVENT_CLASSES.items()}
_SKIPPED = ENVELOPE_FIELDS | {"class_version"}
#: stored class versions decoded here as the current one: version 3 only added ``request_id``, which an entry leaves out
_SAME_ENTRY = {3: (2, 3)}
#: the library's transcodings whose stored text is the canonical form itself
_AS_TEXT = frozenset({"datetime_iso", "date_iso", "business_date"})


class _NotPlain(Exception):
    """A stored value this decoder does not turn into an entry by itself (the library's mapper will)."""


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        if "_type_" in value:
            if value["_type_"] in _AS_TEXT and len(value) == 2 and isinstance(value.get("_data_"), str):
                return value["_data_"]
            raise _NotPlain(value["_type_"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def entry_of_stored(app: Any, notification: Any) -> dict[str, Any]:
    """The log entry of a stored event (``position`` 0), as :func:`projections.log.entry_of` makes it from the
    domain event, decoded from the stored JSON without building the event. Events of an older class version
    (which upcasters change), an unknown topic, or a store with a compressor or a cipher go through the
    library's mapper instead."""
    known = _TOPICS.get(notification.topic)
    mapper = app.mapper
    if known is not None and mapper.compressor is None and mapper.cipher is None:
        try:
            state = json.loads(notification.state)
            stored_version = state.get("class_version", 1)
            if stored_version == known[1] or stored_version in _SAME_ENTRY.get(known[1], ()):
                return {
                    "data": {k: _plain(v) for k, v in state.items() if k not in _SKIPPED and v is not None},
                    "occurred_on": _plain(state["occurred_on"]),
                    "partnership_id": str(notification.originator_id),
                    "position": 0,
                    "recorded_at": _plain(state["timestamp"]),
                    "recorded_by": state["recorded_by"],
                    "type": known[0],
                    "version": notification.originator_version,
                }
        except (_NotPlain, KeyError, ValueError, TypeError, AttributeError):
            pass
    return entry_of(mapper.to_domain_event(notification), 0)


def rebuild(projection: Projection) -> int:
    """Both passes over views emptied by the caller; returns the number of events appended."""
    _mark(projection, pending=True)
    applied = 0
    name, db = projection.name, projection.db
    with projection._lock:
        while True:
            with db.transaction(write=False) as tx:
                start = tx.tracking_position(name)
            page = projection.app.recorder.select_notifications(start=start, limit=PAGE, inclusive_of_start=False)
            if not page:
                break
            with db.transaction(write=True) as tx:
                tx.lock(PROJECTION_LOCK)
                done = tx.tracking_position(name)  # another process may have moved on
                fresh = [n for n in page if n.id > done]
                if not fresh:
                    continue
                entries = [entry_of_stored(projection.app, n) for n in fresh]
                touched = projection.append_entries(tx, entries, [n.id for n in fresh])
                tx.executemany(f"DELETE FROM {db.table('view_partnerships')} WHERE id = ?", [(p,) for p in touched])
                tx.insert_tracking(Tracking(name, fresh[-1].id))
                applied += len(fresh)
        fold_all(projection)
    _mark(projection, pending=False)
    analyze(projection)
    return applied


def analyze(projection: Projection) -> None:
    """On PostgreSQL, ``VACUUM ANALYZE`` the freshly filled view tables: the planner gets their statistics and
    index-only scans their visibility map now, not when autovacuum comes round (a count of 100,000 list rows
    right after a rebuild: 57 ms -> 12 ms). SQLite needs neither."""
    db = projection.db
    if db.dialect != "postgres":
        return
    # the library's connections autocommit: VACUUM cannot run inside a transaction
    with db.datastore.get_connection() as conn:
        for table in VIEW_TABLES:
            conn.execute(f"VACUUM ANALYZE {db.table(table)}")


def fold_all(projection: Projection) -> int:
    """Fold every partnership once from its event rows, a chunk at a time; returns how many."""
    db, t = projection.db, projection.db.table
    after, folded = "", 0
    while True:
        with db.transaction(write=True) as tx:
            tx.lock(PROJECTION_LOCK)
            pids = [
                r["partnership_id"]
                for r in tx.execute(
                    f"SELECT DISTINCT partnership_id FROM {t('view_events')} WHERE partnership_id > ?"
                    " ORDER BY partnership_id LIMIT ?",
                    (after, FOLD_CHUNK),
                ).fetchall()
            ]
            if not pids:
                return folded
            projection.refold_pids(tx, pids, chunk=FOLD_CHUNK)
            folded += len(pids)
            after = pids[-1]


def finish(projection: Projection) -> bool:
    """Fold every partnership if a bulk rebuild stopped between its passes; True if it did."""
    with projection.db.transaction(write=False) as tx:
        pending = tx.scalar(f"SELECT value FROM {projection.db.table('view_meta')} WHERE name = ?", (PENDING,))
    if not pending:
        return False
    with projection._lock:
        fold_all(projection)
    _mark(projection, pending=False)
    return True


def _mark(projection: Projection, *, pending: bool) -> None:
    meta = projection.db.table("view_meta")
    with projection.db.transaction(write=True) as tx:
        tx.lock(PROJECTION_LOCK)
        tx.execute(f"DELETE FROM {meta} WHERE name = ?", (PENDING,))
        if pending:
            tx.execute(f"INSERT INTO {meta} (name, value) VALUES (?, '1')", (PENDING,))
