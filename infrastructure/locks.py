"""Process-wide locks: a file lock beside an SQLite database, a PostgreSQL advisory lock otherwise.

Held for as long as the context lasts; released by the operating system (or
the database) when the process dies, so a crashed holder never blocks forever.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from infrastructure.database import Database

#: how often a waiting taker tries again
POLL_SECONDS = 0.05


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lock name."""
    return int.from_bytes(hashlib.sha256(f"tracker:{name}".encode()).digest()[:8], "big", signed=True)


def poll(try_once: Callable[[], bool], wait: float) -> bool:
    """Call ``try_once`` until it succeeds or ``wait`` seconds have passed; whether it succeeded."""
    deadline = time.monotonic() + wait
    while not try_once():
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


@contextmanager
def held(database: Database, name: str, *, wait: float = 0.0) -> Iterator[bool]:
    """Try to hold the lock ``name`` (waiting up to ``wait`` seconds); yields whether it is held."""
    lock = _advisory if database.is_postgres else _file_lock
    with lock(database, name, wait) as got:
        yield got


@contextmanager
def _file_lock(database: Database, name: str, wait: float) -> Iterator[bool]:
    with database.sibling(f"{name}.lock").open("a+") as f:

        def take() -> bool:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        if not poll(take, wait):
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def _advisory(database: Database, name: str, wait: float) -> Iterator[bool]:
    if database.schema:  # each schema is a tracker of its own: its own lock
        name = f"{database.schema}/{name}"
    key = lock_key(name)
    with database.connect(autocommit=True) as conn:
        if not poll(lambda: conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0], wait):
            yield False
            return
        try:
            yield True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
