"""Shared pieces of the benchmark suite: timing, stores in temporary folders, the raw sqlite3 baseline, output."""

from __future__ import annotations

import os
import platform
import secrets
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from application.config import Config
from application.services import Services, build_services
from domain.partnership import Partnership
from projections import inline

#: The "today" every command of the suite runs with (a fixed date keeps runs comparable).
TODAY = date(2025, 6, 2)
OCCURRED_ON = date(2025, 6, 1)
RECORDED_BY = "bench"
#: The text of a note: with the event's envelope it gives a ~200-byte JSON state, like the raw baseline's blob.
NOTE_TEXT = "Delegation visit planned; both schools confirmed."


# --- timing ----------------------------------------------------------------------------


class Stopwatch:
    """Accumulates the time spent inside ``with watch:`` blocks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._start


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def repeats(default: int) -> int:
    """How many repeats: ``BENCH_REPEATS`` when set, never fewer than 3 (every figure is a median)."""
    return max(3, int(os.environ.get("BENCH_REPEATS") or default))


def rotated(items: Sequence[Any], shift: int) -> list[Any]:
    """``items`` rotated left by ``shift``: each contender takes every position in turn."""
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


@dataclass
class Series:
    """One contender's figure over the repeats (events per second)."""

    name: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return median(self.values)

    def spread(self) -> str:
        return f"{min(self.values):,.0f}–{max(self.values):,.0f}"


# --- stores --------------------------------------------------------------------------------


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder (under ``$TMPDIR``, like every file of the suite), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-") as name:
        yield Path(name)


def pg_url() -> str | None:
    """``BENCH_DATABASE_URL`` when it names a PostgreSQL server: the suite then runs there, not on SQLite."""
    url = os.environ.get("BENCH_DATABASE_URL") or ""
    return url if url.startswith(("postgresql://", "postgres://")) else None


def backend() -> str:
    return "postgres" if pg_url() else "sqlite"


def pg_connect(schema: str | None = None, **kwargs: Any) -> Any:
    """A plain psycopg connection to the ``BENCH_DATABASE_URL`` server (``search_path`` set to ``schema``)."""
    import psycopg

    url = pg_url()
    assert url, "BENCH_DATABASE_URL is not a postgresql:// URL"
    base = url.split("?", 1)[0]
    options = {"options": f"-c search_path={schema}"} if schema else {}
    return psycopg.connect(base, **options, **kwargs)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh schema ``bench_<hex>`` on the PostgreSQL server, dropped with everything in it afterwards."""
    name = f"bench_{secrets.token_hex(6)}"
    with pg_connect(autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with pg_connect(autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def database_for(path: Path, schema: str | None) -> str:
    """``TRACKER_DATABASE`` of a store: the SQLite file ``path``, or the server's URL with ``?schema=``."""
    if schema is None:
        return str(path)
    url = pg_url()
    assert url
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


@contextmanager
def services_at(path: Path, *, schema: str | None = None) -> Iterator[Services]:
    """The application's composition (tracker, projection, db) on an SQLite file (or a PostgreSQL schema)."""
    services = build_services(Config(database=database_for(path, schema), fixed_today=TODAY, secret_key="bench"))
    try:
        yield services
    finally:
        services.close()


@contextmanager
def store(path: Path) -> Iterator[Services]:
    """A fresh store: the SQLite file ``path``, or with ``BENCH_DATABASE_URL`` a fresh PostgreSQL schema."""
    if pg_url() is None:
        with services_at(path) as services:
            yield services
        return
    with pg_schema() as schema, services_at(path, schema=schema) as services:
        yield services


def schema_of(services: Services) -> str | None:
    """The PostgreSQL schema of a store (None on SQLite)."""
    return services.db.datastore.schema if services.db.dialect == "postgres" else None


def new_partnership(
    index: int, partnership_id: UUID | None = None, occurred_on: date = date(2024, 1, 1)
) -> Partnership:
    return Partnership.register(
        partnership_id or uuid4(),
        recorded_by=RECORDED_BY,
        today=TODAY,
        partner_name=f"Partner town {index:06d}",
        partner_country=("DE", "FR", "IT", "LT", "UA", "CZ")[index % 6],
        partner_kind="municipality",
        local_party="Powiat Benchmarkowy",
        areas=["education", "culture"],
        description="A partnership registered by the benchmark suite.",
        occurred_on=occurred_on,
    )


def register_partnerships(services: Services, count: int, batch: int = 250) -> list[UUID]:
    """Register ``count`` partnerships, ``batch`` per transaction; returns their ids."""
    ids: list[UUID] = []
    for start in range(0, count, batch):
        aggregates = [new_partnership(i) for i in range(start, min(count, start + batch))]
        services.tracker.save(*aggregates)
        ids.extend(a.id for a in aggregates)
    return ids


#: The events appended when building a log to rebuild: a realistic mix, each allowed in any live status.
EVENT_MIX: tuple[tuple[str, dict[str, Any]], ...] = (
    ("letter_of_intent_signed", {"signatories": ["Starosta", "Burgermeister"]}),
    ("note_added", {"text": NOTE_TEXT}),
    ("school_joined", {"school_name": "Liceum Ogólnokształcące nr 1", "side": "local", "town": "Piaseczno"}),
    ("activity_held", {"activity_kind": "visit", "title": "Study visit of the partner's delegation"}),
    ("agreement_signed", {"agreement_kind": "cooperation", "parties": None, "areas": ["education", "sport"]}),
    ("note_added", {"text": NOTE_TEXT}),
    ("activity_held", {"activity_kind": "conference", "title": "Joint conference on vocational education"}),
    ("school_joined", {"school_name": "Gymnasium am Stadtpark", "side": "partner", "town": None}),
)


def build_log(services: Services, events: int, per_partnership: int, batch: int = 250) -> int:
    """Fill the store with about ``events`` events: registrations, then rounds of one event per partnership.

    Rounds interleave the partnerships in the log as real use does (a batch of notifications touches many
    partnerships); ``batch`` aggregates are saved per transaction. Returns the number of events written.
    """
    partnerships = max(1, events // per_partnership)
    aggregates = [new_partnership(i) for i in range(partnerships)]
    for start in range(0, partnerships, batch):
        services.tracker.save(*aggregates[start : start + batch])
    written = partnerships
    round_no = 0
    while written < events:
        event_type, fields = EVENT_MIX[round_no % len(EVENT_MIX)]
        round_no += 1
        chunk: list[Partnership] = []
        for aggregate in aggregates:
            if written >= events:
                break
            aggregate.record(event_type, {"occurred_on": OCCURRED_ON, **fields}, recorded_by=RECORDED_BY, today=TODAY)
            chunk.append(aggregate)
            written += 1
            if len(chunk) == batch:
                services.tracker.save(*chunk)
                chunk = []
        if chunk:
            services.tracker.save(*chunk)
    return written


# --- the raw sqlite3 baseline --------------------------------------------------------------

RAW_TOPIC = "domain.partnership:Partnership.NoteAdded"


def raw_connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the library's durability: WAL journal, synchronous FULL, autocommit off."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT,"
        " state BLOB, PRIMARY KEY (originator_id, originator_version))"
    )
    return conn


def average_state_bytes(path: Path, topic: str = RAW_TOPIC) -> float:
    """The average size of the stored ``state`` of events of ``topic`` in an SQLite file."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT avg(length(state)) FROM stored_events WHERE topic = ?", (topic,)).fetchone()
    finally:
        conn.close()
    return float(row[0] or 0)


# --- output ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "tmpdir": tempfile.gettempdir(),
        "backend": backend(),
    }


def python_version() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}"


def say(text: str = "") -> None:
    print(text, flush=True)


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)), line]
    for r in rows:
        out.append(
            "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
    return "\n".join(out)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def eventsourcing_version() -> str:
    from importlib.metadata import version

    return version("eventsourcing")


# --- the register: many live partnerships (for the list read and the inactivity scan) ----------------------

#: When the letters of intent of the register were signed: recent (live), or long ago (quiet: flagged by a scan).
RECENT_ON = date(2025, 5, 1)
LONG_AGO_ON = date(2024, 1, 2)


class StoredWriter:
    """Writes stored events straight through the application's mapper and recorder (no commands, no rules):
    ``recorder.insert_events`` of up to ``batch`` events per call, one transaction each, with the read models
    detached (they are built afterwards, by the bulk rebuild, or left to the caller).

    Each partnership's events are the stored form of a template aggregate's, with its own id and name: the
    mapper runs once per template, not once per event. This writes a log of a million events in about a
    minute, where commands (the rules, the aggregate, the views per write) take an hour.
    """

    def __init__(self, services: Services, *, per_partnership: int = 10, batch: int = 50_000) -> None:
        self.services, self.per_partnership, self.batch = services, per_partnership, batch
        mapper = services.tracker.mapper
        self.registrations: list[StoredEvent] = []
        for k in range(6):  # new_partnership cycles six countries
            (registered,) = new_partnership(k).collect_events()
            self.registrations.append(mapper.to_stored_event(registered))
        template = new_partnership(0)
        template.collect_events()
        self.rounds: list[StoredEvent] = []
        for n in range(per_partnership - 1):
            event_type, fields = EVENT_MIX[n % len(EVENT_MIX)]
            template.record(event_type, {"occurred_on": OCCURRED_ON, **fields}, recorded_by=RECORDED_BY, today=TODAY)
            (event,) = template.collect_events()
            self.rounds.append(mapper.to_stored_event(event))

    def registration(self, i: int, pid: UUID) -> StoredEvent:
        """Partnership ``i``'s registration (named as :func:`new_partnership` names it)."""
        reg = self.registrations[i % 6]
        state = reg.state.replace(b"Partner town %06d" % (i % 6), b"Partner town %06d" % i, 1)
        return StoredEvent(pid, 1, reg.topic, state)

    def _insert(self, batches: Iterator[list[StoredEvent]]) -> int:
        projection = self.services.projection
        attached = inline.detach(projection)
        written = 0
        try:
            for events in batches:
                self.services.tracker.recorder.insert_events(events)
                written += len(events)
        finally:
            if attached:
                inline.attach(projection)
        return written

    def write(self, events: int) -> int:
        """About ``events`` events (a multiple of ``per_partnership``): registrations, then rounds of one event
        per partnership (so a page of the log touches many partnerships, as in real use); how many."""
        partnerships = max(1, events // self.per_partnership)
        group = max(1, self.batch // self.per_partnership)

        def batches() -> Iterator[list[StoredEvent]]:
            for start in range(0, partnerships, group):
                members = range(start, min(partnerships, start + group))
                ids = [uuid4() for _ in members]
                batch = [self.registration(i, pid) for i, pid in zip(members, ids, strict=True)]
                for stored in self.rounds:
                    batch += [StoredEvent(pid, stored.originator_version, stored.topic, stored.state) for pid in ids]
                yield batch

        return self._insert(batches())

    def register(self, count: int, *, quiet: int = 0) -> int:
        """``count`` partnerships with a letter of intent each (status intent), the first ``quiet`` signed long
        ago; the events written."""
        mapper = self.services.tracker.mapper
        letters = {}
        for signed_on in (RECENT_ON, LONG_AGO_ON):
            template = new_partnership(0)
            template.collect_events()
            template.record(
                "letter_of_intent_signed",
                {"occurred_on": signed_on, "signatories": ["Starosta", "Burgermeister"]},
                recorded_by=RECORDED_BY,
                today=TODAY,
            )
            (event,) = template.collect_events()
            letters[signed_on] = mapper.to_stored_event(event)
        group = max(1, self.batch // 2)

        def batches() -> Iterator[list[StoredEvent]]:
            for start in range(0, count, group):
                members = range(start, min(count, start + group))
                ids = [uuid4() for _ in members]
                batch = [self.registration(i, pid) for i, pid in zip(members, ids, strict=True)]
                for i, pid in zip(members, ids, strict=True):
                    letter = letters[LONG_AGO_ON if i < quiet else RECENT_ON]
                    batch.append(StoredEvent(pid, 2, letter.topic, letter.state))
                yield batch

        return self._insert(batches())


def build_register(services: Services, count: int, *, quiet: int = 0) -> int:
    """Register ``count`` partnerships and sign a letter of intent for each (status intent); returns events written.

    The first ``quiet`` signed long ago (more than a year before ``TODAY``): the inactivity scan flags them.
    The events are written straight to the log (:class:`StoredWriter`), then the read models are built by the
    bulk rebuild (``tracker projections rebuild``'s path), which is tested to give what writing them through
    commands gives.
    """
    written = StoredWriter(services).register(count, quiet=quiet)
    services.projection.rebuild()
    return written


def build_history(services: Services, events: int) -> UUID:
    """One partnership with ``events`` events in all (the registration, then the realistic mix); returns its id."""
    aggregate = new_partnership(0)
    for n in range(events - 1):
        event_type, fields = EVENT_MIX[n % len(EVENT_MIX)]
        aggregate.record(event_type, {"occurred_on": OCCURRED_ON, **fields}, recorded_by=RECORDED_BY, today=TODAY)
        if len(aggregate.pending_events) >= 500:
            services.tracker.save(aggregate)
    services.tracker.save(aggregate)
    services.projection.catch_up()
    return aggregate.id
