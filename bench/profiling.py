"""Where the time goes: cProfile of the end-to-end append and of a rebuild, plus time per SQL statement.

    python -m bench.profiling append [--writes 2000]
    python -m bench.profiling rebuild [--events 20000]
    python -m bench.profiling as_of [--events 1000]            # GET /partnerships/ID?as_of=..., 200 requests
    python -m bench.profiling list [--partnerships 100000]     # GET /partnerships?limit=50, 200 requests
    python -m bench.profiling scan [--partnerships 100000]     # scan_inactivity, steady state, 20 scans

Prints the top functions by own time and by cumulative time, then the projection's SQL statements by total
time (measured by wrapping ``infrastructure.store.Tx`` in this process only; the production code is untouched).
Figures under the profiler are slower than in ``python -m bench``: read the shares, not the rates.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.appends import TrackerWriter
from bench.common import OCCURRED_ON, TODAY, StoredWriter, build_history, build_register, say, services_at, temp_dir
from infrastructure import store


@contextmanager
def sql_timings() -> Iterator[dict[str, list[float]]]:
    """Time every ``Tx.execute`` / ``Tx.executemany`` by statement text (numbers and spaces collapsed)."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    original = store.Tx.execute, store.Tx.executemany

    def key(sql: str) -> str:
        return re.sub(r"\s+", " ", sql).strip()[:110]

    def execute(self: Any, sql: str, params: Any = ()) -> Any:
        start = time.perf_counter()
        try:
            return original[0](self, sql, params)
        finally:
            entry = totals[key(sql)]
            entry[0] += time.perf_counter() - start
            entry[1] += 1

    def executemany(self: Any, sql: str, rows: Any) -> None:
        start = time.perf_counter()
        try:
            original[1](self, sql, rows)
        finally:
            entry = totals[key(sql)]
            entry[0] += time.perf_counter() - start
            entry[1] += 1

    store.Tx.execute, store.Tx.executemany = execute, executemany  # type: ignore[method-assign]
    try:
        yield totals
    finally:
        store.Tx.execute, store.Tx.executemany = original  # type: ignore[method-assign]


def report(profile: cProfile.Profile, totals: dict[str, list[float]], wall: float, top: int) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        text = out.getvalue()
        say(f"--- top {top} by {order} ---")
        say(text[text.find("   ncalls") :].rstrip())
        say()
    say(f"--- projection SQL by total time (wall {wall:.2f} s under the profiler) ---")
    for sql, (seconds, calls) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:12]:
        say(f"{seconds:8.3f} s {100 * seconds / wall:5.1f}% {calls:7d} calls  {sql}")


def profiled(fn: Callable[[], Any], top: int) -> None:
    profile = cProfile.Profile()
    with sql_timings() as totals:
        start = time.perf_counter()
        profile.enable()
        fn()
        profile.disable()
        wall = time.perf_counter() - start
    report(profile, totals, wall, top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("append", "rebuild", "as_of", "list", "scan"))
    parser.add_argument("--writes", type=int, default=2000, help="append: writes (end to end)")
    parser.add_argument("--partnerships", type=int, help="append: written to (300); list, scan: register (100000)")
    parser.add_argument("--events", type=int, help="rebuild: events in the log (20000); as_of: history (1000)")
    parser.add_argument("--per-partnership", type=int, default=10, help="rebuild: events per partnership")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    with temp_dir("profile") as folder, services_at(folder / "events.db") as services:
        if args.what == "append":
            partnerships = args.partnerships or 300
            writer = TrackerWriter(services, partnerships, catch_up=True)
            say(f"profiling {args.writes} end-to-end appends over {partnerships} partnerships")
            profiled(lambda: writer.write(args.writes), args.top)
        elif args.what in ("as_of", "list"):
            from bench.reads import Api

            if args.what == "as_of":
                events = args.events or 1000
                url = f"/api/v1/partnerships/{build_history(services, events)}?as_of={OCCURRED_ON.isoformat()}"
            else:
                events = build_register(services, args.partnerships or 100_000)
                url = "/api/v1/partnerships?limit=50"
            api = Api(services)
            api.get(url)
            say(f"profiling 200 x GET {url} ({events} events in the store)")
            profiled(lambda: [api.get(url) for _ in range(200)], args.top)
        elif args.what == "scan":
            from application.jobs import scan_inactivity

            build_register(services, args.partnerships or 100_000, quiet=100)
            scan_inactivity(services, TODAY)
            say("profiling 20 steady-state inactivity scans (nothing left to flag)")
            profiled(lambda: [scan_inactivity(services, TODAY) for _ in range(20)], args.top)
        else:
            written = StoredWriter(services, per_partnership=args.per_partnership).write(args.events or 20_000)
            services.projection.rebuild()
            say(f"profiling projection.rebuild() of {written} events")
            profiled(services.projection.rebuild, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
