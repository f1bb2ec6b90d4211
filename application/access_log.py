"""The access log: every change to a user (who did it, when, what, to whom), append-only and hash-chained.

It is kept apart from the partnerships' log (users are not events of the partnerships) in its own table,
``tracker_access_log``, and written in the same transaction as the change it describes, so a change is
never without its entry nor an entry without its change.

An entry's *canonical content* is the JSON object

    {"action": "...", "actor": "...", "data": {...}, "position": N, "recorded_at": "<ISO 8601, UTC>",
     "subject": "<user name>"}

serialized as the partnership log's entries are (keys sorted, no whitespace, non-ASCII kept, UTF-8), and its
hash is ``sha256(previous_hash + content)`` with 64 zeros before position 1: the same recipe as
``projections.log``. Its digest is written ``access:POSITION:HASH`` so that it is never mistaken for the
partnership log's ``POSITION:HASH``.

Actions and their ``data``:

=================  =========================================  =============================================
action             data                                       means
=================  =========================================  =============================================
``user_added``     ``{"role", "email"}``                      a new user with that role (email or null)
``user_existing``  ``{"role", "disabled"}``                   a user that existed before the access log did
``user_disabled``  ``{}``                                     may no longer sign in; sessions and token ended
``user_enabled``   ``{}``                                     may sign in again (with a new password/token)
``role_changed``   ``{"from", "to"}``                         the role changed; sessions ended
``password_reset`` ``{}``                                     a new password; sessions and token ended
``token_issued``   ``{}``                                     a new API token; the old one no longer works
``tokens_revoked`` ``{}``                                     the API token and every session ended
=================  =========================================  =============================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from infrastructure.locks import lock_key
from infrastructure.store import Db, Tx
from projections.audit import Report, check_chain
from projections.log import GENESIS_HASH, chain_hash

TABLE = "tracker_access_log"
DDL = """CREATE TABLE IF NOT EXISTS {table} (
    position BIGINT PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    data TEXT NOT NULL,
    hash TEXT NOT NULL)"""
#: Serializes appends on PostgreSQL (on SQLite ``BEGIN IMMEDIATE`` already does).
APPEND_LOCK = lock_key("access_log")
CANONICAL_KEYS = ("action", "actor", "data", "position", "recorded_at", "subject")
ACTIONS = (
    "user_added",
    "user_existing",
    "user_disabled",
    "user_enabled",
    "role_changed",
    "password_reset",
    "token_issued",
    "tokens_revoked",
)
DIGEST_PREFIX = "access:"
_DIGEST = re.compile(r"access:(?P<position>[0-9]+):(?P<hash>[0-9a-fA-F]{64})", re.ASCII)


def canonical(entry: Mapping[str, Any]) -> str:
    """The canonical JSON text of an access-log entry (only the canonical keys are taken)."""
    body = {k: entry[k] for k in CANONICAL_KEYS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_digest(head: Mapping[str, Any]) -> str:
    return f"{DIGEST_PREFIX}{head['position']}:{head['hash']}"


def parse_digest(text: str) -> tuple[int, str]:
    """``access:POSITION:HASH`` as (position, hash); ValueError when malformed."""
    match = _DIGEST.fullmatch(text.strip())
    if not match:
        raise ValueError(f"an access-log digest looks like access:POSITION:HASH (64 hex digits), not {text!r}")
    return int(match["position"]), match["hash"].lower()


def is_access_digest(text: str) -> bool:
    return text.strip().startswith(DIGEST_PREFIX)


class AccessLog:
    """Append to and read the access log (its table lives beside the users' table)."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.table = db.table(TABLE)

    def ddl(self) -> list[str]:
        return [DDL.format(table=self.table)]

    def append(self, tx: Tx, *, actor: str, action: str, subject: str, data: Mapping[str, Any] | None = None) -> dict:
        """Append one entry inside the caller's write transaction (the change it describes commits with it)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown access-log action {action!r}")
        tx.lock(APPEND_LOCK)
        last = tx.execute(f"SELECT position, hash FROM {self.table} ORDER BY position DESC LIMIT 1").fetchone()
        position, previous = (int(last["position"]) + 1, last["hash"]) if last else (1, GENESIS_HASH)
        entry = {
            "action": action,
            "actor": actor,
            "data": dict(data or {}),
            "position": position,
            "recorded_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "subject": subject,
        }
        entry["hash"] = chain_hash(previous, canonical(entry))
        tx.execute(
            f"INSERT INTO {self.table} (position, recorded_at, actor, action, subject, data, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                position,
                entry["recorded_at"],
                actor,
                action,
                subject,
                json.dumps(entry["data"], sort_keys=True, separators=(",", ":"), ensure_ascii=False),
                entry["hash"],
            ),
        )
        return entry

    def page(self, *, after: int = 0, limit: int = 100) -> dict[str, Any]:
        """Entries after ``after``, at most ``limit``; ``next`` is null when the page reaches the head."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                f"SELECT * FROM {self.table} WHERE position > ? ORDER BY position LIMIT ?", (after, limit)
            ).fetchall()
            head = tx.scalar(f"SELECT MAX(position) FROM {self.table}") or 0
        items = [_entry(r) for r in rows]
        last = items[-1]["position"] if items else after
        return {"items": items, "next": last if last < head else None}

    def entries(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every stored entry in position order, as stored (its ``data`` may be unreadable: then a string)."""
        after = 0
        while True:
            with self.db.transaction(write=False) as tx:
                rows = tx.execute(
                    f"SELECT * FROM {self.table} WHERE position > ? ORDER BY position LIMIT ?", (after, batch)
                ).fetchall()
            if not rows:
                return
            yield from (_entry(r) for r in rows)
            after = int(rows[-1]["position"])

    def head(self) -> dict[str, Any]:
        """The position and hash of the last entry (0 and 64 zeros when empty)."""
        with self.db.transaction(write=False) as tx:
            row = tx.execute(f"SELECT position, hash FROM {self.table} ORDER BY position DESC LIMIT 1").fetchone()
        return {"position": int(row["position"]), "hash": row["hash"]} if row else {"position": 0, "hash": GENESIS_HASH}

    def verify(self, users: Iterable[Mapping[str, Any]], digest: tuple[int, str] | None = None) -> dict[str, Any]:
        """Check the chain (against a digest kept earlier) and the users' roles and states against a replay.

        ``users``: the users' table as it stands (``name``, ``role``, ``disabled``). A role or a state that
        no entry of the log explains (a row changed behind the program's back) is a problem, as is a user
        the log never added or one it added that is gone.
        """
        report = Report()
        entries = list(self.entries())
        check_chain(entries, report, digest, canonical_of=canonical)
        replayed = replay(entries)
        current = {u["name"]: u for u in users}
        for name in sorted(set(replayed) | set(current)):
            logged, row = replayed.get(name), current.get(name)
            if logged is None:
                report.problem(None, "users", f"user {name!r} is in the users' table but the access log never added it")
            elif row is None:
                report.problem(logged["position"], "users", f"user {name!r} was added but is not in the users' table")
            elif logged["role"] != row["role"]:
                report.problem(
                    logged["position"],
                    "users",
                    f"user {name!r} has role {row['role']!r} but the access log last gave {logged['role']!r}",
                )
            elif logged["disabled"] != bool(row["disabled"]):
                state = "disabled" if row["disabled"] else "enabled"
                report.problem(
                    logged["position"], "users", f"user {name!r} is {state} but the access log says otherwise"
                )
        return report.as_dict()


def replay(entries: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each user's role and state as the access log's entries leave them (``position``: the last entry's)."""
    users: dict[str, dict[str, Any]] = {}
    for entry in entries:
        data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
        name, action, position = entry.get("subject"), entry.get("action"), entry.get("position")
        if action in ("user_added", "user_existing"):
            users[name] = {"role": data.get("role"), "disabled": bool(data.get("disabled")), "position": position}
            continue
        user = users.get(name)
        if user is None:
            continue
        user["position"] = position
        if action == "user_disabled":
            user["disabled"] = True
        elif action == "user_enabled":
            user["disabled"] = False
        elif action == "role_changed":
            user["role"] = data.get("to")
    return users


def _entry(row: Mapping[str, Any]) -> dict[str, Any]:
    try:
        data: Any = json.loads(row["data"])
    except (TypeError, ValueError):
        data = row["data"]  # kept as it is: its hash no longer matches, and the check says where
    return {
        "position": int(row["position"]),
        "recorded_at": row["recorded_at"],
        "actor": row["actor"],
        "action": row["action"],
        "subject": row["subject"],
        "data": data,
        "hash": row["hash"],
    }
