"""Which store a ``TRACKER_DATABASE`` names, decided once: the dialect, the library's settings, connections.

A file path is the embedded SQLite store; a ``postgresql://user:pass@host:port/db[?schema=s]`` URL is
PostgreSQL. Everything that needs to know which one (the library's environment, the locks, plain
connections for checks) asks this value instead of parsing the setting again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from infrastructure.outage import POOL_TIMEOUT_S

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class Database:
    """The store named by one setting."""

    url: str = "events.db"
    #: create the library's and our tables on start (off for workers of a shared PostgreSQL database)
    create_tables: bool = True

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(POSTGRES_SCHEMES)

    @property
    def dialect(self) -> str:
        return "postgres" if self.is_postgres else "sqlite"

    @property
    def path(self) -> Path:
        """The SQLite file (only for the embedded store)."""
        if self.is_postgres:
            raise ValueError("a PostgreSQL store has no file")
        return Path(self.url)

    def sibling(self, suffix: str) -> Path:
        """A file kept beside the SQLite database (``events.db.<suffix>``)."""
        return Path(f"{self.url}.{suffix}")

    @property
    def schema(self) -> str | None:
        if not self.is_postgres:
            return None
        return parse_qs(urlsplit(self.url).query).get("schema", [None])[0]

    def connect_args(self) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` (PostgreSQL only)."""
        url = urlsplit(self.url)
        return {
            "dbname": unquote(url.path.lstrip("/")),
            "host": url.hostname or "127.0.0.1",
            "port": str(url.port or 5432),
            "user": unquote(url.username or ""),
            "password": unquote(url.password or ""),
        }

    def connect(self, **kwargs: Any) -> Any:
        """A plain psycopg connection to the PostgreSQL server (for checks and advisory locks)."""
        import psycopg

        return psycopg.connect(**{"connect_timeout": 10, **self.connect_args(), **kwargs})

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment the ``eventsourcing`` library reads to open this store."""
        env = {"CREATE_TABLE": "y" if self.create_tables else "n"}
        if not self.is_postgres:
            return {
                **env,
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.path),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        args = self.connect_args()
        env.update(
            # the library's factory with a short circuit for outages (infrastructure/outage.py)
            PERSISTENCE_MODULE="infrastructure.outage:PostgresGuardedFactory",
            POSTGRES_DBNAME=args["dbname"],
            POSTGRES_HOST=args["host"],
            POSTGRES_PORT=args["port"],
            POSTGRES_USER=args["user"],
            POSTGRES_PASSWORD=args["password"],
            POSTGRES_LOCK_TIMEOUT="10",
            # both libpq's connect timeout and the pool's wait for a connection: a server that is down
            # answers 503 within seconds, not after the library's default 30 s
            POSTGRES_CONNECT_TIMEOUT=str(POOL_TIMEOUT_S),
            # a pooled connection is checked before use: after a server restart a dead one is replaced
            POSTGRES_PRE_PING="y",
            POSTGRES_POOL_SIZE="5",
            POSTGRES_MAX_OVERFLOW="10",
        )
        if self.schema:
            env["POSTGRES_SCHEMA"] = self.schema
        return env
