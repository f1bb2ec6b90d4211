"""The store the tests run on, chosen by ``TEST_BACKEND``: ``sqlite`` (default) or ``postgres``.

On SQLite a store is the file ``events.db`` in a test's folder. On PostgreSQL
(``TEST_DATABASE_URL``, a role that may create schemas) it is a schema of its own,
``t_<random hex>``, one per folder, exactly as new: schemas are pooled and put back
as new when the test ends (or dropped when that cannot be proved exact; see below).
:class:`Store` reads and changes a store's rows behind the tracker's back (the
tests' tampering and inspection), the same on both.
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
    "view_checkpoints": "partnership_id, first, version",
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
#
# On PostgreSQL making a store's tables (the library's DDL: tables, a composite type, a function, indexes)
# costs more than most tests. So the schemas are pooled: each is made once, and when a test ends every
# schema it used is put back exactly as new -- one TRUNCATE ... RESTART IDENTITY of every table that is not
# as new (the tables that hold rows, and the ones whose starting rows changed), every sequence that was
# used restarted (the notification ids start at 1 again), the starting rows put back -- or, when that
# cannot be proved exact, dropped as before:
#
# * its catalogue (tables, columns, defaults, indexes, constraints, triggers, functions, types, sequences,
#   privileges) must be the one ``tracker db init`` makes (or empty), else a test changed the layout;
# * no other connection may be inside a transaction, listening for notifications or holding an advisory
#   lock in the database (something of the test still running could write into the next test's store).
#
# An empty schema (``init=False``) that stayed empty goes back to a pool of empty ones.

_by_folder: dict[Path, str] = {}
_initialised: set[str] = set()
_schemas: list[str] = []  # handed out during the current test

_free_empty: list[str] = []  # pooled schemas, empty
_free_made: list[str] = []  # pooled schemas with the tracker's tables, as ``tracker db init`` leaves them
_layout: dict[str, Any] = {}  # "catalogue": that layout's fingerprint; "rows": the rows it starts with
#: how the schemas of the run were handled (reported at the end of a PostgreSQL run)
pool_stats = {"made": 0, "reused": 0, "dropped": 0}


_admin: list[Any] = []  # the pool's own connection, kept open between tests


def _connect() -> Any:
    """The pool's connection (autocommit), opened again when it was lost."""
    import psycopg

    if _admin and (_admin[0].closed or _admin[0].broken):
        _admin.pop().close()
    if not _admin:
        _admin.append(psycopg.connect(server_url(), autocommit=True))
    return _admin[0]


def _close_admin() -> None:
    if _admin:
        _admin.pop().close()


def _create_schema() -> str:
    name = f"t_{secrets.token_hex(6)}"
    _connect().execute(f'CREATE SCHEMA "{name}"')
    pool_stats["made"] += 1
    return name


def new_schema(*, made: bool = False) -> str:
    """A schema of the current test, exactly as new (put back or dropped when the test ends); returns its name.

    Empty, or with ``made`` its tables as ``tracker db init`` makes them.
    """
    free = _free_made if made else _free_empty
    if free:
        name = free.pop()
    else:
        name = _create_schema()
        if made:
            database = _with_schema(server_url(), name)
            initialise(database)
            _initialised.discard(database)
            if not _layout:
                _layout["catalogue"] = _catalogue(_connect(), name)
                _layout["rows"] = _rows(_connect(), name)
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
        database = _by_folder[folder] = _with_schema(server_url(), new_schema(made=init))
        if init:
            _initialised.add(database)
    if init and database not in _initialised:
        initialise(database)
    return database


def module_database(folder: Path) -> tuple[str, Any]:
    """A store that outlives one test (for a module-scoped fixture): its ``TRACKER_DATABASE`` (tables made)
    and a function that gives it up; the per-test clean-up leaves it alone."""
    folder = Path(folder)
    if not POSTGRES:
        return database_for(folder), lambda: None
    schema = new_schema(made=True)
    _schemas.remove(schema)  # not the current test's to put back
    return _with_schema(server_url(), schema), lambda: _give_back([schema])


def initialise(database: str) -> None:
    """Create the tracker's tables in the store (idempotent), as ``tracker db init`` does."""
    from application.config import Config
    from application.services import build_services

    build_services(Config(database=database, create_tables=True), catch_up=False).close()
    _initialised.add(database)


def drop_stores() -> None:
    """The end of a test: every schema it used is put back as new, or dropped."""
    schemas = [*_schemas]
    _schemas.clear()
    _by_folder.clear()
    _initialised.clear()
    if schemas:
        _give_back(schemas)


def drop_pool() -> None:
    """The end of the run: drop the pooled schemas."""
    _drop([*_free_empty, *_free_made])
    _free_empty.clear()
    _free_made.clear()
    _close_admin()


def _give_back(schemas: list[str]) -> None:
    import psycopg

    doomed = []
    try:
        conn = _connect()
        busy = _busy(conn)
        for name in schemas:
            catalogue = _catalogue(conn, name)
            if not catalogue and not busy:
                _free_empty.append(name)
            elif _layout and catalogue == _layout["catalogue"] and not busy and _reset(conn, name):
                _free_made.append(name)
                pool_stats["reused"] += 1
            else:
                doomed.append(name)
    except psycopg.Error:
        _close_admin()
        doomed = [name for name in schemas if name not in _free_empty and name not in _free_made]
    _drop(doomed)


def _drop(schemas: list[str]) -> None:
    if not schemas:
        return
    import psycopg

    pool_stats["dropped"] += len(schemas)
    try:
        conn = _connect()
        conn.execute("SET lock_timeout = '30s'")
        try:
            for name in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            conn.execute("RESET lock_timeout")
    except psycopg.Error as e:  # a leftover schema in a throwaway cluster is harmless; say so
        _close_admin()
        warnings.warn(f"could not drop test schemas {schemas}: {e}", stacklevel=1)


def _busy(conn: Any) -> bool:
    """Whether another connection to the database could still change a store: inside a transaction,
    listening for the library's notifications, or holding an advisory lock."""
    return bool(
        conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            " AND (state IS DISTINCT FROM 'idle' OR query ILIKE 'listen%%'))"
            " OR EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid())"
        ).fetchone()[0]
    )


def _reset(conn: Any, name: str) -> bool:
    """Make the schema's rows and sequences as new, in one transaction; whether it worked (a lock held
    elsewhere: no). Tables that are as new are left alone (a TRUNCATE costs a new file per table and index)."""
    import psycopg

    tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (name,))]
    seeded = _layout["rows"]
    probes = [f'SELECT \'{t}\' WHERE EXISTS (SELECT 1 FROM "{name}"."{t}")' for t in tables if t not in seeded]
    used = [r[0] for r in conn.execute(" UNION ALL ".join(probes))] if probes else []
    for table, (columns, rows) in seeded.items():
        names = ", ".join(f'"{c}"' for c in columns)
        if sorted(conn.execute(f'SELECT {names} FROM "{name}"."{table}"').fetchall()) != sorted(rows):
            used.append(table)
    sequences = [
        r[0]
        for r in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = %s AND last_value IS NOT NULL", (name,)
        )
    ]
    try:
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '5s'")
            if used:
                conn.execute("TRUNCATE " + ", ".join(f'"{name}"."{t}"' for t in used) + " RESTART IDENTITY")
            for sequence in sequences:
                conn.execute(f'ALTER SEQUENCE "{name}"."{sequence}" RESTART')
            for table, (columns, rows) in seeded.items():
                if table in used:
                    names = ", ".join(f'"{c}"' for c in columns)
                    marks = ", ".join(["%s"] * len(columns))
                    with conn.cursor() as cur:
                        cur.executemany(f'INSERT INTO "{name}"."{table}" ({names}) VALUES ({marks})', rows)
    except psycopg.Error:
        return False
    return True


def _rows(conn: Any, name: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """The rows of every non-empty table of the schema, with their column names."""
    found = {}
    for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (name,)).fetchall():
        cur = conn.execute(f'SELECT * FROM "{name}"."{table}"')
        rows = cur.fetchall()
        if rows:
            found[table] = ([d.name for d in cur.description], rows)
    return found


#: Everything in a schema that a test could change besides rows, as text (the schema's name blanked out).
_CATALOGUE = """
WITH n AS (SELECT oid, nspacl FROM pg_namespace WHERE nspname = %(s)s)
SELECT 'schema', '', coalesce(nspacl::text, ''), '' FROM n
UNION ALL SELECT 'relation', c.relname,
       concat_ws(' ', c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity, c.relowner),
       concat_ws(' ', c.relacl::text, array_to_string(c.reloptions, ','))
  FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM n)
UNION ALL SELECT 'column', c.relname || '.' || a.attname,
       concat_ws(' ', a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, a.attgenerated,
                 a.attcollation),
       coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || coalesce(a.attacl::text, '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE c.relnamespace = (SELECT oid FROM n) AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL SELECT 'index', c.relname, pg_get_indexdef(i.indexrelid), ''
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = (SELECT oid FROM n)
UNION ALL SELECT 'constraint', conname, pg_get_constraintdef(oid), conrelid::regclass::text
  FROM pg_constraint WHERE connamespace = (SELECT oid FROM n)
UNION ALL SELECT 'trigger', t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = (SELECT oid FROM n)
UNION ALL SELECT 'rule', r.rulename, pg_get_ruledef(r.oid), ''
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = (SELECT oid FROM n)
UNION ALL SELECT 'policy', p.polname, c.relname, concat_ws(' ', p.polcmd, pg_get_expr(p.polqual, p.polrelid))
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = (SELECT oid FROM n)
UNION ALL SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_functiondef(p.oid), coalesce(p.proacl::text, '')
  FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM n)
UNION ALL SELECT 'type', t.typname, concat_ws(' ', t.typtype, t.typrelid <> 0), coalesce(t.typacl::text, '')
  FROM pg_type t WHERE t.typnamespace = (SELECT oid FROM n)
UNION ALL SELECT 'enum', t.typname || '.' || e.enumlabel, e.enumsortorder::text, ''
  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typnamespace = (SELECT oid FROM n)
UNION ALL SELECT 'sequence', c.relname,
       concat_ws(' ', s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle), ''
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = (SELECT oid FROM n)
"""


def _catalogue(conn: Any, name: str) -> frozenset[tuple[str, ...]]:
    """The schema's layout (empty when the schema holds nothing), comparable between schemas."""
    rows = conn.execute(_CATALOGUE, {"s": name}).fetchall()
    if len(rows) == 1:  # only the schema itself
        rows = []
    return frozenset(tuple(str(v).replace(name, "{schema}") for v in row) for row in rows)


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
