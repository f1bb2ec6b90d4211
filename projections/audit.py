"""Proof that nothing was rewritten: the hash chain recomputed from the stored events,
compared with the log view, and the read models compared with a fresh replay."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory

from infrastructure.store import Db
from projections.log import GENESIS_HASH, canonical, chain_hash, entry_of
from projections.projection import VIEW_TABLES, Projection, SQLiteViewsRecorder

#: Columns compared between the live read models and a fresh replay, per table.
COMPARED = {
    "view_log": "position, notification_id, partnership_id, version, type, content, hash",
    "view_events": "partnership_id, version, position, type, occurred_on, recorded_at, recorded_by, data,"
    " retracted_by, retraction_reason, effect, ineffective_by, business_first",
    "view_partnerships": "id, sort_name, partner_country, status, last_activity_end, own_days, due_on, spell_flagged,"
    " next_plan_due, search, version, doc, fold",
    "view_partnership_areas": "area, partnership_id",
    "view_reminders": "id, partnership_id, opened_on, is_open, doc",
    "view_checkpoints": "partnership_id, first, version, kept",
}
ORDER = {
    "view_log": "position",
    "view_events": "partnership_id, version",
    "view_partnerships": "id",
    "view_partnership_areas": "area, partnership_id",
    "view_reminders": "id",
    "view_checkpoints": "partnership_id, first, version",
}


def stored_entries(
    app: Application, batch: int = 1000, unreadable: dict[int, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every event of the store as a log entry with its position and chained hash.

    A stored event that cannot be decoded raises, unless ``unreadable`` is given: then it is
    noted there (position -> reason) and skipped.
    """
    position, previous, start = 0, GENESIS_HASH, 0
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=batch, inclusive_of_start=False)
        if not notifications:
            return
        for n in notifications:
            position += 1
            try:
                entry = entry_of(app.mapper.to_domain_event(n), position)
            except Exception as e:  # undecodable bytes, or a payload that does not fit its event class
                if unreadable is None:
                    raise
                unreadable[position] = f"the stored event cannot be read: {type(e).__name__}"
                continue
            previous = chain_hash(previous, canonical(entry))
            yield {**entry, "hash": previous, "notification_id": n.id}
        start = notifications[-1].id


_DIGEST = re.compile(r"(?P<position>[0-9]+):(?P<hash>[0-9a-fA-F]{64})", re.ASCII)


def export_line(entry: dict[str, Any]) -> str:
    """One JSONL line of an export: the canonical entry plus its hash, keys sorted."""
    body = {k: entry[k] for k in (*json.loads(canonical(entry)).keys(), "hash")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_digest(text: str) -> tuple[int, str]:
    """``POSITION:HASH`` as (position, hash); ValueError when malformed (``0:`` and 64 zeros is the empty log)."""
    match = _DIGEST.fullmatch(text.strip())
    if not match:
        raise ValueError(f"a digest looks like POSITION:HASH (64 hex digits), not {text!r}")
    return int(match["position"]), match["hash"].lower()


class Report:
    def __init__(self) -> None:
        self.checked = 0
        self.problems: list[dict[str, Any]] = []
        self.head = {"position": 0, "hash": GENESIS_HASH}

    def problem(self, position: int | None, kind: str, detail: str, code: str | None = None, **params: Any) -> None:
        """One finding; a digest's also carries a ``code`` (see :data:`DIGEST_CODES`) and its parameters."""
        found = {"position": position, "kind": kind, "detail": detail}
        if code is not None:
            found.update(code=code, params=params)
        self.problems.append(found)

    def as_dict(self) -> dict[str, Any]:
        problems = sorted(self.problems, key=lambda p: (p["position"] is None, p["position"] or 0))
        return {"ok": not problems, "checked": self.checked, "head": self.head, "problems": problems}


def check_chain(
    entries: Iterable[dict[str, Any]],
    report: Report,
    digest: tuple[int, str] | None,
    *,
    canonical_of: Callable[[dict[str, Any]], str] = canonical,
) -> None:
    """Recompute the chain over entries that carry their own ``hash``; record every mismatch.

    ``canonical_of``: an entry's canonical content (the partnership log's by default; the access log has its own).
    """
    previous, expected_position = GENESIS_HASH, 1
    at_digest, seen = None, {}  # the log's hash at the digest's position, and every position by its hash
    for entry in entries:
        report.checked += 1
        if entry.get("position") != expected_position:
            report.problem(
                expected_position,
                "position",
                f"expected position {expected_position}, found {entry.get('position')}",
            )
            expected_position = entry.get("position") if isinstance(entry.get("position"), int) else expected_position
        try:
            content = canonical_of(entry)
        except KeyError as e:
            report.problem(expected_position, "entry", f"missing field {e}")
            content = ""
        computed = chain_hash(previous, content)
        if computed != entry.get("hash"):
            report.problem(expected_position, "hash", "the entry's content does not match its chained hash")
        previous = computed
        report.head = {"position": expected_position, "hash": computed}
        if digest:
            seen.setdefault(computed, expected_position)
            if digest[0] == expected_position:
                at_digest = computed
        expected_position += 1
    if digest:
        check_digest(report, digest, at_digest, seen)


#: What a digest that does not match says (a problem of kind ``digest`` carries one as its ``code``). The first
#: three say that the digest is not one of this log's (a mistyped copy); the others that the log has changed.
DIGEST_CODES = ("mistyped", "other_position", "empty_log", "changed", "beyond_head")
NOT_THIS_LOGS = frozenset(DIGEST_CODES[:3])
#: At most this many characters of a kept hash may differ from the log's for it to count as mistyped. A change to
#: the log gives a new SHA-256, which differs from the old one in about 60 of the 64 characters; 8 or fewer by
#: chance has a probability below 1e-50, so a near miss is a copying error, never a rewrite.
TYPO_DISTANCE = 8


def check_digest(report: Report, digest: tuple[int, str], at_digest: str | None, seen: dict[str, int]) -> None:
    """Compare a kept digest with the log: tell a digest that is not this log's (a typo in its hash or its
    position) from a log that has changed since the digest was taken."""
    position, kept = digest
    if position == 0 or kept == at_digest:
        if kept != GENESIS_HASH and position == 0:
            report.problem(
                0, "digest", "not a digest of this log: an empty log's digest is 0 and 64 zeros", "empty_log"
            )
        return
    elsewhere = seen.get(kept)
    if elsewhere is not None:
        report.problem(
            position,
            "digest",
            f"not a digest of this log at position {position}: its hash is the log's at position {elsewhere}"
            " (a mistyped position?)",
            "other_position",
            found_at=elsewhere,
        )
    elif at_digest is None:
        head = report.head["position"]
        report.problem(
            position, "digest", f"the log ends at {head}, before the digest's position", "beyond_head", head=head
        )
    elif (distance := edit_distance(kept, at_digest)) <= TYPO_DISTANCE:
        report.problem(
            position,
            "digest",
            f"not a digest of this log: its hash differs from the log's at position {position} in only {distance}"
            " characters (mistyped?), where a change to the log would change almost all 64",
            "mistyped",
            differing=distance,
        )
    else:
        report.problem(position, "digest", "the log up to the kept digest has changed", "changed")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest characters to replace, insert or delete to turn ``a`` into ``b``."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        diagonal, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ca != cb))
    return row[-1]


def verify_store(app: Application, db: Db, digest: tuple[int, str] | None = None) -> dict[str, Any]:
    """Check the stored events' chain against the log view, and every read model against a replay."""
    report = Report()
    unreadable: dict[int, str] = {}
    fresh = list(stored_entries(app, unreadable=unreadable))
    for position, detail in unreadable.items():
        report.problem(position, "unreadable", detail)
    # The chain from the truth, and the log view's copy of it.
    check_chain(fresh, report, digest)
    with db.transaction(write=False) as tx:
        kept = tx.execute(f"SELECT position, content, hash FROM {db.table('view_log')} ORDER BY position").fetchall()
    kept_by_position = {r["position"]: r for r in kept if r["position"] not in unreadable}
    for entry in fresh:
        row = kept_by_position.pop(entry["position"], None)
        if row is None:
            report.problem(entry["position"], "missing", "the log view has no entry at this position")
        elif row["content"] != canonical(entry) or row["hash"] != entry["hash"]:
            report.problem(entry["position"], "hash", "stored event and the log's chained hash disagree")
    for position in sorted(kept_by_position):
        report.problem(position, "extra", "the log view has an entry the store does not")
    if unreadable:  # no replay is possible: the report already says where the log is broken
        return report.as_dict()
    # Every read model against a fresh replay in a scratch store. A partnership's row folds all of its
    # events, so where one of them is already known bad, the row's difference is that entry's doing.
    bad = {p["position"] for p in report.problems if p["position"] is not None}
    first_bad: dict[str, int] = {}
    for entry in fresh:
        if entry["position"] in bad:
            first_bad.setdefault(str(entry["partnership_id"]), entry["position"])
    for table, position, detail in compare_with_replay(app, db, first_bad):
        report.problem(position, "read_model", f"{table}: {detail}")
    return report.as_dict()


def compare_with_replay(
    app: Application, db: Db, first_bad: dict[str, int] | None = None
) -> list[tuple[str, int | None, str]]:
    """(table, position, detail) for each row where a read model differs from a fresh replay.

    A partnership's row (its document, areas, reminders) is placed at ``first_bad[partnership_id]``, the
    first of its log entries known to be bad, when there is one; else at the partnership's first entry.
    """
    differences = []
    with tempfile.TemporaryDirectory(prefix="tracker-verify-") as scratch_dir:
        factory = InfrastructureFactory.construct(
            {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(Path(scratch_dir) / "replay.db"),
            }
        )
        scratch = Db(factory.tracking_recorder(SQLiteViewsRecorder))
        replay = Projection(app, scratch)
        replay.ensure_layout()
        try:
            replay.catch_up()
        except Exception as e:  # the stored history itself cannot be folded (e.g. a deleted registration)
            scratch.datastore.close()
            return [("replay", None, f"the log cannot be replayed: {type(e).__name__}: {e}")]
        for table in VIEW_TABLES:
            live, replayed = _rows(db, table), _rows(scratch, table)
            for key in sorted(set(live) | set(replayed), key=str):
                if live.get(key) != replayed.get(key):
                    state = "missing" if key not in live else "extra" if key not in replayed else "differs"
                    position = _position_of(db, table, key, first_bad or {})
                    differences.append((table, position, f"row {key} {state}"))
        scratch.datastore.close()
    return differences


def _rows(db: Db, table: str) -> dict[tuple, tuple]:
    with db.transaction(write=False) as tx:
        rows = tx.execute(f"SELECT {COMPARED[table]} FROM {db.table(table)} ORDER BY {ORDER[table]}").fetchall()
    key_len = len(ORDER[table].split(","))
    out = {}
    for r in rows:
        values = tuple(None if v is None else str(v) for v in r.values())
        out[values[:key_len]] = values
    return out


def _position_of(db: Db, table: str, key: tuple, first_bad: dict[str, int]) -> int | None:
    if table == "view_log":
        return int(key[0])
    with db.transaction(write=False) as tx:
        if table == "view_events":
            return tx.scalar(
                f"SELECT position FROM {db.table('view_events')} WHERE partnership_id = ? AND version = ?",
                (key[0], int(key[1])),
            )
        pid = key[1] if table == "view_partnership_areas" else key[0]
        if table == "view_reminders":
            pid = tx.scalar(f"SELECT partnership_id FROM {db.table('view_reminders')} WHERE id = ?", (key[0],)) or pid
        if str(pid) in first_bad:
            return first_bad[str(pid)]
        return tx.scalar(f"SELECT MIN(position) FROM {db.table('view_events')} WHERE partnership_id = ?", (pid,))


def verify_export(lines: Iterable[str], digest: tuple[int, str] | None = None) -> dict[str, Any]:
    """Check an export file's chain with no database at all."""
    report = Report()

    def entries() -> Iterator[dict[str, Any]]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as e:
                report.problem(number, "syntax", f"line {number} is not JSON: {e.msg}")
                continue
            if not isinstance(entry, dict):
                report.problem(number, "syntax", f"line {number} is not a JSON object")
                continue
            yield entry

    check_chain(entries(), report, digest)
    return report.as_dict()
