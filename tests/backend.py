"""The store the tests run on, chosen by ``TEST_BACKEND``: ``sqlite`` (default) or ``postgres``.

On SQLite a store is the file ``events.db`` in a test's folder. On PostgreSQL
(``TEST_DATABASE_URL``, a role that may create schemas) it is a fresh schema,
``t_<random hex>``, one per folder, dropped with everything in it when the
test ends. :class:`Store` reads and changes a store's rows behind the
tracker's back (the tests' tampering and inspection), the same on both.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from uuid import UUID

BACKENDS = ("sqlite", "postgres")
BACKEND = os.environ.get("TEST_BACKEND", "sqlite") or "sqlite"
POSTGRES = BACKEND == "postgres"

#: Every read-model table, with the order its rows are compared in.
VIEW_ORDER = {
    "view_log": "position",
    "view_events": "partnership_id, version",
    "view_partnerships": "id",
    "view_partnership_areas": "area, partnership_id",
    "view_reminders": "id",
}

#: the local government whose register the tests' stores are (TRACKER_ORGANISATION)
ORGANISATION = "Powiat Piaseczyński"


def check_backend() -> str | None:
    """Why the configured backend cannot run (None when it can): never fall back to SQLite silently."""
    if BACKEND not in BACKENDS:
        return f"TEST_BACKEND={BACKEND!r}: use one of {', '.join(BACKENDS)}"
    if POSTGRES and not os.environ.get("TEST_DATABASE_URL"):
        return 'TEST_BACKEND=postgres needs TEST_DATABASE_URL (eval "$(bash .ci/pg-start.sh)" starts a cluster)'
    return None


def server_url() -> str:
    """The PostgreSQL database of the test run (``TEST_DATABASE_URL``, without a schema)."""
    return os.environ["TEST_DATABASE_URL"]


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


# --- stores per folder, and their clean-up ---------------------------------------------------------------

_by_folder: dict[Path, str] = {}
_initialised: set[str] = set()
_schemas: list[str] = []


def new_schema() -> str:
    """Create a fresh, empty schema (dropped at the end of the test); returns its name."""
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    _schemas.append(name)
    return name


def database_for(folder: Path, *, init: bool = True) -> str:
    """The ``TRACKER_DATABASE`` of the store that belongs to ``folder`` (the same value every call in a test).

    SQLite: ``folder/events.db`` (not created here). PostgreSQL: a URL with a schema of the
    store's own; with ``init`` its tables are made (what ``tracker db init`` does), since the
    ``tracker`` commands start on PostgreSQL with table creation off.
    """
    folder = Path(folder)
    if not POSTGRES:
        return str(folder / "events.db")
    database = _by_folder.get(folder)
    if database is None:
        database = _by_folder[folder] = _with_schema(server_url(), new_schema())
    if init and database not in _initialised:
        initialise(database)
    return database


def module_database(folder: Path) -> tuple[str, Any]:
    """A store that outlives one test (for a module-scoped fixture): its ``TRACKER_DATABASE`` (tables made)
    and a function that drops it; the per-test clean-up leaves it alone."""
    folder = Path(folder)
    database = database_for(folder)
    if not POSTGRES:
        return database, lambda: None
    schema = _schemas.pop()  # the one database_for just made: not the current test's to drop
    _by_folder.pop(folder, None)
    _initialised.discard(database)

    def drop() -> None:
        import psycopg

        with psycopg.connect(server_url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return database, drop


def initialise(database: str) -> None:
    """Create the tracker's tables in the store (idempotent), as ``tracker db init`` does."""
    from application.config import Config
    from application.services import build_services

    build_services(Config(database=database, create_tables=True), catch_up=False).close()
    _initialised.add(database)


def drop_stores() -> None:
    """Drop every schema made since the last call (end of a test)."""
    schemas = [*_schemas]
    _schemas.clear()
    _by_folder.clear()
    _initialised.clear()
    if not schemas:
        return
    import psycopg

    try:
        with psycopg.connect(server_url(), autocommit=True) as conn:
            conn.execute("SET lock_timeout = '30s'")
            for name in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    except psycopg.Error as e:  # a leftover schema in a throwaway cluster is harmless; say so
        warnings.warn(f"could not drop test schemas {schemas}: {e}", stacklevel=1)


# --- raw access ----------------------------------------------------------------------------------------------


class Store:
    """A store's rows, read and changed with a plain connection (sqlite3 or psycopg), not through the tracker.

    SQL is written once, SQLite-style: ``?`` placeholders and unqualified table names (on
    PostgreSQL the connection's ``search_path`` is the store's schema). The stored events are
    ``stored_events`` on SQLite and ``tracker_events`` on PostgreSQL: use :attr:`events`.
    """

    def __init__(self, database: str | Path) -> None:
        self.database = str(database)
        self.postgres = self.database.startswith(("postgresql://", "postgres://"))
        self.schema = parse_qs(urlsplit(self.database).query).get("schema", ["public"])[0] if self.postgres else None
        self.events = "tracker_events" if self.postgres else "stored_events"
        self.tracking = "tracker_tracking" if self.postgres else "tracking"
        self.users_table = "tracker_users"

    @property
    def server_url(self) -> str:
        """The database's URL without the tracker's own ``schema`` parameter (a libpq connection string)."""
        parts = urlsplit(self.database)
        query = {k: v for k, v in parse_qs(parts.query).items() if k != "schema"}
        return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))

    def __repr__(self) -> str:
        return f"Store({self.database!r})"

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection in one transaction, committed when the block ends without an error."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.server_url, options=f"-c search_path={self.schema}") as conn:
                yield conn
            return
        conn = sqlite3.connect(self.database)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> Any:
        if not self.postgres:
            return conn.execute(sql, tuple(params))
        if not params:
            return conn.execute(sql)
        return conn.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.connect() as conn:
            return [tuple(r) for r in self._run(conn, sql, params).fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def execute(self, *statements: str | tuple[str, Sequence[Any]]) -> None:
        """Run statements (``sql`` or ``(sql, params)``) in one committed transaction."""
        with self.connect() as conn:
            for statement in statements:
                sql, params = (statement, ()) if isinstance(statement, str) else statement
                self._run(conn, sql, params)

    # --- what the tests look at ---

    def exists(self) -> bool:
        """Whether anything was created: the SQLite file, or any table in the schema."""
        if not self.postgres:
            return Path(self.database).exists()
        return bool(self.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = ?", (self.schema,)))

    def view_rows(self) -> dict[str, list[tuple]]:
        """Every row of every read-model table, in key order."""
        with self.connect() as conn:
            return {
                table: [tuple(r) for r in self._run(conn, f"SELECT * FROM {table} ORDER BY {order}", ()).fetchall()]
                for table, order in VIEW_ORDER.items()
            }

    def tracking_position(self) -> int:
        value = self.scalar(f"SELECT notification_id FROM {self.tracking} WHERE application_name = 'Tracker'")
        return value or 0

    def stored_count(self) -> int:
        return self.scalar(f"SELECT COUNT(*) FROM {self.events}")

    @property
    def _id(self) -> str:
        return "notification_id" if self.postgres else "rowid"

    def stored_state(self, position: int) -> bytes:
        """The stored bytes of the ``position``-th event of the log (1-based, in commit order)."""
        return bytes(self._nth(position)[1])

    def set_stored_state(self, position: int, state: bytes) -> None:
        """Overwrite the stored bytes of the ``position``-th event (tampering behind the tracker's back)."""
        key = self._nth(position)[0]
        self.execute((f"UPDATE {self.events} SET state = ? WHERE {self._id} = ?", (state, key)))

    def _nth(self, position: int) -> tuple[int, bytes]:
        rows = self.rows(
            f"SELECT {self._id}, state FROM {self.events} ORDER BY {self._id} LIMIT 1 OFFSET ?", (position - 1,)
        )
        assert rows, f"no stored event at position {position}"
        return rows[0]

    def stored_versions(self, pid: UUID) -> list[int]:
        key: Any = pid if self.postgres else pid.hex
        rows = self.rows(
            f"SELECT originator_version FROM {self.events} WHERE originator_id = ? ORDER BY originator_version", (key,)
        )
        return [r[0] for r in rows]

    def stored_states(self, topic_suffix: str) -> list[bytes]:
        """The stored bytes of every event whose topic ends with ``topic_suffix``."""
        return [
            bytes(r[0]) for r in self.rows(f"SELECT state FROM {self.events} WHERE topic LIKE ?", (f"%{topic_suffix}",))
        ]

    def users(self) -> list[tuple[str, str, str | None]]:
        return self.rows(f"SELECT name, role, email FROM {self.users_table} ORDER BY name")

    def columns(self, table: str) -> set[str]:
        if self.postgres:
            rows = self.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                (self.schema, table),
            )
            return {r[0] for r in rows}
        return {r[1] for r in self.rows(f"PRAGMA table_info({table})")}
