"""Appends: one event recorded end to end through the Tracker, against a raw sqlite3 INSERT + COMMIT loop.

Three contenders, each on its own fresh SQLite file in the same temporary folder, are run in blocks that
alternate (raw, append only, end to end; the order rotates from block to block), so that all three share the
same stretches of machine noise:

* ``end_to_end``: ``services.record_event(...)``, what the API calls per write (load the partnership, check
  the rules, append, bring the read models up to the log: inside the write's transaction, or by a catch-up);
* ``append_only``: ``tracker.record_event(...)`` alone (the read models are left behind);
* ``raw``: ``BEGIN; INSERT INTO stored_events ...; COMMIT`` with ``sqlite3``, same journal (WAL) and
  durability (synchronous FULL), one transaction per row, a comparable row (id, version, topic, JSON state
  of the same size as the library's).

Writes are spread round-robin over a few hundred partnerships, registered (and projected) before timing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import (
    NOTE_TEXT,
    OCCURRED_ON,
    RAW_TOPIC,
    RECORDED_BY,
    TODAY,
    Series,
    Stopwatch,
    average_state_bytes,
    backend,
    median,
    pg_connect,
    rate,
    raw_connect,
    register_partnerships,
    repeats,
    rotated,
    say,
    schema_of,
    store,
    table,
    temp_dir,
)
from projections.inline import detach


@dataclass(frozen=True)
class AppendSizes:
    partnerships: int
    writes: int
    block: int
    repeats: int


def sizes(*, quick: bool) -> AppendSizes:
    if quick:
        return AppendSizes(partnerships=50, writes=300, block=50, repeats=repeats(3))
    return AppendSizes(partnerships=300, writes=2000, block=100, repeats=repeats(5))


CONTENDERS = ("raw", "append_only", "end_to_end")


def raw_state() -> bytes:
    """A JSON state shaped like the library's ``NoteAdded`` (same keys, same text, same size)."""
    return json.dumps(
        {
            "timestamp": {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()},
            "occurred_on": {"_type_": "date_iso", "_data_": OCCURRED_ON.isoformat()},
            "recorded_by": RECORDED_BY,
            "reference": None,
            "note": None,
            "text": NOTE_TEXT,
        },
        separators=(",", ":"),
    ).encode()


class RawWriter:
    """The baseline: one ``BEGIN; INSERT; COMMIT`` per row on a plain sqlite3 connection."""

    def __init__(self, path: Path, partnerships: int) -> None:
        self.conn = raw_connect(path)
        self.ids = [f"{i:032x}" for i in range(1, partnerships + 1)]
        self.versions = dict.fromkeys(self.ids, 1)
        self.conn.execute("BEGIN")
        self.conn.executemany(
            "INSERT INTO stored_events VALUES (?, 1, 'domain.partnership:Partnership.PartnershipRegistered', ?)",
            [(i, raw_state()) for i in self.ids],
        )
        self.conn.execute("COMMIT")
        self.done = 0

    def write(self, count: int) -> None:
        conn, ids, versions = self.conn, self.ids, self.versions
        for _ in range(count):
            originator_id = ids[self.done % len(ids)]
            self.done += 1
            version = versions[originator_id] + 1
            versions[originator_id] = version
            conn.execute("BEGIN")
            conn.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
                (originator_id, version, RAW_TOPIC, raw_state()),
            )
            conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class PgRawWriter(RawWriter):
    """The baseline on PostgreSQL: psycopg, one ``INSERT`` + ``COMMIT`` per row on a similar table."""

    def __init__(self, schema: str, partnerships: int) -> None:
        self.conn = pg_connect(schema)
        self.conn.execute(
            "CREATE TABLE raw_stored_events (originator_id uuid, originator_version integer, topic text,"
            " state bytea, PRIMARY KEY (originator_id, originator_version))"
        )
        self.ids = [f"{i:032x}" for i in range(1, partnerships + 1)]
        self.versions = dict.fromkeys(self.ids, 1)
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO raw_stored_events VALUES (%s, 1, 'Registered', %s)", [(i, raw_state()) for i in self.ids]
            )
        self.conn.commit()
        self.done = 0

    def write(self, count: int) -> None:
        conn, ids, versions = self.conn, self.ids, self.versions
        for _ in range(count):
            originator_id = ids[self.done % len(ids)]
            self.done += 1
            version = versions[originator_id] + 1
            versions[originator_id] = version
            conn.execute(
                "INSERT INTO raw_stored_events (originator_id, originator_version, topic, state)"
                " VALUES (%s, %s, %s, %s)",
                (originator_id, version, RAW_TOPIC, raw_state()),
            )
            conn.commit()


class TrackerWriter:
    """Writes per partnership, round-robin: through the front door (``Services.record_event``, views included),
    or with ``catch_up=False`` the tracker's command alone with the views detached (append only)."""

    def __init__(self, services: Any, partnerships: int, *, catch_up: bool) -> None:
        self.services = services
        self.catch_up = catch_up
        if not catch_up:
            detach(services.projection)  # SQLite: no views written inline either, truly append only
        self.ids = register_partnerships(services, partnerships)
        services.projection.catch_up()
        self.done = 0

    def write(self, count: int) -> None:
        services, tracker = self.services, self.services.tracker
        fields = {"occurred_on": OCCURRED_ON, "text": NOTE_TEXT}
        for _ in range(count):
            pid = self.ids[self.done % len(self.ids)]
            self.done += 1
            if self.catch_up:  # the front door, as the API calls it: the command, then the views up to it
                services.record_event(pid, "note_added", fields, user=RECORDED_BY)
            else:
                tracker.record_event(pid, "note_added", fields, recorded_by=RECORDED_BY, today=TODAY)


def one_repeat(sizes: AppendSizes, repeat: int) -> tuple[dict[str, float], dict[str, float]]:
    """One repeat on fresh files: every contender writes ``sizes.writes`` rows, block by block, interleaved."""
    with temp_dir("appends") as folder:
        postgres = backend() == "postgres"
        with (
            store(folder / "append_only.db") as s_append,
            store(folder / "end_to_end.db") as s_e2e,
        ):
            raw = (
                PgRawWriter(schema_of(s_e2e), sizes.partnerships)
                if postgres
                else RawWriter(folder / "raw.db", sizes.partnerships)
            )
            writers = {
                "raw": raw,
                "append_only": TrackerWriter(s_append, sizes.partnerships, catch_up=False),
                "end_to_end": TrackerWriter(s_e2e, sizes.partnerships, catch_up=True),
            }
            watches = {name: Stopwatch() for name in CONTENDERS}
            blocks = range(0, sizes.writes, sizes.block)
            for b, start in enumerate(blocks):
                count = min(sizes.block, sizes.writes - start)
                for name in rotated(CONTENDERS, repeat + b):
                    with watches[name]:
                        writers[name].write(count)
            # the append-only store's read models are behind: check they catch up to the same place
            behind = s_append.projection.catch_up()
            assert behind == sizes.writes, (behind, sizes.writes)
            assert s_e2e.projection.position == s_e2e.tracker.recorder.max_notification_id()
            raw.close()
        row_bytes = {"library": 0.0, "raw": 0.0}
        if not postgres:
            row_bytes = {
                "library": average_state_bytes(folder / "end_to_end.db"),
                "raw": average_state_bytes(folder / "raw.db"),
            }
    return {name: rate(sizes.writes, watches[name].seconds) for name in CONTENDERS}, row_bytes


def run(sizes: AppendSizes) -> dict[str, Any]:
    say(
        f"== Appends: {sizes.writes:,} writes per repeat over {sizes.partnerships} partnerships, "
        f"blocks of {sizes.block} interleaved, {sizes.repeats} repeats"
    )
    series = {name: Series(name) for name in CONTENDERS}
    ratios: dict[str, list[float]] = {"append": [], "append_only": []}
    rows = []
    for repeat in range(sizes.repeats):
        rates, row_bytes = one_repeat(sizes, repeat)
        for name, value in rates.items():
            series[name].values.append(value)
        ratios["append"].append(rates["end_to_end"] / rates["raw"])
        ratios["append_only"].append(rates["append_only"] / rates["raw"])
        say(
            f"  repeat {repeat + 1}: raw {rates['raw']:,.0f} ev/s, append only {rates['append_only']:,.0f} ev/s, "
            f"end to end {rates['end_to_end']:,.0f} ev/s"
        )
    labels = {
        "raw": "raw psycopg INSERT + COMMIT"
        if backend() == "postgres"
        else "raw sqlite3 BEGIN/INSERT/COMMIT (WAL, sync FULL)",
        "append_only": "tracker.record_event",
        "end_to_end": "services.record_event (views included)",
    }
    for name in CONTENDERS:
        s = series[name]
        ratio = {"raw": "1.000", "append_only": "", "end_to_end": ""}[name]
        if name != "raw":
            key = "append" if name == "end_to_end" else "append_only"
            ratio = f"{median(ratios[key]):.3f}"
        rows.append((labels[name], f"{s.median:,.0f}", s.spread(), f"{1000 / s.median:.2f}", ratio))
    say(f"  stored state per event: library {row_bytes['library']:.0f} bytes, raw {row_bytes['raw']:.0f} bytes")
    say(table(rows, ("appends", "median ev/s", "min–max ev/s", "ms/event", "ratio vs raw")))
    say("  (ratio = median over repeats of the per-repeat ratio; > 1 would mean faster than raw)")
    say()
    return {
        "append_partnerships": sizes.partnerships,
        "append_writes": sizes.writes,
        "append_repeats": sizes.repeats,
        "append_end_to_end_per_s": round(series["end_to_end"].median, 1),
        "append_only_per_s": round(series["append_only"].median, 1),
        "raw_insert_commit_per_s": round(series["raw"].median, 1),
        "append_ratio": round(median(ratios["append"]), 4),
        "append_only_ratio": round(median(ratios["append_only"]), 4),
        "append_state_bytes": {k: round(v) for k, v in row_bytes.items()},
        "append_runs": {name: [round(v, 1) for v in series[name].values] for name in CONTENDERS},
    }
