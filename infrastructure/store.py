"""A thin SQL layer over the library's datastores, the same for SQLite and PostgreSQL.

Queries are written once with ``?`` placeholders; on PostgreSQL they become
``%s``. Rows come back as plain dicts. Write transactions are serialized
across processes (``BEGIN IMMEDIATE`` on SQLite, an advisory lock taken by the
caller on PostgreSQL), so a read-then-write inside one never races.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking

_PLACEHOLDER = re.compile(r"\?")


class Tx:
    """One open transaction: execute SQL, fetch dicts, record tracking positions."""

    def __init__(self, db: Db, cursor: Any) -> None:
        self.db = db
        self.cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Tx:
        self.cursor.execute(self.db.translate(sql), tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self.db.translate(sql), [tuple(r) for r in rows])

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.cursor.fetchall()]

    def fetchone(self) -> dict[str, Any] | None:
        row = self.cursor.fetchone()
        return dict(row) if row is not None else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.execute(sql, params)
        row = self.cursor.fetchone()
        if row is None:
            return None
        return row[0] if self.db.dialect == "sqlite" else next(iter(row.values()))

    def lock(self, key: int) -> None:
        """Serialize this transaction with every other one taking ``key`` (PostgreSQL only)."""
        if self.db.dialect == "postgres":
            self.cursor.execute("SELECT pg_advisory_xact_lock(%s)", (key,))

    def insert_tracking(self, tracking: Tracking) -> None:
        self.db.recorder._insert_tracking(self.db.wrap_cursor(self.cursor), tracking)  # noqa: SLF001

    def tracking_position(self, application_name: str) -> int:
        return self.db.recorder._max_tracking_id(application_name, self.db.wrap_cursor(self.cursor)) or 0  # noqa: SLF001


class Db:
    """The library's tracking recorder (and its datastore), plus our own tables."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.datastore = recorder.datastore
        self.dialect = "postgres" if type(self.datastore).__name__.startswith("Postgres") else "sqlite"

    @property
    def tracking_table(self) -> str:
        if self.dialect == "sqlite":
            return "tracking"
        return f'"{self.datastore.schema}"."{self.recorder.tracking_table_name}"'

    def table(self, name: str) -> str:
        """A table name qualified with the configured schema (PostgreSQL)."""
        if self.dialect == "sqlite":
            return name
        return f'"{self.datastore.schema}".{name}'

    def translate(self, sql: str) -> str:
        if self.dialect == "sqlite":
            return sql
        return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))

    def wrap_cursor(self, cursor: Any) -> Any:
        if self.dialect == "sqlite":
            from eventsourcing.sqlite import SQLiteCursor

            return SQLiteCursor(cursor)
        return cursor

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Tx]:
        if self.dialect == "postgres":
            with self.datastore.transaction(commit=write) as cursor:
                yield Tx(self, cursor)
            return
        with self.datastore.get_connection(commit=write) as connection:
            raw = connection._sqlite_conn  # noqa: SLF001
            cursor = raw.cursor()
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Tx(self, cursor)
            except BaseException:
                raw.rollback()
                raise
            else:
                if write:
                    raw.commit()
                else:
                    raw.rollback()
            finally:
                cursor.close()

    def has_table(self, name: str) -> bool:
        with self.transaction(write=False) as tx:
            if self.dialect == "sqlite":
                return bool(tx.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))
            return tx.scalar("SELECT to_regclass(?) IS NOT NULL", (self.table(name),))

    def run_ddl(self, statements: Sequence[str]) -> None:
        with self.transaction(write=True) as tx:
            for statement in statements:
                tx.execute(statement)
