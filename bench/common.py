"""Shared pieces of the benchmark suite: timing, stores in temporary folders, the raw sqlite3 baseline, output."""

from __future__ import annotations

import os
import platform
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

from domain.partnership import Partnership
from web.config import Config
from web.services import Services, build_services

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


@contextmanager
def services_at(path: Path) -> Iterator[Services]:
    """The application's composition (tracker, projection, db) on an SQLite file, closed afterwards."""
    services = build_services(Config(database=str(path), fixed_today=TODAY))
    try:
        yield services
    finally:
        services.close()


def new_partnership(index: int, partnership_id: UUID | None = None) -> Partnership:
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
        occurred_on=date(2024, 1, 1),
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
