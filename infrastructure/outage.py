"""Store outages: which errors mean the store cannot be reached, is full or is busy, and a short circuit
breaker so that, once PostgreSQL is found unreachable, requests fail in milliseconds instead of each
waiting for the pool (and for the library's ten retries of every read and write).

The contract: when the store cannot be reached or is full, the answer is 503 with ``Retry-After`` within a
few seconds, never a hang or a bare 500. The web layer asks :func:`store_outage` whether an error is such
an outage; programming errors (an SQL syntax error, a missing table) are not, and stay 500s.

On PostgreSQL the library's datastore is replaced by :class:`PostgresGuardedDatastore` (through
:class:`PostgresGuardedFactory`, named by ``PERSISTENCE_MODULE``). Every connection the library or our own
SQL takes passes :meth:`Breaker.admit` first:

* closed: the pool is used as always (a successful write is unchanged);
* a connection-level failure (no connection within the pool's short timeout, the server gone or shutting
  down) trips it: for :data:`OPEN_FOR_S` seconds every request that needs the store is refused at once with
  :class:`StoreUnavailable`, which the library does not retry (it retries only its ``InterfaceError`` and
  ``OperationalError``), so a write never waits ten times for the pool and is never retried again here;
* after that window one caller probes the server with a direct connection of :data:`PROBE_TIMEOUT_S`
  seconds: when it answers the breaker closes and the pool serves again; otherwise it trips again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import PersistenceError

log = logging.getLogger("tracker.store")

#: How long the breaker refuses at once after the store was found unreachable (seconds).
OPEN_FOR_S = 2.0
#: The connect timeout of the probe that decides whether the server is back (seconds).
PROBE_TIMEOUT_S = 2
#: The ``Retry-After`` of a 503 (seconds).
RETRY_AFTER_S = 2
#: How long the pool waits for a connection, and libpq for a connect (``POSTGRES_CONNECT_TIMEOUT``, seconds).
POOL_TIMEOUT_S = 3
#: How long the pool keeps retrying a lost connection in the background before it stops and waits to be
#: asked again (psycopg_pool's default is 5 minutes, with doubling delays: a pool that lost its server for a
#: minute would then wait up to another minute after the server was back before trying again).
RECONNECT_TIMEOUT_S = 5.0
#: libpq settings that bound a send to, and the silence of, a server that vanished without closing the
#: connection (a cable pulled, a host down): otherwise a query could wait for the kernel's TCP timeout.
TCP_SETTINGS: dict[str, Any] = {
    "tcp_user_timeout": 5000,  # ms
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
}

# SQLite's primary result codes that mean the file cannot be used now (https://sqlite.org/rescode.html).
_SQLITE_OUTAGES = {
    5: "the SQLite database is locked by another writer",  # SQLITE_BUSY
    6: "the SQLite database is locked by another writer",  # SQLITE_LOCKED
    7: "SQLite ran out of memory",  # SQLITE_NOMEM
    8: "the SQLite database is read-only",  # SQLITE_READONLY
    10: "the SQLite database's disk failed (I/O error)",  # SQLITE_IOERR
    13: "the SQLite database's disk is full",  # SQLITE_FULL
    14: "the SQLite database file cannot be opened",  # SQLITE_CANTOPEN
}
# The same by message, for an error that lost its code.
_SQLITE_TEXTS = {
    "database is locked": 5,
    "database table is locked": 6,
    "out of memory": 7,
    "attempt to write a readonly database": 8,
    "disk i/o error": 10,
    "database or disk is full": 13,
    "unable to open database file": 14,
}


@dataclass(frozen=True)
class Outage:
    """Why the store cannot serve now: a short reason (fixed text, no addresses or secrets) and whether the
    server cannot be reached at all (which trips the breaker) rather than refusing one statement."""

    reason: str
    unreachable: bool = False


def store_errors() -> tuple[type[Exception], ...]:
    """The errors a store can raise (the library's, the PostgreSQL driver's, SQLite's): an outage among them
    is a 503 with Retry-After (:func:`store_outage` decides which); any other stays a 500."""
    import psycopg

    return (PersistenceError, psycopg.Error, sqlite3.Error)


class StoreUnavailable(PersistenceError):
    """Refused without touching the store: it was found unreachable a moment ago."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _postgres_outage(error: BaseException) -> Outage | None:
    import psycopg

    # psycopg_pool's errors (subclasses of psycopg.OperationalError), told by name: the pool is the library's
    pool_error = type(error).__name__ if type(error).__module__.startswith("psycopg_pool") else None
    if pool_error == "TooManyRequests":
        return Outage("too many requests are waiting for a PostgreSQL connection")
    if pool_error == "PoolTimeout":
        return Outage("no connection to PostgreSQL within the pool's timeout", unreachable=True)
    if pool_error == "PoolClosed":
        return Outage("the PostgreSQL connection pool is closed")
    if not isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return None  # a programming error, a constraint, bad data: not an outage
    state = getattr(error, "sqlstate", None) or ""
    if not state or state.startswith("08") or state in ("57P01", "57P02", "57P03"):
        return Outage("PostgreSQL cannot be reached", unreachable=True)
    if state == "53100":
        return Outage("PostgreSQL's disk is full")
    if state.startswith("53"):
        return Outage("PostgreSQL is out of resources (memory or connections)")
    if state == "55P03":
        return Outage("PostgreSQL's lock wait timed out")
    if state.startswith("40"):
        return Outage("PostgreSQL aborted the transaction (serialization or deadlock)")
    if state == "57014":
        return Outage("PostgreSQL cancelled the statement (timeout)")
    return Outage(f"PostgreSQL failed (SQLSTATE {state})")


def _sqlite_outage(error: BaseException) -> Outage | None:
    if not isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary not in _SQLITE_OUTAGES:
        text = str(error).lower()
        primary = next((c for t, c in _SQLITE_TEXTS.items() if t in text), None)
    return Outage(_SQLITE_OUTAGES[primary]) if primary in _SQLITE_OUTAGES else None


def store_outage(error: BaseException) -> Outage | None:
    """The outage ``error`` stands for (it or an error it was raised from), or None when it is not one.

    The library wraps the driver's errors in its own (``raise OperationalError(str(e)) from e``), so the
    chain of causes is read; the driver's error decides (its SQLSTATE or SQLite's result code)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StoreUnavailable):
            return Outage(current.reason, unreachable=True)
        outage = _postgres_outage(current) or _sqlite_outage(current)
        if outage is not None:
            return outage
        current = current.__cause__ or current.__context__
    return None


class Breaker:
    """Refuse at once for a moment after the store was found unreachable; probe before serving again."""

    def __init__(self, name: str, open_for: float = OPEN_FOR_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.open_for = open_for
        self.clock = clock
        self._lock = threading.Lock()
        self._reason: str | None = None  # set while tripped (until a probe succeeds)
        self._until = 0.0
        self._probing = False

    @property
    def reason(self) -> str | None:
        """Why the store is taken for unreachable now (None when it is not)."""
        return self._reason

    def trip(self, reason: str) -> None:
        with self._lock:
            first = self._reason is None
            self._reason = reason
            self._until = self.clock() + self.open_for
        if first:
            log.warning(
                "store unavailable (%s): %s; refusing for %.0f s, then probing", self.name, reason, self.open_for
            )

    def reset(self) -> None:
        with self._lock:
            was = self._reason
            self._reason = None
            self._until = 0.0
        if was is not None:
            log.warning("store reachable again (%s)", self.name)

    def admit(self, probe: Callable[[], None]) -> None:
        """Return when the store may be used; raise :class:`StoreUnavailable` while it is taken for down.

        After the window one caller runs ``probe`` (the others are still refused meanwhile): when it raises
        an outage the breaker trips again, otherwise it closes."""
        with self._lock:
            reason = self._reason
            if reason is None:
                return
            if self._probing or self.clock() < self._until:
                raise StoreUnavailable(reason)
            self._probing = True
        try:
            probe()
        except Exception as error:
            outage = store_outage(error)
            self.trip(outage.reason if outage else f"probe failed: {type(error).__name__}")
            raise StoreUnavailable(self._reason or reason) from None
        else:
            self.reset()
        finally:
            with self._lock:
                self._probing = False


_breakers: dict[tuple[str, ...], Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(host: str, port: str, dbname: str) -> Breaker:
    """The one breaker of a PostgreSQL database in this process (shared by every datastore that uses it)."""
    key = (host, str(port), dbname)
    with _breakers_lock:
        if key not in _breakers:
            _breakers[key] = Breaker(f"{host}:{port}/{dbname}")
        return _breakers[key]


# --- PostgreSQL: the library's datastore and factory, guarded ------------------------------------------------

from eventsourcing.postgres import PostgresDatastore, PostgresFactory  # noqa: E402


class PostgresGuardedDatastore(PostgresDatastore):
    """The library's datastore whose every connection passes the database's :class:`Breaker`.

    Its name starts with ``Postgres``: :class:`infrastructure.store.Db` tells the dialect by it."""

    breaker: Breaker

    def guard(self) -> None:
        """Set this (just built, not yet opened) datastore up: its breaker, its pool's reconnection, TCP limits."""
        kwargs = self.pool.kwargs
        assert isinstance(kwargs, dict)
        kwargs.update(TCP_SETTINGS)
        self.pool.reconnect_timeout = RECONNECT_TIMEOUT_S
        self.breaker = breaker_for(str(kwargs["host"]), str(kwargs["port"]), str(kwargs["dbname"]))

    def probe(self) -> None:
        """Connect directly (not through the pool) with a short timeout and run one statement."""
        import psycopg

        kwargs = {k: v for k, v in dict(self.pool.kwargs or {}).items() if k != "row_factory"}
        with psycopg.connect(**{**kwargs, "connect_timeout": PROBE_TIMEOUT_S}, autocommit=True) as conn:
            conn.execute("SELECT 1")
        # The server answers: let the pool connect now, rather than after its backoff (or its giving up).
        self.pool.check()

    def _unreachable(self, outage: Outage, error: BaseException) -> bool:
        """Whether ``outage`` shows the server unreachable: a server that said it is shutting down does. A
        pool that gave no connection in time may only be busy or still reconnecting, and one connection lost
        (closed under a statement, no word from the server) may be that connection's fault alone (a proxy, a
        network blip, a killed backend): the server is then probed directly. Tripping on a lost connection of
        a server that is up would also stop the library's retry of an insert whose COMMIT answer was lost,
        the retry that finds the write committed (domain/tracker.py) and lets the client be told the truth."""
        if not outage.unreachable:
            return False
        if _server_going_away(error):
            return True
        try:
            self.probe()
        except Exception:  # noqa: BLE001 - any failure to connect means unreachable here
            return True
        return False

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        self.breaker.admit(self.probe)
        try:
            with super().get_connection() as conn:
                yield conn
        except PersistenceError as error:
            outage = store_outage(error)
            if outage is not None and not isinstance(error, StoreUnavailable) and self._unreachable(outage, error):
                self.breaker.trip(outage.reason)
            raise


def _server_going_away(error: BaseException) -> bool:
    """Whether the server itself said it is shutting down or cannot take connections (SQLSTATE 57P01-57P03)."""
    current: BaseException | None = error
    for _ in range(5):  # the library's error, raised from the driver's
        if current is None:
            return False
        if getattr(current, "sqlstate", None) in ("57P01", "57P02", "57P03"):
            return True
        current = current.__cause__
    return False


class PostgresGuardedFactory(PostgresFactory):
    """The library's PostgreSQL factory with a :class:`PostgresGuardedDatastore`."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        # The library builds its datastore itself; it is only made here (its pool is not open yet), so
        # giving it the guarded class changes nothing but get_connection.
        self.datastore.__class__ = PostgresGuardedDatastore
        self.datastore.guard()  # type: ignore[attr-defined]
