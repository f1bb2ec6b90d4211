"""Idempotency keys: the first answer to a POST with an ``Idempotency-Key`` is kept, per user, so that a
repeat of the same request (a client retrying after a lost reply, a double click) records nothing new and
gets the same answer; the same key with a different request is refused.

A key is *claimed* before the request runs (a row without an answer), then *kept* with the answer, or
*released* when the request was refused before it was judged (401, 429), so that a retry runs it again. A
request that failed on the server's side (5xx) may have written before it failed (the store went away
around its COMMIT): its claim is *abandoned*, not released, and the next repeat *resumes* it at once,
told since when the first attempt ran, so that it can find that attempt's write instead of writing again
(:meth:`Replies.resume`). While a claim is open, a repeat is told to retry shortly. A claim left open by a
process that died is resumed by the next repeat the same way: at once when that process ran on this
machine (the claim names its owner: the machine's boot, the process id and its start time, see
:func:`this_process`), else when the claim is older than :data:`STALE_AFTER` (another machine's process,
or a claim that could not be abandoned because the store was down).

Kept at least :data:`KEPT_FOR` (the contract's 24 hours); older rows are removed as new keys arrive.
The table lives beside the users (kept apart from the log).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infrastructure.locks import lock_key
from infrastructure.store import Db

TABLE = "tracker_replies"
#: How long an answer is kept (the contract promises at least 24 hours).
KEPT_FOR = timedelta(hours=48)
#: A claim older than this was left by a process that died: the next repeat runs the request again.
STALE_AFTER = timedelta(seconds=60)
#: The longest key taken (printable ASCII).
MAX_KEY = 255
#: The ``body`` of a claim without an answer whose request failed, its outcome unknown (:meth:`Replies.abandon`),
#: and of one resumed (running again); each followed by when the first attempt began.
ABANDONED, RESUMED = "abandoned since ", "resumed since "

DDL = (
    """CREATE TABLE IF NOT EXISTS {table} (
        user_name TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status INTEGER,
        body TEXT,
        headers TEXT,  -- the kept answer's headers; until it is kept, the claim's owner (JSON)
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_name, idem_key))""",
    "CREATE INDEX IF NOT EXISTS {index} ON {table} (created_at)",
)


#: The claims this process is running now, by (table, user, key): a claim of this process that is not here ended
#: without its answer being kept (its abandon could not be written: the store was down), so its repeat resumes it.
_RUNNING: set[tuple[str, str, str]] = set()
_RUNNING_LOCK = threading.Lock()


class KeyReused(Exception):
    """The key was used by this user for a different request."""


class StillRunning(Exception):
    """The first request with this key has not answered yet."""


@dataclass(frozen=True)
class Reply:
    """A kept answer."""

    status: int
    body: str
    headers: dict[str, str]


def fingerprint(method: str, path: str, query: bytes, body: bytes, extra: str = "") -> str:
    """What makes two requests the same one: method, path, query, the body (JSON compared by its content,
    so key order and spacing do not matter) and ``extra`` (the precondition, ``If-Match``)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, extra.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY and key.isascii() and key.isprintable()


class Replies:
    """The kept answers, by user and key."""

    def __init__(self, db: Db, *, create_tables: bool = True) -> None:
        self.db = db
        self.table = db.table(TABLE)
        if create_tables:
            db.run_ddl([s.format(table=self.table, index=f"{TABLE}_created") for s in DDL])

    def claim(self, user: str, key: str, print_: str, *, now: datetime | None = None) -> Reply | None:
        """The kept answer of this request, or None after claiming the key for it (run it, then :meth:`keep`
        or :meth:`release`). :class:`KeyReused` for another request's key, :class:`StillRunning` while the
        first is running."""
        return self.resume(user, key, print_, now=now)[0]

    def resume(
        self, user: str, key: str, print_: str, *, now: datetime | None = None
    ) -> tuple[Reply | None, datetime | None]:
        """As :meth:`claim`, and when the key was claimed before by an attempt that ended without an answer
        (abandoned, or left by a process that died), the moment that attempt began: it may have written."""
        marked: list[bool] = []
        try:
            return self._resume(user, key, print_, now or datetime.now(UTC), marked)
        except BaseException:  # the claim's transaction failed (its COMMIT too): this process does not run it
            if marked:
                self._running(user, key, False)
            raise

    def resume_waiting(
        self, user: str, key: str, print_: str, *, wait_s: float, poll_s: float
    ) -> tuple[Reply | None, datetime | None]:
        """As :meth:`resume`, and while the first request with this key is still running, wait (up to ``wait_s``)
        for its answer, which is this one's too; :class:`StillRunning` when it has not come by then."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                return self.resume(user, key, print_)
            except StillRunning:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(poll_s)

    def _resume(
        self, user: str, key: str, print_: str, now: datetime, marked: list[bool]
    ) -> tuple[Reply | None, datetime | None]:
        # marked running inside the transaction, under the key's lock: another thread of this process that
        # reads the claim after the COMMIT finds it running; unmarked by :meth:`resume` if the COMMIT fails
        with self.db.transaction(write=True) as tx:
            tx.lock(lock_key(f"reply:{user}:{key}"))
            tx.execute(f"DELETE FROM {self.table} WHERE created_at < ?", ((now - KEPT_FOR).isoformat(),))
            row = tx.execute(
                f"SELECT fingerprint, status, body, headers, created_at FROM {self.table} "
                "WHERE user_name = ? AND idem_key = ?",
                (user, key),
            ).fetchone()
            if row is None:
                tx.execute(
                    f"INSERT INTO {self.table} (user_name, idem_key, fingerprint, headers, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (user, key, print_, _owner_text(), now.isoformat()),
                )
                self._running(user, key, True)
                marked.append(True)
                return None, None
            if row["fingerprint"] != print_:
                raise KeyReused(key)
            if row["status"] is not None:
                return Reply(int(row["status"]), row["body"] or "", json.loads(row["headers"] or "{}")), None
            abandoned = (row["body"] or "").startswith(ABANDONED)
            fresh = datetime.fromisoformat(row["created_at"]) > now - STALE_AFTER
            if not abandoned and fresh and not self._ended(user, key, row["headers"]):
                raise StillRunning(key)
            began = _first_attempt(row)
            tx.execute(  # abandoned, or left open by a process that died: this repeat runs it
                f"UPDATE {self.table} SET body = ?, headers = ?, created_at = ? WHERE user_name = ? AND idem_key = ?",
                (RESUMED + began.isoformat(), _owner_text(), now.isoformat(), user, key),
            )
            self._running(user, key, True)
            marked.append(True)
            return None, began

    def _running(self, user: str, key: str, running: bool) -> None:
        with _RUNNING_LOCK:
            (_RUNNING.add if running else _RUNNING.discard)((self.table, user, key))

    def _ended(self, user: str, key: str, headers: str | None) -> bool:
        """Whether the attempt holding an open claim has ended without an answer: its process died on this
        machine, or it is this process and the attempt is no longer running here."""
        if _owner_gone(headers):
            return True
        try:
            owner = json.loads(headers or "{}").get("owner")
        except (ValueError, AttributeError):
            return False
        if owner != this_process():
            return False
        with _RUNNING_LOCK:
            return (self.table, user, key) not in _RUNNING

    def keep(self, user: str, key: str, reply: Reply) -> None:
        self._running(user, key, False)
        with self.db.transaction(write=True) as tx:
            tx.execute(
                f"UPDATE {self.table} SET status = ?, body = ?, headers = ? WHERE user_name = ? AND idem_key = ?",
                (reply.status, reply.body, json.dumps(reply.headers, sort_keys=True), user, key),
            )

    def abandon(self, user: str, key: str) -> None:
        """The request failed on the server's side and may have written: the next repeat resumes it at once (when
        this cannot be written, the store being down, a repeat reaching this process still resumes it at once)."""
        self._running(user, key, False)
        with self.db.transaction(write=True) as tx:
            tx.lock(lock_key(f"reply:{user}:{key}"))
            row = tx.execute(
                f"SELECT body, created_at FROM {self.table} WHERE user_name = ? AND idem_key = ? AND status IS NULL",
                (user, key),
            ).fetchone()
            if row is not None:
                tx.execute(
                    f"UPDATE {self.table} SET body = ? WHERE user_name = ? AND idem_key = ?",
                    (ABANDONED + _first_attempt(row).isoformat(), user, key),
                )

    def release(self, user: str, key: str) -> None:
        self._running(user, key, False)
        with self.db.transaction(write=True) as tx:
            tx.execute(f"DELETE FROM {self.table} WHERE user_name = ? AND idem_key = ? AND status IS NULL", (user, key))

    def count(self) -> int:
        with self.db.transaction(write=False) as tx:
            return int(tx.scalar(f"SELECT COUNT(*) FROM {self.table}"))


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    """The process-id namespace this process sees (containers on one machine each have their own)."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``); None when there is no such process
    or it has died (a zombie); "" when it exists but ``/proc`` cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else fields[19]  # a zombie is dead, only not yet reaped
    except FileNotFoundError:
        return None
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except OSError:
            pass
        return ""


def this_process() -> dict[str, str | int | None]:
    """Who holds a claim: this machine's boot and process-id namespace, this process and when it started (a
    reused pid is another process)."""
    pid = os.getpid()
    return {"boot": _boot_id(), "pidns": _pid_namespace(), "pid": pid, "started": _started(pid)}


def _owner_text() -> str:
    return json.dumps({"owner": this_process()}, sort_keys=True)


def _owner_gone(headers: str | None) -> bool:
    """Whether the process that holds an unanswered claim is known to be dead: it ran on this machine, since
    its boot, in the process-id namespace this one sees, and no process of that id and start time is running
    now. Another machine's or container's (or an unnamed) owner is not known to be dead: its claim waits
    until it is stale."""
    try:
        owner = json.loads(headers or "{}").get("owner") or {}
    except (ValueError, AttributeError):
        return False
    boot, namespace = _boot_id(), _pid_namespace()
    if not boot or owner.get("boot") != boot or not namespace or owner.get("pidns") != namespace:
        return False
    if not isinstance(owner.get("pid"), int):
        return False
    started = _started(owner["pid"])
    return started is None or (bool(started) and bool(owner.get("started")) and started != owner["started"])


def _first_attempt(row: dict[str, Any]) -> datetime:
    """When the first attempt of an unanswered claim began (a resumed one keeps it after its marker)."""
    body = row["body"] or ""
    for marker in (ABANDONED, RESUMED):
        if body.startswith(marker):
            return datetime.fromisoformat(body[len(marker) :])
    return datetime.fromisoformat(row["created_at"])


def any_of(headers: Any, names: tuple[str, ...]) -> dict[str, str]:
    """The response headers worth repeating with a kept answer."""
    return {name: headers[name] for name in names if name in headers}
