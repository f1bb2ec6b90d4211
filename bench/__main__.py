"""Run the benchmark suite: a table while running, then one JSON line with every figure (the last line of stdout).

python -m bench            # full suite (a few minutes on 2 cores)
python -m bench --quick    # smaller sizes, a smoke run of every section
BENCH_EVENTS=200000 python -m bench   # the issue's rebuild size (default 20,000: see bench/README.md)
BENCH_MEMORY_EVENTS=1000000 python -m bench   # the issue's size for the rebuild's peak memory (default 50,000)
BENCH_DATABASE_URL=postgresql://user:pw@host/db python -m bench --quick   # the same suite on PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import time

from bench import appends, memory, reads, rebuild, scan, served, write_history
from bench.common import (
    backend,
    build_register,
    database_for,
    eventsourcing_version,
    machine,
    python_version,
    say,
    schema_of,
    store,
    table,
    temp_dir,
    timed,
)

#: The goals: (JSON key, what, comparison, goal). A figure is only judged here; it never fails the run.
#: ``what`` may name figures of the run in ``{}`` (see :func:`facts`). Issue 14's table comes first.
GOALS = (
    ("write_history_ratio", "write into a {write_history_events:,}-event partnership ÷ a new one (ms)", "<=", 1.5),
    ("append_ratio", "end-to-end record ÷ raw INSERT+COMMIT, one writer (ev/s)", ">=", 0.6),
    ("served_write_ratio", "served writes, 16 HTTP writers ÷ bare INSERT+COMMIT endpoint (writes/s)", ">=", 0.5),
    ("read_as_of_ratio", "GET ?as_of on {read_as_of_events:,} events ÷ current read (ms)", "<=", 3.0),
    ("rebuild_ratio", "rebuild of {rebuild_events:,} events ÷ domain-object read, pages of 500 (ev/s)", ">=", 1.0),
    ("memory_rebuild_ratio", "peak RSS, rebuild of {rebuild_big:,} ÷ {rebuild_small:,} events", "<=", 1.2),
    ("memory_serve_ratio", "peak RSS of serve, {serve_big:,} ÷ {serve_small:,} partnerships", "<=", 1.2),
    ("rebuild_reader_ratio", "rebuild ÷ NotificationLogReader (ev/s)", ">=", 1.0),
    ("read_history_ratio", "GET partnership: long history ÷ 5 events (ms)", "<=", 1.5),
    ("read_list_ratio", "GET list limit=50: big register ÷ 100 (ms)", "<=", 1.5),
    ("scan_ratio", "inactivity scan, steady ÷ raw SQL (ms)", "<=", 3.0),
)


def facts(results: dict) -> dict:
    """The sizes the goals' descriptions name (0 when a section did not run)."""
    memory_events = results.get("memory_rebuild_events") or {}
    serve = results.get("memory_serve_partnerships") or {}
    return {
        "write_history_events": results.get("write_history_events", 0),
        "read_as_of_events": results.get("read_as_of_events", 0),
        "rebuild_events": results.get("rebuild_events", 0),
        "rebuild_big": memory_events.get("big", 0),
        "rebuild_small": memory_events.get("small", 0),
        "serve_big": serve.get("big", 0),
        "serve_small": serve.get("small", 0),
    }


#: Partnerships of the register flagged by the first inactivity scan (they went quiet long ago).
QUIET = 100


def verdict(results: dict) -> list[dict]:
    rows, out = [], []
    sizes = facts(results)
    for key, template, op, goal in GOALS:
        what = template.format_map(sizes)
        value = results.get(key)
        met = value is not None and (value <= goal if op == "<=" else value >= goal)
        rows.append((what, f"{op} {goal}", "-" if value is None else f"{value:.3f}", "met" if met else "NOT MET"))
        out.append({"figure": key, "what": what, "goal": f"{op} {goal}", "value": value, "met": met})
    say(f"== Verdict ({backend()})")
    say(table(rows, ("figure", "goal", "measured", "verdict")))
    say()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run of the whole suite")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    say(f"bench: {python_version()}, eventsourcing {eventsourcing_version()}, {machine()}")
    say()
    results: dict = {}
    results.update(appends.run(appends.sizes(quick=args.quick)))
    results.update(write_history.run(write_history.sizes(quick=args.quick)))
    results.update(served.run(served.sizes(quick=args.quick)))
    results.update(rebuild.run(rebuild.sizes(quick=args.quick)))
    memory_sizes = memory.sizes(quick=args.quick)
    results.update(memory.run_rebuild(memory_sizes))
    read_sizes = reads.sizes(quick=args.quick)
    with temp_dir("register") as folder, store(folder / "register.db") as register:
        seconds, events = timed(lambda: build_register(register, read_sizes.big, quiet=QUIET))
        say(
            f"== The register: {read_sizes.big:,} partnerships ({events:,} events, {QUIET} quiet) built in "
            f"{seconds:.1f} s, kept for the run (reads, then the inactivity scan)"
        )
        say()
        results["register_build_seconds"] = round(seconds, 1)
        results.update(reads.run(read_sizes, folder, register))
        results.update(scan.run(scan.sizes(quick=args.quick), register, read_sizes.big, QUIET))
        # the register once more, now served: its peak memory against a store of 1,000 partnerships
        register_database = database_for(folder / "register.db", schema_of(register))
        results.update(memory.run_serve(memory_sizes, register_database, read_sizes.big))
    results["verdict"] = verdict(results)
    results.update(
        quick=args.quick,
        python=python_version(),
        eventsourcing=eventsourcing_version(),
        backend=backend(),
        machine=machine(),
        wall_seconds=round(time.perf_counter() - started, 1),
    )
    say(f"bench: done in {results['wall_seconds']} s")
    print(json.dumps(results, sort_keys=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
