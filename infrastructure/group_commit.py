"""Group commit: the events of several concurrent writers of one process in one durable transaction.

A write's cost on both stores is dominated by its durable commit (an fsync of SQLite's WAL, or PostgreSQL's
commit under the library's table lock, which serialises every inserting transaction of the database). Writers
that arrive while a commit is under way wait; the next of them commits every waiting write together, each in
a savepoint of its own, so a write that conflicts (its version was taken meanwhile) is rolled back alone and
its writer told so while the others are kept. Every writer returns only after the transaction that holds its
events has committed, and with an error if it did not. A lone writer commits at once, as without grouping.

The store's part is one function that writes a group inside one transaction (:class:`GroupCommit`'s
``commit``); the queue, the turn-taking and the error handling are here, shared by the recorders of
:mod:`projections.inline` (SQLite and PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent

#: the most writes one group commit takes (the transaction, and so each writer's wait, stays short)
GROUP_LIMIT = 64


class Write:
    """One writer's events waiting for a group commit, and what became of them."""

    __slots__ = ("done", "error", "events", "followed", "ids", "kwargs")

    def __init__(self, events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> None:
        self.events, self.kwargs = events, kwargs
        self.done = threading.Event()
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None
        #: whether the read models followed this write inside its transaction (set by the store's part)
        self.followed = False


class GroupCommit:
    """The queue of one recorder's waiting writes; ``commit(group)`` writes a group in one transaction.

    ``commit`` sets each write's ``ids``, or its ``error`` when that write alone failed (and was rolled back to
    its savepoint); an exception out of ``commit`` means nothing of the group was kept, and every writer of
    the group hears it."""

    def __init__(self, commit: Callable[[list[Write]], None]) -> None:
        self._write_group = commit
        self._waiting: list[Write] = []
        self._waiting_lock = threading.Lock()
        self._committing = threading.Lock()
        self._local = threading.local()
        #: how many commits, and how many writes they held (for the benchmark and the tests)
        self.commits = 0
        self.writes = 0

    def submit(self, events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> Sequence[int] | None:
        """Wait until ``events`` are committed (by this writer or by another's group); their notification ids."""
        write = Write(events, kwargs)
        with self._waiting_lock:
            self._waiting.append(write)
        while not write.done.is_set():
            with self._committing:  # the commit under way ends; then this writer commits what waits
                if write.done.is_set():
                    break
                with self._waiting_lock:
                    group, self._waiting = self._waiting[:GROUP_LIMIT], self._waiting[GROUP_LIMIT:]
                if group:
                    self._commit(group)
        if write.error is not None:
            raise write.error
        self._local.writes = getattr(self._local, "writes", 0) + 1
        self._local.lagging = getattr(self._local, "lagging", False) or not write.followed
        return write.ids

    def begin(self) -> None:
        """Start counting this thread's writes afresh (before a command)."""
        self._local.writes, self._local.lagging = 0, False

    def views_followed(self) -> bool:
        """Whether this thread wrote since :meth:`begin`, and the read models followed every one of those writes
        inside its own transaction (so they are up to date with them: no catch-up is needed to read them)."""
        return getattr(self._local, "writes", 0) > 0 and not getattr(self._local, "lagging", True)

    def _commit(self, group: list[Write]) -> None:
        try:
            self._write_group(group)
            self.commits += 1
            self.writes += len(group)
        except BaseException as e:  # nothing of the group was kept: every writer hears why
            for write in group:
                write.ids = None
                write.error = write.error or e
            if not isinstance(e, Exception):
                raise
        finally:
            for write in group:
                write.done.set()
