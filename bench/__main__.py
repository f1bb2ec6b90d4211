"""Run the benchmark suite: a table while running, then one JSON line with every figure (the last line of stdout).

python -m bench            # full suite (a few minutes on 2 cores)
python -m bench --quick    # smaller sizes, a smoke run (< 30 s)
BENCH_EVENTS=200000 python -m bench   # a larger log for the rebuild
BENCH_DATABASE_URL=postgresql://user:pw@host/db python -m bench --quick   # the same suite on PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import time

from bench import appends, reads, rebuild, scan
from bench.common import (
    backend,
    build_register,
    eventsourcing_version,
    machine,
    python_version,
    say,
    store,
    table,
    temp_dir,
    timed,
)

#: The goals: (JSON key, what, comparison, goal). A figure is only judged here; it never fails the run.
GOALS = (
    ("read_history_ratio", "GET partnership: long history ÷ 5 events (ms)", "<=", 1.5),
    ("read_list_ratio", "GET list limit=50: big register ÷ 100 (ms)", "<=", 1.5),
    ("read_as_of_ratio", "GET partnership ?as_of ÷ current read (ms)", "<=", 5.0),
    ("scan_ratio", "inactivity scan, steady ÷ raw SQL (ms)", "<=", 3.0),
    ("append_ratio", "append end to end ÷ raw INSERT+COMMIT (ev/s)", ">=", 0.6),
    ("rebuild_ratio", "rebuild ÷ bare read, pages of 500 (ev/s)", ">=", 1.0),
    ("rebuild_reader_ratio", "rebuild ÷ NotificationLogReader (ev/s)", ">=", 1.0),
)

#: Partnerships of the register flagged by the first inactivity scan (they went quiet long ago).
QUIET = 100


def verdict(results: dict) -> list[dict]:
    rows, out = [], []
    for key, what, op, goal in GOALS:
        value = results.get(key)
        met = value is not None and (value <= goal if op == "<=" else value >= goal)
        rows.append((what, f"{op} {goal}", "-" if value is None else f"{value:.3f}", "met" if met else "NOT MET"))
        out.append({"figure": key, "goal": f"{op} {goal}", "value": value, "met": met})
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
    results.update(rebuild.run(rebuild.sizes(quick=args.quick)))
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
