"""The bare endpoint: the floor of a served write on this stack (waitress + sqlite3), for ``bench/served.py``.

A WSGI app that answers ``POST /api/v1/partnerships/ID/events`` by reading the JSON body and doing one
``BEGIN IMMEDIATE; INSERT; COMMIT`` into an SQLite file with the library's durability (WAL journal,
``synchronous=FULL``), then answering ``201`` with a small JSON document. Nothing else: no authentication,
no aggregate, no rules, no read models. Each waitress thread has its own connection.

Given a ``postgresql://...[?schema=S]`` URL instead of a file, it does the same on PostgreSQL: one
``INSERT ... RETURNING id`` and ``COMMIT`` per POST on the thread's own psycopg connection (a table
``bare_events`` in the schema), the floor the tracker's PostgreSQL store is measured against.

Run it as ``python -m bench.bare_app --database FILE --port PORT [--threads 8]``: it serves with waitress, as
``tracker serve`` does, and answers ``GET /health`` for the caller's readiness check.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS stored_events (id INTEGER PRIMARY KEY, originator_id TEXT NOT NULL,"
    " topic TEXT NOT NULL, state BLOB NOT NULL)"
)
PREFIX = "/api/v1/partnerships/"
SUFFIX = "/events"


def connect(database: str) -> sqlite3.Connection:
    """A connection with the library's durability: WAL journal, ``synchronous=FULL``, explicit transactions."""
    conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


PG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bare_events (id BIGSERIAL PRIMARY KEY, originator_id TEXT NOT NULL,"
    " topic TEXT NOT NULL, state BYTEA NOT NULL)"
)


def pg_connect(url: str) -> Any:
    """A psycopg connection (explicit transactions) to ``url``, its ``search_path`` set to the URL's schema."""
    import psycopg

    base, _, query = url.partition("?")
    schema = parse_qs(query).get("schema", [None])[0]
    options = {"options": f"-c search_path={schema}"} if schema else {}
    return psycopg.connect(base, **options)


class BareApp:
    """One INSERT + COMMIT per POST; a WSGI callable."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.postgres = database.startswith(("postgresql://", "postgres://"))
        self.local = threading.local()
        if self.postgres:
            with pg_connect(database) as conn:
                conn.execute(PG_SCHEMA)
        else:
            conn = connect(database)
            conn.execute(SCHEMA)
            conn.close()

    def conn(self) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = pg_connect(self.database) if self.postgres else connect(self.database)
        return conn

    def insert(self, partnership_id: str, topic: str, body: bytes) -> int:
        """One INSERT and one durable COMMIT; the new row's id."""
        conn = self.conn()
        if self.postgres:
            with conn.transaction():
                row = conn.execute(
                    "INSERT INTO bare_events (originator_id, topic, state) VALUES (%s, %s, %s) RETURNING id",
                    (partnership_id, topic, body),
                ).fetchone()
            return int(row[0])
        conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = conn.execute(
                "INSERT INTO stored_events (originator_id, topic, state) VALUES (?, ?, ?)",
                (partnership_id, topic, body),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(cursor.lastrowid or 0)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if method == "GET" and path == "/health":
            return self.answer(start_response, "200 OK", {"status": "ok"})
        if method != "POST" or not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
            return self.answer(start_response, "404 Not Found", {"error": "not found"})
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            fields = json.loads(body)
            topic = str(fields["type"])
        except (ValueError, KeyError, TypeError):
            return self.answer(start_response, "400 Bad Request", {"error": "malformed"})
        partnership_id = path[len(PREFIX) : -len(SUFFIX)]
        new_id = self.insert(partnership_id, topic, body)
        return self.answer(start_response, "201 Created", {"id": new_id, "partnership_id": partnership_id, **fields})

    @staticmethod
    def answer(start_response: Callable[..., Any], status: str, document: dict[str, Any]) -> Iterable[bytes]:
        data = json.dumps(document).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def main(argv: list[str] | None = None) -> int:
    import waitress

    parser = argparse.ArgumentParser(prog="python -m bench.bare_app", description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    waitress.serve(
        BareApp(args.database),
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident="bare",
        _quiet=True,
        connection_limit=500,
        channel_timeout=30,
        cleanup_interval=5,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
