"""Process-wide locks: a file lock beside an SQLite database, a PostgreSQL advisory lock otherwise.

Held for as long as the context lasts; released by the operating system (or
the database) when the process dies, so a crashed holder never blocks forever.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from web.config import Config


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lock name."""
    return int.from_bytes(hashlib.sha256(f"tracker:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def held(config: Config, name: str, *, wait: float = 0.0) -> Iterator[bool]:
    """Try to hold the lock ``name`` (waiting up to ``wait`` seconds); yields whether it is held."""
    if config.is_postgres:
        with _advisory(config, name, wait) as got:
            yield got
    else:
        with _file_lock(Path(f"{config.database}.{name}.lock"), wait) as got:
            yield got


@contextmanager
def _file_lock(path: Path, wait: float) -> Iterator[bool]:
    with path.open("a+") as f:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def _advisory(config: Config, name: str, wait: float) -> Iterator[bool]:
    import psycopg

    env = config.eventsourcing_env()
    if env.get("POSTGRES_SCHEMA"):  # each schema is a tracker of its own: its own lock
        name = f"{env['POSTGRES_SCHEMA']}/{name}"
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        autocommit=True,
    ) as conn:
        key, deadline = lock_key(name), time.monotonic() + wait
        while not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                yield False
                return
            time.sleep(0.05)
        try:
            yield True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
