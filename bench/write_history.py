"""A write into a long history: one end-to-end write into a 2,000-event partnership ÷ one into a new one.

Both contenders write through the application's front door, ``Services.record_event(pid, "note_added", ...)``
(``tracker.record_event`` then ``projection.catch_up()``: what the API does per write), into the same SQLite
file, in blocks that alternate (the order rotates), median over repeats:

* ``long``: every write goes to the one partnership that already holds ``history`` events (it grows by the
  writes of the run, a few percent);
* ``new``: every write goes to a different partnership holding only its registration.

The long history is built fast: its ``history - 1`` events are recorded on the aggregate in memory and saved in
one ``tracker.save`` (one transaction; the read models follow inline on SQLite, by catch-up elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from bench.common import (
    EVENT_MIX,
    NOTE_TEXT,
    OCCURRED_ON,
    RECORDED_BY,
    TODAY,
    Series,
    Stopwatch,
    median,
    new_partnership,
    register_partnerships,
    repeats,
    rotated,
    say,
    store,
    table,
    temp_dir,
    timed,
)

CONTENDERS = ("new", "long")


@dataclass(frozen=True)
class HistorySizes:
    history: int
    writes: int  # per contender per repeat
    block: int
    repeats: int


def sizes(*, quick: bool) -> HistorySizes:
    if quick:
        return HistorySizes(history=2000, writes=10, block=5, repeats=3)
    return HistorySizes(history=2000, writes=20, block=5, repeats=repeats(5))


def build_long(services: Any, events: int) -> UUID:
    """One partnership with ``events`` events (registration, then the realistic mix), saved in one transaction."""
    aggregate = new_partnership(10**6)
    for n in range(events - 1):
        event_type, fields = EVENT_MIX[n % len(EVENT_MIX)]
        aggregate.record(event_type, {"occurred_on": OCCURRED_ON, **fields}, recorded_by=RECORDED_BY, today=TODAY)
    services.tracker.save(aggregate)
    services.projection.catch_up()
    return aggregate.id


def write(services: Any, pid: UUID) -> None:
    services.record_event(pid, "note_added", {"occurred_on": OCCURRED_ON, "text": NOTE_TEXT}, user=RECORDED_BY)


def run(sizes: HistorySizes) -> dict[str, Any]:
    say(
        f"== A write into a long history: Services.record_event into a {sizes.history:,}-event partnership vs into "
        f"new ones; {sizes.writes} writes each per repeat, blocks of {sizes.block} interleaved, {sizes.repeats} repeats"
    )
    series = {name: Series(name) for name in CONTENDERS}  # ms per write
    ratios: list[float] = []
    with temp_dir("history") as folder, store(folder / "events.db") as services:
        build_seconds, long_id = timed(lambda: build_long(services, sizes.history))
        fresh = iter(register_partnerships(services, sizes.writes * sizes.repeats + 1))
        services.projection.catch_up()
        say(f"  built the {sizes.history:,}-event partnership in {build_seconds:.1f} s (one save)")
        write(services, long_id)  # warm up both paths (first load, caches)
        write(services, next(fresh))
        targets = {"long": lambda: long_id, "new": lambda: next(fresh)}
        for repeat in range(sizes.repeats):
            watches = {name: Stopwatch() for name in CONTENDERS}
            for b, _ in enumerate(range(0, sizes.writes, sizes.block)):
                for name in rotated(CONTENDERS, repeat + b):
                    pids = [targets[name]() for _ in range(sizes.block)]
                    with watches[name]:
                        for pid in pids:
                            write(services, pid)
            ms = {name: 1000 * watches[name].seconds / sizes.writes for name in CONTENDERS}
            for name in CONTENDERS:
                series[name].values.append(ms[name])
            ratios.append(ms["long"] / ms["new"])
            say(f"  repeat {repeat + 1}: long {ms['long']:.1f} ms, new {ms['new']:.1f} ms per write ({ratios[-1]:.2f})")
        version = services.tracker.get_partnership(long_id).version
    rows = [
        (
            f"into a {sizes.history:,}-event partnership" if name == "long" else "into a new partnership",
            f"{series[name].median:.2f}",
            f"{min(series[name].values):.2f}–{max(series[name].values):.2f}",
            f"{median(ratios):.2f}" if name == "long" else "1.00",
        )
        for name in ("long", "new")
    ]
    say(table(rows, ("Services.record_event", "median ms/write", "min–max ms", "ratio vs new")))
    say(f"  (ratio = long ÷ new ms per write, median over repeats; the long one ended at version {version:,})")
    say()
    return {
        "write_history_events": sizes.history,
        "write_history_writes": sizes.writes,
        "write_history_repeats": sizes.repeats,
        "write_history_build_seconds": round(build_seconds, 1),
        "write_history_ms": {name: round(series[name].median, 3) for name in CONTENDERS},
        "write_history_ratio": round(median(ratios), 3),
        "write_history_runs": [round(r, 3) for r in ratios],
    }
