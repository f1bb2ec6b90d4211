"""Served writes: the real ``tracker serve`` against a bare endpoint on the same WSGI server, 1, 4 and 16 writers.

* ``tracker``: ``tracker serve --no-demo --no-jobs`` (waitress, 8 threads, as ``make run`` serves) on a fresh
  SQLite file, with an officer created by ``tracker users add``; each writer POSTs notes to
  ``/api/v1/partnerships/ID/events`` with its Bearer token, spread round-robin over a few hundred partnerships;
* ``bare`` (baseline): ``bench/bare_app.py`` under waitress with the same threads: the same POST, answered with
  one ``BEGIN IMMEDIATE; INSERT; COMMIT`` into an SQLite file of the same durability (WAL, ``synchronous=FULL``),
  or with ``BENCH_DATABASE_URL`` one ``INSERT ... RETURNING``; ``COMMIT`` into a table of the same PostgreSQL
  schema as the tracker's store.

Writers are threads of this process, each on its own keep-alive ``http.client`` connection. Each concurrency
level sends the same number of requests to both servers (split evenly over its writers); the two servers take
turns (the order rotates), and the figure is the median over repeats of writes/s and of the per-repeat ratio.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from bench.common import (
    NOTE_TEXT,
    OCCURRED_ON,
    Series,
    database_for,
    median,
    register_partnerships,
    repeats,
    rotated,
    say,
    schema_of,
    store,
    table,
    temp_dir,
)
from bench.servers import Client, add_user, bare_server, run_clients, tracker_server

LEVELS = (1, 4, 16)
CONTENDERS = ("bare", "tracker")
THREADS = 8  # tracker serve's default --threads; the bare server gets the same


@dataclass(frozen=True)
class ServedSizes:
    partnerships: int
    requests: int  # per concurrency level, per contender, per repeat (split over the writers)
    repeats: int


def sizes(*, quick: bool) -> ServedSizes:
    if quick:
        return ServedSizes(partnerships=64, requests=96, repeats=3)
    return ServedSizes(partnerships=256, requests=240, repeats=repeats(3))


def note(i: int) -> dict[str, Any]:
    return {"type": "note_added", "occurred_on": OCCURRED_ON.isoformat(), "text": f"{NOTE_TEXT} #{i}"}


class Target:
    """One server under load: its port, token and the partnership paths its writers spread over."""

    def __init__(self, port: int, token: str | None, paths: list[str]) -> None:
        self.port, self.token, self.paths = port, token, paths
        self.counter = itertools.count()
        self.sent = 0

    def write(self, writers: int, requests: int) -> float:
        """``requests`` POSTs by ``writers`` concurrent writers; the seconds they took together."""
        per_writer = requests // writers
        paths, counter = self.paths, self.counter

        def work(client: Client, _index: int) -> None:
            for _ in range(per_writer):
                i = next(counter)
                status, body = client.request("POST", paths[i % len(paths)], note(i))
                if status != 201:
                    raise RuntimeError(f"POST {paths[i % len(paths)]} answered {status}: {body[:300]!r}")

        seconds = run_clients(self.port, self.token, writers, work)
        self.sent += per_writer * writers
        return seconds


def run(sizes: ServedSizes) -> dict[str, Any]:
    say(
        f"== Served writes: tracker serve vs a bare INSERT+COMMIT endpoint (both waitress, {THREADS} threads), "
        f"{'/'.join(map(str, LEVELS))} writers, {sizes.requests} POSTs per level over {sizes.partnerships} "
        f"partnerships, interleaved, {sizes.repeats} repeats"
    )
    series = {(name, level): Series(f"{name}-{level}") for name in CONTENDERS for level in LEVELS}
    ratios: dict[int, list[float]] = {level: [] for level in LEVELS}
    with temp_dir("served") as folder, store(folder / "events.db") as services:
        ids = register_partnerships(services, sizes.partnerships)
        database = database_for(folder / "events.db", schema_of(services))
        token = add_user(database, "bench_writer", "officer", cwd=folder)
        paths = [f"/api/v1/partnerships/{pid}/events" for pid in ids]
        with (
            tracker_server(database, folder, threads=THREADS) as tracker,
            bare_server(database_for(folder / "bare.db", schema_of(services)), folder, threads=THREADS) as bare,
        ):
            targets = {"tracker": Target(tracker.port, token, paths), "bare": Target(bare.port, None, paths)}
            for target in targets.values():  # warm up: connections, first requests, caches
                target.write(max(LEVELS), 2 * max(LEVELS))
            for repeat in range(sizes.repeats):
                line = []
                for k, level in enumerate(LEVELS):
                    rates = {}
                    for name in rotated(CONTENDERS, repeat + k):
                        seconds = targets[name].write(level, sizes.requests)
                        rates[name] = (sizes.requests // level) * level / seconds
                        series[(name, level)].values.append(rates[name])
                    ratios[level].append(rates["tracker"] / rates["bare"])
                    line.append(f"{level}: {rates['tracker']:,.0f} vs {rates['bare']:,.0f} ({ratios[level][-1]:.2f})")
                say(f"  repeat {repeat + 1}: writes/s tracker vs bare, by writers: " + ", ".join(line))
            health = Client(tracker.port, token)
            status, body = health.request("GET", "/api/v1/health")
            health.close()
            position = int(json.loads(body)["position"]) if status == 200 else -1
        expected = sizes.partnerships + targets["tracker"].sent
        assert position == expected, f"the log holds {position} events, {expected} were written"
    rows = []
    for level in LEVELS:
        t, b = series[("tracker", level)], series[("bare", level)]
        rows.append(
            (
                f"{level} writer{'s' if level > 1 else ''}",
                f"{t.median:,.0f}",
                t.spread(),
                f"{b.median:,.0f}",
                b.spread(),
                f"{median(ratios[level]):.3f}",
            )
        )
    say(table(rows, ("writers", "tracker writes/s", "min–max", "bare writes/s", "min–max", "ratio")))
    say("  (ratio = tracker ÷ bare writes/s, median over repeats of the per-repeat ratio; every answer was a 201)")
    say()
    return {
        "served_partnerships": sizes.partnerships,
        "served_requests_per_level": sizes.requests,
        "served_repeats": sizes.repeats,
        "served_threads": THREADS,
        "served_tracker_writes_per_s": {str(lv): round(series[("tracker", lv)].median, 1) for lv in LEVELS},
        "served_bare_writes_per_s": {str(lv): round(series[("bare", lv)].median, 1) for lv in LEVELS},
        "served_write_ratios": {str(lv): round(median(ratios[lv]), 4) for lv in LEVELS},
        "served_write_ratio": round(median(ratios[max(LEVELS)]), 4),
    }
