"""Read-side queries: plain dicts out of the read models, never aggregates."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain import rules
from domain.dates import BusinessDate
from domain.event_types import ACTIVITY_TYPES, NON_EXISTENCE_TYPES
from infrastructure.store import Db
from projections import folds
from projections.documents import (
    document_at,
    document_of_state,
    event_document,
    event_effects,
    fact_of,
    fold_text,
    rows_as_of,
    rows_known_at,
)
from projections.log import GENESIS_HASH
from projections.projection import OPEN_STATUSES, is_open_sql


@dataclass(frozen=True)
class Clock:
    """What "inactive" means today: the office's date and the configured threshold."""

    today: date
    inactivity_days: int

    @property
    def cutoff(self) -> str:
        if self.today.toordinal() <= self.inactivity_days:
            return date.min.isoformat()
        return (self.today - timedelta(days=self.inactivity_days)).isoformat()

    def is_inactive(self, doc: dict[str, Any]) -> bool:
        """Open, and quiet for longer than its own period (or the register's) since the end of its last activity."""
        last = doc.get("last_activity_on")
        if doc["status"] not in OPEN_STATUSES or last is None:
            return False
        days = doc.get("inactivity_days") or self.inactivity_days
        return (self.today - BusinessDate.parse(last).last).days > days

    def is_approximate(self, doc: dict[str, Any]) -> bool:
        """Whether today falls inside a month or a year the answer rests on (before its end)."""
        until = doc.get("approximate_until")
        return until is not None and self.today < date.fromisoformat(until)


def _with_inactive(doc: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """The contract's Partnership: ``inactive`` and ``approximate`` as of the clock's day (unless answered already)."""
    out = {k: v for k, v in doc.items() if k != "approximate_until"}
    out["inactive"] = clock.is_inactive(doc)
    out.setdefault("approximate", clock.is_approximate(doc))
    return out


def _unstorable(*values: Any) -> bool:
    """Whether a looked-up text holds a NUL: no stored text does, and PostgreSQL refuses even to compare one
    (a query with it would fail), so such a lookup finds nothing, on every store alike."""
    return any(isinstance(v, str) and "\x00" in v for v in values)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_partnership(db: Db, partnership_id: str, clock: Clock) -> dict[str, Any] | None:
    if _unstorable(partnership_id):
        return None
    with db.transaction(write=False) as tx:
        row = tx.execute(f"SELECT doc FROM {db.table('view_partnerships')} WHERE id = ?", (partnership_id,)).fetchone()
    return _with_inactive(json.loads(row["doc"]), clock) if row else None


def list_partnerships(
    db: Db,
    clock: Clock,
    *,
    status: str | None = None,
    country: str | None = None,
    area: str | None = None,
    q: str | None = None,
    inactive: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of the partnership list, filtered, ordered by partner name."""
    if _unstorable(status, country, area, q):
        return {"items": [], "total": 0}
    t = db.table
    where, params = [], []
    if status:
        where.append("p.status = ?")
        params.append(status)
    if country:
        where.append("p.partner_country = ?")
        params.append(country.upper())
    if area:
        where.append(
            f"EXISTS (SELECT 1 FROM {t('view_partnership_areas')} a WHERE a.area = ? AND a.partnership_id = p.id)"
        )
        params.append(area)
    if q:
        where.append("p.search LIKE ? ESCAPE '\\'")
        params.append(f"%{_escape_like(fold_text(q))}%")
    if inactive is not None:
        test = (
            f"{is_open_sql('p.status')} AND p.last_activity_end IS NOT NULL"
            " AND ((p.own_days IS NULL AND p.last_activity_end < ?) OR (p.own_days IS NOT NULL AND p.due_on < ?))"
        )
        where.append(test if inactive else f"NOT ({test})")
        params += [clock.cutoff, clock.today.isoformat()]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    with db.transaction(write=False) as tx:
        total = tx.scalar(f"SELECT COUNT(*) FROM {t('view_partnerships')} p {clause}", params)
        rows = tx.execute(
            f"SELECT p.doc FROM {t('view_partnerships')} p {clause} ORDER BY p.sort_name, p.id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
    return {"items": [_with_inactive(json.loads(r["doc"]), clock) for r in rows], "total": total}


def count_by_status(db: Db) -> dict[str, int]:
    with db.transaction(write=False) as tx:
        rows = tx.execute(
            f"SELECT status, COUNT(*) AS n FROM {db.table('view_partnerships')} GROUP BY status"
        ).fetchall()
    return {r["status"]: r["n"] for r in rows}


def _event(row: dict[str, Any], effects: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return event_document(
        row["partnership_id"],
        row,
        effects.get(row["version"]),
        retracted_by=row["retracted_by"],
        retraction_reason=row["retraction_reason"],
    )


def _effects(rows: list[Any]) -> dict[int, dict[str, Any]]:
    """Each event's effect, folded from the partnership's rows (all of them, oldest first)."""
    return event_effects([fact_of(r) for r in rows]) if rows else {}


_EVENT_COLUMNS = (
    "partnership_id, version, position, type, occurred_on, recorded_at, recorded_by, data, retracted_by,"
    " retraction_reason, effect, ineffective_by"
)


def _event_rows(db: Db, partnership_id: str) -> list[Any]:
    """The partnership's ``view_events`` rows, oldest first (by version); none for an unknown id."""
    if _unstorable(partnership_id):
        return []
    with db.transaction(write=False) as tx:
        return tx.execute(
            f"SELECT {_EVENT_COLUMNS} FROM {db.table('view_events')} WHERE partnership_id = ? ORDER BY version",
            (partnership_id,),
        ).fetchall()


def _kept_effects(db: Db, rows: Sequence[Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """The effects the projection keeps with each row (as :func:`projections.documents.event_effects` makes
    them from the whole history), keyed by (partnership, version); a retracted entry's names the status now."""
    if not rows:
        return {}
    pids = sorted({r["partnership_id"] for r in rows})
    marks = ", ".join("?" for _ in pids)
    t = db.table
    with db.transaction(write=False) as tx:
        status = {
            r["id"]: r["status"]
            for r in tx.execute(
                f"SELECT id, status FROM {t('view_partnerships')} WHERE id IN ({marks})", pids
            ).fetchall()
        }
        culprits: dict[tuple[str, int], list[int]] = {}
        for r in tx.execute(
            f"SELECT partnership_id, version, ineffective_by FROM {t('view_events')}"
            f" WHERE partnership_id IN ({marks}) AND ineffective_by IS NOT NULL ORDER BY version",
            pids,
        ).fetchall():
            culprits.setdefault((r["partnership_id"], r["ineffective_by"]), []).append(r["version"])
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for r in rows:
        key = (r["partnership_id"], r["version"])
        if r["retracted_by"] is not None:
            now = status.get(r["partnership_id"])
            out[key] = {"none": "retracted", "status": now}
            continue
        if r["effect"] is None:
            continue
        effect = json.loads(r["effect"])
        if r["ineffective_by"] is not None:
            effect["made_ineffective_by"] = r["ineffective_by"]
        if key in culprits:
            effect["makes_ineffective"] = culprits[key]
        out[key] = effect
    return out


def same_entries(db: Db, partnership_id: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The partnership's entries (not retracted) of the same type, business date and fields as ``entry`` (a log
    entry not yet recorded): a second one is most often the same thing recorded twice."""
    if _unstorable(partnership_id):
        return []
    data = json.dumps(entry["data"], ensure_ascii=False, sort_keys=True)
    with db.transaction(write=False) as tx:
        rows = tx.execute(
            f"SELECT version, recorded_at, recorded_by FROM {db.table('view_events')} WHERE partnership_id = ?"
            " AND type = ? AND occurred_on = ? AND data = ? AND retracted_by IS NULL ORDER BY version",
            (partnership_id, entry["type"], entry["occurred_on"], data),
        ).fetchall()
    return [dict(r) for r in rows]


def list_events(db: Db, partnership_id: str) -> list[dict[str, Any]] | None:
    """The partnership's events, oldest first (by version), retracted ones marked; None if unknown."""
    rows = _event_rows(db, partnership_id)
    effects = _kept_effects(db, rows)
    return [_event(r, {r["version"]: effects.get((r["partnership_id"], r["version"]))}) for r in rows] or None


def get_event(db: Db, partnership_id: str, version: int) -> dict[str, Any] | None:
    """One event, with its effect as the partnership's whole history applies it now."""
    if _unstorable(partnership_id) or not 0 < version < 2**63:  # a version no store can hold is no event
        return None
    with db.transaction(write=False) as tx:
        row = tx.execute(
            f"SELECT {_EVENT_COLUMNS} FROM {db.table('view_events')} WHERE partnership_id = ? AND version = ?",
            (partnership_id, version),
        ).fetchone()
    if row is None:
        return None
    effect = _kept_effects(db, [row]).get((partnership_id, version))
    return _event(row, {version: effect})


def log_page(db: Db, *, after: int = 0, limit: int = 100) -> dict[str, Any]:
    """Log entries after ``after``, at most ``limit``; ``next`` is null when the page reaches the head."""
    t = db.table
    with db.transaction(write=False) as tx:
        rows = tx.execute(
            f"SELECT l.position, l.hash, e.partnership_id, e.version, e.position AS p2, e.type, e.occurred_on,"
            f" e.recorded_at, e.recorded_by, e.data, e.retracted_by, e.retraction_reason, e.effect, e.ineffective_by"
            f" FROM {t('view_log')} l JOIN {t('view_events')} e"
            f" ON e.partnership_id = l.partnership_id AND e.version = l.version"
            f" WHERE l.position > ? ORDER BY l.position LIMIT ?",
            (after, limit),
        ).fetchall()
        head = tx.scalar(f"SELECT MAX(position) FROM {t('view_log')}") or 0
    effects = _kept_effects(db, rows)
    items = [
        {
            **_event(r, {r["version"]: effects.get((r["partnership_id"], r["version"]))}),
            "position": r["position"],
            "hash": r["hash"],
        }
        for r in rows
    ]
    last = items[-1]["position"] if items else after
    return {"items": items, "next": last if last < head else None}


def head(db: Db) -> dict[str, Any]:
    """The position and hash of the log's last entry (0 and 64 zeros when empty)."""
    with db.transaction(write=False) as tx:
        row = tx.execute(f"SELECT position, hash FROM {db.table('view_log')} ORDER BY position DESC LIMIT 1").fetchone()
    return {"position": row["position"], "hash": row["hash"]} if row else {"position": 0, "hash": GENESIS_HASH}


def _day(as_of: BusinessDate | date | None) -> date | None:
    """The day an ``as_of`` stands for: a month or a year counts from its first day."""
    return BusinessDate.of(as_of).first if as_of is not None else None


def _stood(doc: dict[str, Any], as_of: BusinessDate | date | None, clock: Clock) -> dict[str, Any]:
    """A document as of a day: inactive as of that day; approximate when the day asked is itself a period."""
    day = _day(as_of)
    out = _with_inactive(doc, Clock(day, clock.inactivity_days) if day else clock)
    if as_of is not None and BusinessDate.of(as_of).approximate:
        out["approximate"] = True
    return out


def partnership_at(
    db: Db,
    partnership_id: str,
    clock: Clock,
    *,
    as_of: BusinessDate | date | None,
    known_at: datetime | None,
) -> dict[str, Any] | None:
    """The partnership as it stood on business day ``as_of`` as recorded by ``known_at``."""
    day = _day(as_of)
    if known_at is None and day is not None:
        found = document_on(db, partnership_id, day)
        return _stood(found, as_of, clock) if found else None
    doc = document_at(partnership_id, _event_rows(db, partnership_id), as_of=day, known_at=known_at)
    return _stood(doc, as_of, clock) if doc is not None else None


def document_on(db: Db, partnership_id: str, day: date) -> dict[str, Any] | None:
    """The partnership as it stood on ``day`` (as :func:`projections.documents.document_at` with no
    ``known_at``), from the nearest checkpoint of its fold on or before ``day`` and the facts after it up to
    ``day``: a short tail, whatever the length of the history. None when it did not exist yet (or is unknown)."""
    if _unstorable(partnership_id):
        return None
    t = db.table
    iso = day.isoformat()
    with db.transaction(write=False) as tx:
        row = tx.execute(f"SELECT doc FROM {t('view_partnerships')} WHERE id = ?", (partnership_id,)).fetchone()
        if row is None:
            return None
        current = json.loads(row["doc"])
        exists = BusinessDate.parse(current["exists_from"])
        if day < exists.first:
            return None
        checkpoint = tx.execute(
            f"SELECT first, version, kept FROM {t('view_checkpoints')} WHERE partnership_id = ? AND first <= ?"
            " ORDER BY first DESC, version DESC LIMIT 1",
            (partnership_id, iso),
        ).fetchone()
        after = (checkpoint["first"], checkpoint["version"]) if checkpoint else ("", 0)
        tail = tx.execute(
            f"SELECT version, type, occurred_on, recorded_at, recorded_by, data FROM {t('view_events')}"
            " WHERE partnership_id = ? AND retracted_by IS NULL AND type NOT IN (?, ?)"
            # bounded on both sides (the index view_events_business): the checkpoint's day to ``day``
            " AND business_first >= ? AND business_first <= ? AND (business_first > ? OR version > ?)"
            " ORDER BY business_first, version",
            (partnership_id, rules.REGISTERED, rules.RETRACTED, after[0], iso, after[0], after[1]),
        ).fetchall()
        registered = tx.execute(
            f"SELECT version, type, occurred_on, recorded_at, recorded_by, data FROM {t('view_events')}"
            " WHERE partnership_id = ? AND type = ? ORDER BY version LIMIT 1",  # the first: stops there
            (partnership_id, rules.REGISTERED),
        ).fetchone()
        version = tx.scalar(
            f"SELECT MAX(version) FROM {t('view_events')} WHERE partnership_id = ?"
            " AND (type IN (?, ?) OR business_first <= ?)",
            (partnership_id, rules.REGISTERED, rules.RETRACTED, iso),
        )
    registration = fact_of(registered)
    if checkpoint is not None:
        kept = folds.loads(checkpoint["kept"])
        state, approximate, uncertain = kept.folded.state, kept.approximate_until, kept.uncertain_until
    else:
        state, approximate, uncertain = rules.initial_state(registration, exists), None, None
    for r in tail:
        fact = fact_of(r)
        state, _ = rules.step(state, fact)
        when = fact.when
        if when is not None and when.approximate:
            approximate = max(approximate, when.last) if approximate else when.last
            if fact.type not in NON_EXISTENCE_TYPES:
                uncertain = max(uncertain, when.last) if uncertain else when.last
    doc, _ = document_of_state(
        partnership_id, state, current, version=version, exists_from=exists, approximate_until=approximate
    )
    registered_when = registration.when
    doc["approximate"] = bool(uncertain and uncertain > day) or bool(
        registered_when is not None and registered_when.uncertain_on(day)
    )
    return doc


def register_at(db: Db, clock: Clock, *, as_of: BusinessDate | date, known_at: datetime | None) -> list[dict[str, Any]]:
    """Every partnership as it stood (the register on a given day), ordered by partner name."""
    t = db.table
    with db.transaction(write=False) as tx:
        ids = [
            r["id"] for r in tx.execute(f"SELECT id FROM {t('view_partnerships')} ORDER BY sort_name, id").fetchall()
        ]
        rows = tx.execute(
            f"SELECT partnership_id, version, type, occurred_on, recorded_at, recorded_by, data"
            f" FROM {t('view_events')} ORDER BY partnership_id, version"
        ).fetchall()
    by_pid: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_pid.setdefault(r["partnership_id"], []).append(r)
    out = []
    for pid in ids:
        doc = document_at(pid, by_pid.get(pid, []), as_of=_day(as_of), known_at=known_at)
        if doc is not None:
            out.append(_stood(doc, as_of, clock))
    return out


def inactivity_candidates(db: Db, clock: Clock) -> list[str]:
    """Ids of partnerships the inactivity scan must look at: a new spell to flag or a plan overdue.

    One indexed query over the read model; the domain then decides (and records) for each.
    """
    with db.transaction(write=False) as tx:
        rows = tx.execute(
            # two halves, each answered from its own index (the OR of both would scan the table)
            f"SELECT id FROM {db.table('view_partnerships')}"
            f" WHERE {is_open_sql()} AND spell_flagged = 0 AND last_activity_end < ? AND own_days IS NULL"
            f" UNION ALL SELECT id FROM {db.table('view_partnerships')}"
            f" WHERE {is_open_sql()} AND spell_flagged = 0 AND due_on < ?"
            f" UNION ALL SELECT id FROM {db.table('view_partnerships')} WHERE next_plan_due < ?",
            (clock.cutoff, clock.today.isoformat(), clock.today.isoformat()),
        ).fetchall()
    return sorted({r["id"] for r in rows})


def list_reminders(db: Db, *, is_open: bool | None = None) -> list[dict[str, Any]]:
    """Reminders, newest first: all of them, or only the open (``True``) or closed (``False``) ones."""
    clause = "" if is_open is None else f"WHERE is_open = {int(is_open)}"
    with db.transaction(write=False) as tx:
        rows = tx.execute(
            f"SELECT doc FROM {db.table('view_reminders')} {clause} ORDER BY opened_on DESC, id"
        ).fetchall()
    return [json.loads(r["doc"]) for r in rows]


def silent_since(reminder: dict[str, Any]) -> date:
    """The day a reminder's silence began: the end of the last activity, or the planned exchange's last day."""
    when = reminder.get("last_activity_on") or reminder.get("planned_for") or reminder["opened_on"]
    return BusinessDate.parse(when).last


def by_longest_silence(reminders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reminders, the longest silence first (an overdue exchange by its oldest planned date)."""
    return sorted(reminders, key=lambda r: (silent_since(r), r["opened_on"], r["id"]))


def get_reminder(db: Db, reminder_id: str) -> dict[str, Any] | None:
    if _unstorable(reminder_id):
        return None
    with db.transaction(write=False) as tx:
        row = tx.execute(f"SELECT doc FROM {db.table('view_reminders')} WHERE id = ?", (reminder_id,)).fetchone()
    return json.loads(row["doc"]) if row else None


# --- for the web UI (dashboard, timeline, log page) -------------------------------------------


def activity_per_year(db: Db) -> list[dict[str, int]]:
    """How many activity events (not retracted) happened in each year, oldest year first; years with none
    between the first and the last are included with 0."""
    types = sorted(ACTIVITY_TYPES)
    marks = ", ".join("?" for _ in types)
    with db.transaction(write=False) as tx:
        rows = tx.execute(
            f"SELECT SUBSTR(occurred_on, 1, 4) AS year, COUNT(*) AS n FROM {db.table('view_events')}"
            f" WHERE type IN ({marks}) AND retracted_by IS NULL AND occurred_on IS NOT NULL"
            " GROUP BY SUBSTR(occurred_on, 1, 4) ORDER BY 1",
            types,
        ).fetchall()
    counts = {int(r["year"]): int(r["n"]) for r in rows}
    if not counts:
        return []
    return [{"year": y, "count": counts.get(y, 0)} for y in range(min(counts), max(counts) + 1)]


def list_countries(db: Db) -> list[str]:
    """The partners' country codes present in the register, each once."""
    with db.transaction(write=False) as tx:
        rows = tx.execute(
            f"SELECT DISTINCT partner_country FROM {db.table('view_partnerships')} ORDER BY partner_country"
        ).fetchall()
    return [r["partner_country"] for r in rows]


def name_key(name: str) -> str:
    """A partner's name as the duplicate check compares it: no case, no diacritics, single spaces."""
    return " ".join(fold_text(name).split())


def same_name_partnerships(db: Db, country: str, name: str, clock: Clock) -> list[dict[str, Any]]:
    """The partnerships with a partner in ``country`` whose name, or a former name, is ``name`` ignoring
    case, diacritics and extra spaces (a registration's possible duplicates), by name. Each Partnership
    carries ``matched_name``: the name of it that matched."""
    wanted = name_key(name)
    if not wanted or _unstorable(country, name):
        return []
    with db.transaction(write=False) as tx:
        rows = tx.execute(
            f"SELECT doc FROM {db.table('view_partnerships')} WHERE partner_country = ? ORDER BY sort_name, id",
            (country.upper(),),
        ).fetchall()
    found = []
    for row in rows:
        doc = json.loads(row["doc"])
        names = [doc["partner_name"], *doc.get("former_names", [])]
        matched = next((n for n in names if name_key(n) == wanted), None)
        if matched is not None:
            found.append({**_with_inactive(doc, clock), "matched_name": matched})
    return found


def partnership_names(db: Db, partnership_ids: list[str]) -> dict[str, str]:
    """Partner names by partnership id, for the ids given (unknown ids are left out)."""
    ids = sorted(i for i in set(partnership_ids) if not _unstorable(i))
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    with db.transaction(write=False) as tx:
        rows = tx.execute(f"SELECT id, doc FROM {db.table('view_partnerships')} WHERE id IN ({marks})", ids).fetchall()
    return {r["id"]: json.loads(r["doc"])["partner_name"] for r in rows}


def list_events_at(
    db: Db, partnership_id: str, *, as_of: BusinessDate | date | None, known_at: datetime | None
) -> list[dict[str, Any]] | None:
    """The partnership's events as the register showed them: recorded by ``known_at``, happened by ``as_of``
    (retractions count whenever made, as in :func:`partnership_at`), retracted ones marked as known then.
    Oldest first (by version); None when there were none."""
    kept = rows_as_of(rows_known_at(_event_rows(db, partnership_id), known_at), _day(as_of))
    effects = _effects(kept)
    retractions = {}
    for r in kept:
        if r["type"] == rules.RETRACTED:
            data = json.loads(r["data"])
            retractions[data["retracts"]] = (r["version"], data.get("reason"))
    out = []
    for r in kept:
        by, reason = retractions.get(r["version"], (None, None))
        out.append(_event({**r, "retracted_by": by, "retraction_reason": reason}, effects))
    return out or None


# --- the auditor's log: filtered, in either order, paged by position ---------------------------------


@dataclass(frozen=True)
class LogFilter:
    """Which log entries to show: each criterion given narrows the log (all of them at once).

    ``occurred_from``/``occurred_to`` take business dates: an entry dated with a month or a year counts when
    its period overlaps the range; a registration given no date matches no business-date range.
    ``recorded_from`` (inclusive) and ``recorded_until`` (exclusive) are moments (the caller turns the office's
    days into them).
    """

    partnership_id: str | None = None
    recorded_by: str | None = None
    type: str | None = None
    occurred_from: BusinessDate | None = None
    occurred_to: BusinessDate | None = None
    recorded_from: datetime | None = None
    recorded_until: datetime | None = None

    def sql(self) -> tuple[list[str], list[Any]]:
        """The criteria as SQL over ``view_events e`` (every value bound as a parameter)."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("e.partnership_id", self.partnership_id),
            ("e.recorded_by", self.recorded_by),
            ("e.type", self.type),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if self.occurred_from is not None:
            # the entry's period ends on or after the range's first day: compare at the entry's own precision
            where.append("e.occurred_on >= SUBSTR(?, 1, LENGTH(e.occurred_on))")
            params.append(self.occurred_from.first.isoformat())
        if self.occurred_to is not None:
            # its period starts on or before the range's last day ("2019-06" sorts before every day of June)
            where.append("e.occurred_on <= ?")
            params.append(self.occurred_to.last.isoformat())
        if self.recorded_from is not None:
            where.append("e.recorded_at >= ?")
            params.append(_utc_text(self.recorded_from))
        if self.recorded_until is not None:
            where.append("e.recorded_at < ?")
            params.append(_utc_text(self.recorded_until))
        return where, params

    @property
    def unstorable(self) -> bool:
        return _unstorable(self.partnership_id, self.recorded_by, self.type)


def _utc_text(moment: datetime) -> str:
    """A moment as ``recorded_at`` is stored (ISO 8601 in UTC), so that text order is time order."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "+00:00"


_LOG_COLUMNS = (
    "l.position, l.hash, e.partnership_id, e.version, e.type, e.occurred_on, e.recorded_at, e.recorded_by, e.data,"
    " e.retracted_by, e.retraction_reason"
)


def _log_rows(tx: Any, db: Db, where: list[str], params: list[Any], *, descending: bool, limit: int) -> list[Any]:
    t = db.table
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return tx.execute(
        f"SELECT {_LOG_COLUMNS} FROM {t('view_log')} l JOIN {t('view_events')} e"
        f" ON e.partnership_id = l.partnership_id AND e.version = l.version {clause}"
        f" ORDER BY l.position {'DESC' if descending else 'ASC'} LIMIT ?",
        [*params, limit],
    ).fetchall()


def _log_entry(row: dict[str, Any]) -> dict[str, Any]:
    """A LogEntry from a joined row (without the effect, which needs the partnership's whole history)."""
    return {**_event(row, {}), "position": row["position"], "hash": row["hash"]}


def search_log(
    db: Db, where: LogFilter, *, newest_first: bool = False, cursor: int | None = None, limit: int = 50
) -> dict[str, Any]:
    """One page of the filtered log, oldest or newest first, paged by position both ways (keyset).

    ``cursor`` is the position the page continues from (exclusive): oldest first, the page holds the entries
    after it; newest first, those before it; None starts at the log's start (or head). The answer:
    ``items``, ``total`` (entries matching), ``next`` (the cursor of the following page, or None),
    ``has_previous`` and ``previous`` (the cursor of the page before: None when that page is the first).
    """
    if where.unstorable:
        return {"items": [], "total": 0, "next": None, "has_previous": False, "previous": None}
    criteria, params = where.sql()
    forward, backward = ("<", ">") if newest_first else (">", "<")
    with db.transaction(write=False) as tx:
        page_where = [*criteria, f"l.position {forward} ?"] if cursor is not None else criteria
        page_params = [*params, cursor] if cursor is not None else params
        rows = _log_rows(tx, db, page_where, page_params, descending=newest_first, limit=limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
        first = rows[0]["position"] if rows else cursor
        earlier = []
        if first is not None:
            earlier = _log_rows(
                tx,
                db,
                [*criteria, f"l.position {backward} ?"],
                [*params, first],
                descending=not newest_first,
                limit=limit + 1,
            )
        clause = f"WHERE {' AND '.join(criteria)}" if criteria else ""
        total = tx.scalar(f"SELECT COUNT(*) FROM {db.table('view_events')} e {clause}", params)
    return {
        "items": [_log_entry(r) for r in rows],
        "total": int(total or 0),
        "next": rows[-1]["position"] if more else None,
        "has_previous": bool(earlier),
        "previous": earlier[limit]["position"] if len(earlier) > limit else None,
    }


def iter_log(db: Db, where: LogFilter, *, newest_first: bool = False, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every entry the filter matches, up to the head as it is when the iteration starts, in batches
    (one short read at a time, so memory stays flat however long the log)."""
    if where.unstorable:
        return
    criteria, params = where.sql()
    top = head(db)["position"]
    cursor = (top + 1) if newest_first else 0
    while True:
        step = "<" if newest_first else ">"
        with db.transaction(write=False) as tx:
            rows = _log_rows(
                tx,
                db,
                [*criteria, f"l.position {step} ?", "l.position <= ?"],
                [*params, cursor, top],
                descending=newest_first,
                limit=batch,
            )
        yield from (_log_entry(r) for r in rows)
        if len(rows) < batch:
            return
        cursor = rows[-1]["position"]


def log_partnerships(db: Db) -> list[tuple[str, str]]:
    """(id, partner's current name) of every partnership, by name: the log filter's choices."""
    with db.transaction(write=False) as tx:
        rows = tx.execute(f"SELECT id, doc FROM {db.table('view_partnerships')} ORDER BY sort_name, id").fetchall()
    return [(r["id"], json.loads(r["doc"])["partner_name"]) for r in rows]


def log_recorders(db: Db) -> list[str]:
    """Everyone who has recorded an entry (``system`` for the jobs), each once, by name."""
    with db.transaction(write=False) as tx:
        rows = tx.execute(f"SELECT DISTINCT recorded_by FROM {db.table('view_events')} ORDER BY recorded_by").fetchall()
    return [r["recorded_by"] for r in rows]
