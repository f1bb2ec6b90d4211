"""Run the benchmark suite: a table while running, then one JSON line with every figure (the last line of stdout).

python -m bench            # full suite (a few minutes on 2 cores)
python -m bench --quick    # smaller sizes, a smoke run (< 30 s)
BENCH_EVENTS=200000 python -m bench   # a larger log for the rebuild
"""

from __future__ import annotations

import argparse
import json
import time

from bench import appends, rebuild
from bench.common import eventsourcing_version, machine, python_version, say


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
    results.update(
        quick=args.quick,
        python=python_version(),
        eventsourcing=eventsourcing_version(),
        machine=machine(),
        wall_seconds=round(time.perf_counter() - started, 1),
    )
    say(f"bench: done in {results['wall_seconds']} s")
    print(json.dumps(results, sort_keys=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
