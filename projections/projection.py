"""The read models, fed from the Tracker's notification log.

One composite projection keeps every read model (the log with its hash chain,
each partnership's events, the partnership list, reminders) and one tracking
position, all written in the same transaction: a batch of notifications is
applied exactly once, and a crash in the middle leaves the previous batch's
state, from which the next catch-up resumes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from domain import rules
from domain.partnership import Partnership
from domain.values import ACTIVE, INTENT
from infrastructure.store import Db, Tx
from projections import folds
from projections.documents import document_of_state, fact_of, registered_of, reminder_documents
from projections.log import GENESIS_HASH, canonical, chain_hash, entry_of

#: the list row's columns besides its id, in the order :func:`_row_values` gives them
ROW_NAMES = (
    "sort_name",
    "partner_country",
    "status",
    "last_activity_end",
    "own_days",
    "due_on",
    "spell_flagged",
    "next_plan_due",
    "search",
    "version",
    "doc",
    "fold",
)
ROW_COLUMNS = ", ".join(ROW_NAMES)
#: Advisory lock key serializing projection writers on PostgreSQL.
PROJECTION_LOCK = 727_002
BATCH = 500

#: The statuses in which a partnership can go quiet (the inactivity scan's candidates), and the same as SQL
#: with literal values (a query uses the partial index below only when its text names the same values).
OPEN_STATUSES: tuple[str, ...] = (INTENT, ACTIVE)
_OPEN_VALUES = ", ".join(f"'{status}'" for status in OPEN_STATUSES)


def is_open_sql(column: str = "status") -> str:
    """``column IN ('intent', 'active')``: the SQL test for an open status."""
    return f"{column} IN ({_OPEN_VALUES})"


VIEW_TABLES = (
    "view_log",
    "view_events",
    "view_partnerships",
    "view_partnership_areas",
    "view_reminders",
    "view_checkpoints",
)

DDL = (
    """CREATE TABLE IF NOT EXISTS {view_log} (
        position BIGINT PRIMARY KEY,
        notification_id BIGINT NOT NULL UNIQUE,
        partnership_id TEXT NOT NULL,
        version BIGINT NOT NULL,
        type TEXT NOT NULL,
        content TEXT NOT NULL,
        hash TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {view_events} (
        partnership_id TEXT NOT NULL,
        version BIGINT NOT NULL,
        position BIGINT NOT NULL,
        type TEXT NOT NULL,
        occurred_on TEXT,
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        data TEXT NOT NULL,
        retracted_by BIGINT,
        retraction_reason TEXT,
        effect TEXT,
        ineffective_by BIGINT,
        business_first TEXT,
        PRIMARY KEY (partnership_id, version))""",
    # a partnership's events in business order: the tail after a checkpoint, for an answer as of a day
    "CREATE INDEX IF NOT EXISTS view_events_business ON {view_events} (partnership_id, business_first, version)",
    """CREATE TABLE IF NOT EXISTS {view_partnerships} (
        id TEXT PRIMARY KEY,
        sort_name TEXT NOT NULL,
        partner_country TEXT NOT NULL,
        status TEXT NOT NULL,
        last_activity_end TEXT,
        own_days INTEGER,
        due_on TEXT,
        spell_flagged INTEGER NOT NULL,
        next_plan_due TEXT,
        search TEXT NOT NULL,
        version BIGINT NOT NULL,
        doc TEXT NOT NULL,
        fold TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS view_partnerships_sort ON {view_partnerships} (sort_name, id)",
    "CREATE INDEX IF NOT EXISTS view_partnerships_status ON {view_partnerships} (status, sort_name, id)",
    "CREATE INDEX IF NOT EXISTS view_partnerships_country ON {view_partnerships} (partner_country, sort_name, id)",
    "CREATE INDEX IF NOT EXISTS view_partnerships_activity ON {view_partnerships} (last_activity_end)",
    "CREATE INDEX IF NOT EXISTS view_partnerships_due ON {view_partnerships} (due_on)",
    "CREATE INDEX IF NOT EXISTS view_partnerships_plans ON {view_partnerships} (next_plan_due)",
    # the inactivity scan's candidates: open, this spell not flagged yet (small in steady state)
    "CREATE INDEX IF NOT EXISTS view_partnerships_unflagged ON {view_partnerships} (last_activity_end)"
    f" WHERE {is_open_sql()} AND spell_flagged = 0",
    """CREATE TABLE IF NOT EXISTS {view_partnership_areas} (
        area TEXT NOT NULL,
        partnership_id TEXT NOT NULL,
        PRIMARY KEY (area, partnership_id))""",
    "CREATE INDEX IF NOT EXISTS view_partnership_areas_pid ON {view_partnership_areas} (partnership_id)",
    """CREATE TABLE IF NOT EXISTS {view_reminders} (
        id TEXT PRIMARY KEY,
        partnership_id TEXT NOT NULL,
        opened_on TEXT NOT NULL,
        is_open INTEGER NOT NULL,
        doc TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS view_reminders_open ON {view_reminders} (is_open, opened_on)",
    "CREATE INDEX IF NOT EXISTS view_reminders_partnership ON {view_reminders} (partnership_id)",
    # the fold every so many facts in business order (projections/folds.py), for answers as of a day
    """CREATE TABLE IF NOT EXISTS {view_checkpoints} (
        partnership_id TEXT NOT NULL,
        first TEXT NOT NULL,
        version BIGINT NOT NULL,
        kept TEXT NOT NULL,
        PRIMARY KEY (partnership_id, first, version))""",
)


#: The read models' layout; when it changes, :meth:`Projection.ensure_layout` rebuilds them.
LAYOUT_VERSION = "8"
META_DDL = "CREATE TABLE IF NOT EXISTS {view_meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"


#: the ``view_events`` columns a refold reads
REFOLD_COLUMNS = "version, type, occurred_on, recorded_at, recorded_by, data, retracted_by, effect, ineffective_by"


def ddl(qualify: Callable[[str], str]) -> list[str]:
    names = {t: qualify(t) for t in (*VIEW_TABLES, "view_meta")}
    return [META_DDL.format(**names), *(s.format(**names) for s in DDL)]


class SQLiteViewsRecorder(SQLiteTrackingRecorder):
    """The library's tracking table (and the views' layout marker), in the same SQLite file."""

    def construct_create_table_statements(self) -> list[str]:
        # Only the layout marker here: the view tables are made by Projection.ensure_layout,
        # which can drop and rebuild them when an upgrade changed their layout.
        return [*super().construct_create_table_statements(), META_DDL.format(view_meta="view_meta")]


class PostgresViewsRecorder(PostgresTrackingRecorder):
    """The library's tracking table (and the views' layout marker), in the same PostgreSQL schema."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        from psycopg.sql import SQL

        schema = self.datastore.schema
        self.sql_create_statements.append(SQL(META_DDL.format(view_meta=f'"{schema}".view_meta')))  # type: ignore[arg-type]


def views_recorder(app: Application) -> Any:
    """The tracking recorder holding the views, on the application's own datastore."""
    postgres = type(app.factory).__name__.startswith("Postgres")  # the library's or infrastructure/outage.py's
    return app.factory.tracking_recorder(PostgresViewsRecorder if postgres else SQLiteViewsRecorder)


class Projection:
    """Feeds every read model from the application's notification log."""

    def __init__(self, app: Application, db: Db) -> None:
        self.app = app
        self.db = db
        self.name = app.name
        self._lock = threading.Lock()

    @property
    def position(self) -> int:
        """The last notification id applied to the views."""
        with self.db.transaction(write=False) as tx:
            return tx.tracking_position(self.name)

    def catch_up(self, batch: int = BATCH) -> int:
        """Apply every notification not yet applied; returns how many were applied."""
        applied = 0
        with self._lock:
            while True:
                start = self.position
                notifications = self.app.recorder.select_notifications(
                    start=start, limit=batch, inclusive_of_start=False
                )
                if not notifications:
                    return applied
                applied += self._apply(notifications)

    def _apply(self, notifications: Sequence[Any]) -> int:
        with self.db.transaction(write=True) as tx:
            tx.lock(PROJECTION_LOCK)
            done = tx.tracking_position(self.name)  # another process may have moved on
            fresh = [n for n in notifications if n.id > done]
            if not fresh:
                return 0
            self.apply_batch(tx, [self.app.mapper.to_domain_event(n) for n in fresh], [n.id for n in fresh])
            tx.insert_tracking(Tracking(self.name, fresh[-1].id))
            return len(fresh)

    def apply_batch(self, tx: Tx, events: Sequence[Partnership.Event], notification_ids: Sequence[int]) -> None:
        """Append the events to the log and the event lists, then change each partnership touched by them."""
        self.apply_entries(tx, [entry_of(e, 0) for e in events], notification_ids)

    def apply_entries(self, tx: Tx, entries: Sequence[dict[str, Any]], notification_ids: Sequence[int]) -> None:
        """:meth:`apply_batch` of the events' log entries."""
        touched = self.append_entries(tx, entries, notification_ids)
        self.refold_pids(tx, [pid for pid, own in touched.items() if not self.advance(tx, pid, own)])

    def append_entries(
        self, tx: Tx, entries: Sequence[dict[str, Any]], notification_ids: Sequence[int]
    ) -> dict[str, list[dict[str, Any]]]:
        """Append log entries (their ``position`` is given here) to the log and the event lists; returns the
        entries by partnership."""
        t = self.db.table
        head = tx.execute(f"SELECT position, hash FROM {t('view_log')} ORDER BY position DESC LIMIT 1").fetchone()
        position, previous = (head["position"], head["hash"]) if head else (0, GENESIS_HASH)
        log_rows, event_rows, retractions = [], [], []
        touched: dict[str, list[dict[str, Any]]] = {}
        for entry, notification_id in zip(entries, notification_ids, strict=True):
            position += 1
            entry["position"] = position
            content = canonical(entry)
            previous = chain_hash(previous, content)
            pid = entry["partnership_id"]
            log_rows.append((position, notification_id, pid, entry["version"], entry["type"], content, previous))
            data = json.dumps(entry["data"], ensure_ascii=False, sort_keys=True)
            when = folds.fact_of_entry(entry).when
            event_rows.append(
                (pid, entry["version"], position, entry["type"], entry["occurred_on"], entry["recorded_at"])
                + (entry["recorded_by"], data, when.first.isoformat() if when else None)
            )
            if entry["type"] == rules.RETRACTED:
                retractions.append((entry["version"], entry["data"]["reason"], pid, entry["data"]["retracts"]))
            touched.setdefault(pid, []).append(entry)
        tx.executemany(
            f"INSERT INTO {t('view_log')} (position, notification_id, partnership_id, version, type, content, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            log_rows,
        )
        tx.executemany(
            f"INSERT INTO {t('view_events')} (partnership_id, version, position, type, occurred_on, recorded_at,"
            " recorded_by, data, business_first) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            event_rows,
        )
        tx.executemany(
            f"UPDATE {t('view_events')} SET retracted_by = ?, retraction_reason = ?"
            " WHERE partnership_id = ? AND version = ?",
            retractions,
        )
        return touched

    def advance(self, tx: Tx, pid: str, entries: Sequence[dict[str, Any]]) -> bool:
        """Change one partnership's list row, areas and reminders by its new entries alone (see
        :mod:`projections.folds`); False, changing nothing, when only a full refold can say."""
        t = self.db.table
        row = tx.execute(f"SELECT {ROW_COLUMNS} FROM {t('view_partnerships')} WHERE id = ?", (pid,)).fetchone()
        if row is None:
            return False
        kept, doc = folds.loads(row["fold"]), json.loads(row["doc"])
        reminders = {
            r["id"]: json.loads(r["doc"])
            for r in tx.execute(
                f"SELECT id, doc FROM {t('view_reminders')} WHERE partnership_id = ?", (pid,)
            ).fetchall()
        }
        changed: dict[str, dict[str, Any]] = {}
        effects = []
        areas = doc["areas"]
        for entry in entries:
            step = folds.advance(kept, doc, list(reminders.values()), folds.fact_of_entry(entry), entry)
            if step is None:
                return False
            kept, doc, markers, reminders_changed, effect = step
            effects.append((json.dumps(effect), pid, entry["version"]))
            if kept.count % folds.CHECKPOINT_EVERY == 0:
                self._add_checkpoints(tx, pid, [kept])
            for reminder in reminders_changed:
                reminders[reminder["id"]] = changed[reminder["id"]] = reminder
        tx.executemany(f"UPDATE {t('view_events')} SET effect = ? WHERE partnership_id = ? AND version = ?", effects)
        self._update_row(tx, pid, doc, markers, kept, row)
        if doc["areas"] != areas:
            self._write_areas(tx, pid, doc["areas"])
        self._replace_reminders(tx, pid, list(changed.values()))
        return True

    def refold(self, tx: Tx, pid: str) -> None:
        """Recompute one partnership's list row, areas, reminders, checkpoints and effects from its event rows."""
        self.refold_pids(tx, [pid])

    def refold_pids(self, tx: Tx, pids: Sequence[str], chunk: int = 500) -> None:
        """:meth:`refold` of each partnership of ``pids``, their event rows read and their views written a chunk
        of partnerships at a time."""
        events = self.db.table("view_events")
        for start in range(0, len(pids), chunk):
            some = pids[start : start + chunk]
            rows = tx.execute(
                f"SELECT partnership_id, {REFOLD_COLUMNS} FROM {events}"
                f" WHERE partnership_id IN ({', '.join('?' for _ in some)}) ORDER BY partnership_id, version",
                some,
            ).fetchall()
            self.refold_many(tx, grouped(rows))

    def refold_many(self, tx: Tx, groups: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """:meth:`refold` of several partnerships, each with all its event rows by version; each table is written
        with one statement or one batch for all of them (on PostgreSQL one round trip, not one per partnership)."""
        if not groups:
            return
        t = self.db.table
        pids = [pid for pid, _ in groups]
        effects, rows_out, checkpoints, areas, reminders = [], [], [], [], []
        for pid, rows in groups:
            facts = [fact_of(r) for r in rows]
            kept = folds.kept_of(facts)  # the fold, once: the document is made from its state
            doc, markers = document_of_state(
                pid,
                kept.folded.state,
                registered_of(facts),
                version=max(f.version for f in facts),
                exists_from=kept.folded.exists,
                approximate_until=kept.approximate_until,
            )
            history = rules.history(facts)
            for row in rows:
                version = row["version"]
                effect = None if row["retracted_by"] is not None else json.dumps(history.effects[version].as_dict())
                culprit = history.made_ineffective.get(version)
                if (effect, culprit) != (row["effect"], row["ineffective_by"]):
                    effects.append((effect, culprit, pid, version))
            rows_out.append((pid, *_row_values(doc, markers, kept).values()))
            checkpoints += _checkpoint_rows(pid, folds.checkpoints(facts))
            areas += [(area, pid) for area in doc["areas"]]
            reminders += _reminder_rows(pid, reminder_documents(pid, facts, {r["version"]: r for r in rows}))
        marks = ", ".join("?" for _ in pids)
        tx.executemany(
            f"UPDATE {t('view_events')} SET effect = ?, ineffective_by = ? WHERE partnership_id = ? AND version = ?",
            effects,
        )
        tx.execute(f"DELETE FROM {t('view_partnerships')} WHERE id IN ({marks})", pids)
        tx.executemany(
            f"INSERT INTO {t('view_partnerships')} (id, {ROW_COLUMNS}) VALUES (?, {', '.join('?' for _ in ROW_NAMES)})",
            rows_out,
        )
        tx.execute(f"DELETE FROM {t('view_checkpoints')} WHERE partnership_id IN ({marks})", pids)
        tx.executemany(CHECKPOINT_INSERT.format(table=t("view_checkpoints")), checkpoints)
        tx.execute(f"DELETE FROM {t('view_partnership_areas')} WHERE partnership_id IN ({marks})", pids)
        tx.executemany(f"INSERT INTO {t('view_partnership_areas')} (area, partnership_id) VALUES (?, ?)", areas)
        tx.execute(f"DELETE FROM {t('view_reminders')} WHERE partnership_id IN ({marks})", pids)
        tx.executemany(REMINDER_INSERT.format(table=t("view_reminders")), reminders)

    def _update_row(
        self, tx: Tx, pid: str, doc: dict[str, Any], markers: dict[str, Any], kept: folds.Kept, old: Mapping[str, Any]
    ) -> None:
        """Update the partnership's list row from its ``old`` one: only the columns that changed, so an index
        whose columns stayed (most of them, for most events) is not touched."""
        changed = {name: value for name, value in _row_values(doc, markers, kept).items() if old[name] != value}
        if changed:
            tx.execute(
                f"UPDATE {self.db.table('view_partnerships')} SET {', '.join(f'{name} = ?' for name in changed)}"
                " WHERE id = ?",
                (*changed.values(), pid),
            )

    def _add_checkpoints(self, tx: Tx, pid: str, kept: Sequence[folds.Kept]) -> None:
        tx.executemany(CHECKPOINT_INSERT.format(table=self.db.table("view_checkpoints")), _checkpoint_rows(pid, kept))

    def _write_areas(self, tx: Tx, pid: str, areas: Sequence[str]) -> None:
        t = self.db.table
        tx.execute(f"DELETE FROM {t('view_partnership_areas')} WHERE partnership_id = ?", (pid,))
        tx.executemany(
            f"INSERT INTO {t('view_partnership_areas')} (area, partnership_id) VALUES (?, ?)",
            [(area, pid) for area in areas],
        )

    def _replace_reminders(self, tx: Tx, pid: str, reminders: Sequence[dict[str, Any]]) -> None:
        """Write these reminders of the partnership over their earlier versions (the others stay)."""
        t = self.db.table
        tx.executemany(f"DELETE FROM {t('view_reminders')} WHERE id = ?", [(r["id"],) for r in reminders])
        tx.executemany(REMINDER_INSERT.format(table=t("view_reminders")), _reminder_rows(pid, reminders))

    def ensure_layout(self) -> bool:
        """Drop and recreate the read models when their layout is not this version's; True if it did."""
        t = self.db.table
        with self._lock, self.db.transaction(write=True) as tx:
            tx.lock(PROJECTION_LOCK)
            tx.execute(META_DDL.format(view_meta=t("view_meta")))
            if tx.scalar(f"SELECT value FROM {t('view_meta')} WHERE name = 'layout'") == LAYOUT_VERSION:
                return False
            for table in VIEW_TABLES:
                tx.execute(f"DROP TABLE IF EXISTS {t(table)}")
            for statement in ddl(t):
                tx.execute(statement)
            tx.execute(f"DELETE FROM {self.db.tracking_table} WHERE application_name = ?", (self.name,))
            tx.execute(f"DELETE FROM {t('view_meta')} WHERE name = 'layout'")
            tx.execute(f"INSERT INTO {t('view_meta')} (name, value) VALUES ('layout', ?)", (LAYOUT_VERSION,))
        return True

    def rebuild(self) -> int:
        """Throw every read model away and rebuild it from the whole log, in bulk (:mod:`projections.bulk`)."""
        from projections import bulk

        with self._lock, self.db.transaction(write=True) as tx:
            tx.lock(PROJECTION_LOCK)
            for table in VIEW_TABLES:
                tx.execute(f"DELETE FROM {self.db.table(table)}")
            tx.execute(f"DELETE FROM {self.db.tracking_table} WHERE application_name = ?", (self.name,))
        return bulk.rebuild(self)

    def replay(self) -> int:
        """Throw every read model away and replay the whole log event by event (the incremental path)."""
        with self._lock, self.db.transaction(write=True) as tx:
            tx.lock(PROJECTION_LOCK)
            for table in VIEW_TABLES:
                tx.execute(f"DELETE FROM {self.db.table(table)}")
            tx.execute(f"DELETE FROM {self.db.tracking_table} WHERE application_name = ?", (self.name,))
        return self.catch_up()


def _row_values(doc: dict[str, Any], markers: dict[str, Any], kept: folds.Kept) -> dict[str, Any]:
    """A partnership's list row (but its id), by column, in the order of :data:`ROW_COLUMNS`."""
    return {
        "sort_name": doc["partner_name"].lower(),
        "partner_country": doc["partner_country"],
        "status": doc["status"],
        "last_activity_end": markers["last_activity_end"],
        "own_days": markers["own_days"],
        "due_on": markers["due_on"],
        "spell_flagged": int(markers["spell_flagged"]),
        "next_plan_due": markers["next_plan_due"],
        "search": markers["search"],
        "version": doc["version"],
        "doc": json.dumps(doc, ensure_ascii=False),
        "fold": folds.dumps(kept),
    }


CHECKPOINT_INSERT = "INSERT INTO {table} (partnership_id, first, version, kept) VALUES (?, ?, ?, ?)"
REMINDER_INSERT = "INSERT INTO {table} (id, partnership_id, opened_on, is_open, doc) VALUES (?, ?, ?, ?, ?)"


def _checkpoint_rows(pid: str, kept: Sequence[folds.Kept]) -> list[tuple[Any, ...]]:
    return [
        (pid, k.folded.last[0].isoformat(), k.folded.last[1], folds.dumps(folds.checkpoint_of(k)))
        for k in kept
        if k.folded.last
    ]


def _reminder_rows(pid: str, reminders: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["id"], pid, r["opened_on"], int(r["open"]), json.dumps(r, ensure_ascii=False)) for r in reminders]


def grouped(rows: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    """Event rows ordered by partnership, grouped: (partnership id, its rows)."""
    out: list[tuple[str, list[Any]]] = []
    for row in rows:
        if not out or out[-1][0] != row["partnership_id"]:
            out.append((row["partnership_id"], []))
        out[-1][1].append(row)
    return out
