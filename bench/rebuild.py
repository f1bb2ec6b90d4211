"""Rebuild: a full projection rebuild against the library's bare read of the same events as domain objects.

The log is written once per run straight through the mapper and recorder (``bench.common.StoredWriter``:
registrations, then rounds of one event per partnership, so a page of notifications touches many
partnerships, as in real use) and its views built by a first rebuild. Each repeat then times, in an
order that alternates from repeat to repeat:

* ``rebuild``: ``projection.rebuild()``: empty the views, then replay the whole log into them (pages of
  500 notifications, each applied in one transaction with the tracking position);
* ``bare_read``: ``app.recorder.select_notifications(start, limit=500, inclusive_of_start=False)`` paged by the
  last id seen, and ``app.mapper.to_domain_event(n)`` for each: the floor any projection pays to see the log;
* ``reader``: the library's own ``NotificationLogReader(app.notification_log).read(start=1)`` (its default
  sections of 10), ``app.mapper.to_domain_event(n)`` for each: a second baseline, reported alongside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from eventsourcing.system import NotificationLogReader

from bench.common import (
    Series,
    Stopwatch,
    StoredWriter,
    median,
    rate,
    repeats,
    rotated,
    say,
    store,
    table,
    temp_dir,
    timed,
)

PAGE = 500


@dataclass(frozen=True)
class RebuildSizes:
    events: int
    per_partnership: int
    repeats: int


def sizes(*, quick: bool) -> RebuildSizes:
    default = 5_000 if quick else 20_000
    events = int(os.environ.get("BENCH_EVENTS") or default)
    per_partnership = int(os.environ.get("BENCH_EVENTS_PER_PARTNERSHIP") or 10)
    return RebuildSizes(events=events, per_partnership=per_partnership, repeats=repeats(3 if quick else 5))


def bare_read(app: Any) -> int:
    """Read the whole log as domain events, page by page; returns how many were read."""
    count, start = 0, 0
    select, to_domain_event = app.recorder.select_notifications, app.mapper.to_domain_event
    while True:
        notifications = select(start, limit=PAGE, inclusive_of_start=False)
        if not notifications:
            return count
        for n in notifications:
            to_domain_event(n)
        count += len(notifications)
        start = notifications[-1].id


def reader_read(app: Any) -> int:
    """Read the whole log as domain events through the library's notification-log reader; returns how many."""
    count, to_domain_event = 0, app.mapper.to_domain_event
    for n in NotificationLogReader(app.notification_log).read(start=1):
        to_domain_event(n)
        count += 1
    return count


CONTENDERS = ("bare_read", "reader", "rebuild")
READS = {"bare_read": bare_read, "reader": reader_read}


def run(sizes: RebuildSizes) -> dict[str, Any]:
    partnerships = max(1, sizes.events // sizes.per_partnership)
    say(
        f"== Rebuild: {sizes.events:,} events ({partnerships:,} partnerships, ~{sizes.per_partnership} events each,"
        f" interleaved), {sizes.repeats} repeats"
    )
    series = {name: Series(name) for name in CONTENDERS}
    ratios: list[float] = []
    reader_ratios: list[float] = []
    with temp_dir("rebuild") as folder, store(folder / "events.db") as services:
        writer = StoredWriter(services, per_partnership=sizes.per_partnership)
        build_seconds, written = timed(lambda: writer.write(sizes.events))
        first_seconds, built = timed(services.projection.rebuild)
        assert built == written, (built, written)
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        say(
            f"  wrote {written:,} events in {build_seconds:.1f} s ({rate(written, build_seconds):,.0f} ev/s, straight"
            f" to the log), first rebuild of the views {first_seconds:.1f} s; files {size_mb:.1f} MB"
        )
        for repeat in range(sizes.repeats):
            seconds = {}
            for name in rotated(CONTENDERS, repeat):
                watch = Stopwatch()
                with watch:
                    count = services.projection.rebuild() if name == "rebuild" else READS[name](services.tracker)
                assert count == written, (name, count, written)
                seconds[name] = watch.seconds
            for name in CONTENDERS:
                series[name].values.append(rate(written, seconds[name]))
            ratios.append(seconds["bare_read"] / seconds["rebuild"])
            reader_ratios.append(seconds["reader"] / seconds["rebuild"])
            say(
                f"  repeat {repeat + 1}: bare read {seconds['bare_read']:.2f} s, reader {seconds['reader']:.2f} s,"
                f" rebuild {seconds['rebuild']:.2f} s (ratio {ratios[-1]:.3f}, vs reader {reader_ratios[-1]:.3f})"
            )
    labels = {
        "bare_read": f"select_notifications(limit={PAGE}) + to_domain_event",
        "reader": "NotificationLogReader.read(start=1) + to_domain_event",
        "rebuild": "projection.rebuild()",
    }
    rows = []
    for name in CONTENDERS:
        s = series[name]
        ratio = {"bare_read": "1.000", "reader": f"{median(ratios) / median(reader_ratios):.3f}"}.get(name, "")
        if name == "rebuild":
            ratio = f"{median(ratios):.3f} (vs reader {median(reader_ratios):.3f})"
        rows.append((labels[name], f"{s.median:,.0f}", s.spread(), f"{written / s.median:.2f}", ratio))
    say(table(rows, ("rebuild", "median ev/s", "min–max ev/s", "seconds", "ratio vs bare read")))
    say("  (ratio = rebuild ev/s / bare read ev/s, median over repeats of the per-repeat ratio)")
    say()
    return {
        "rebuild_events": written,
        "rebuild_partnerships": partnerships,
        "rebuild_repeats": sizes.repeats,
        "rebuild_per_s": round(series["rebuild"].median, 1),
        "bare_read_per_s": round(series["bare_read"].median, 1),
        "reader_read_per_s": round(series["reader"].median, 1),
        "rebuild_ratio": round(median(ratios), 4),
        "rebuild_reader_ratio": round(median(reader_ratios), 4),
        "rebuild_seconds": round(written / series["rebuild"].median, 3),
        "build_per_s": round(rate(written, build_seconds), 1),
        "rebuild_runs": {name: [round(v, 1) for v in series[name].values] for name in CONTENDERS},
    }
