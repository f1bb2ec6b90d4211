"""Reads: the API's GET answers should not grow with the partnership's history nor with the register's size.

Every figure is a latency ratio (ms per request of the contender ÷ ms per request of its baseline), both
measured through the Flask test client with a Bearer token, block by block, interleaved, median over repeats:

* ``history``: ``GET /api/v1/partnerships/ID`` on a partnership with ``long`` events vs one with 5 events;
* ``list``: ``GET /api/v1/partnerships?limit=50`` on a register of ``big`` partnerships vs one of ``small``;
* ``as_of``: ``GET /api/v1/partnerships/ID?as_of=...`` vs the current read, on a ``as_of_events``-event one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    OCCURRED_ON,
    Series,
    build_history,
    build_register,
    median,
    repeats,
    rotated,
    say,
    store,
    table,
    timed,
)
from web import create_app


@dataclass(frozen=True)
class ReadSizes:
    long: int
    short: int
    as_of_events: int
    big: int
    small: int
    requests: int
    blocks: int
    repeats: int


def sizes(*, quick: bool) -> ReadSizes:
    big = int(os.environ.get("BENCH_REGISTER") or (10_000 if quick else 100_000))
    if quick:
        return ReadSizes(long=500, short=5, as_of_events=300, big=big, small=100, requests=20, blocks=3, repeats=3)
    return ReadSizes(
        long=2000, short=5, as_of_events=1000, big=big, small=100, requests=40, blocks=5, repeats=repeats(5)
    )


class Api:
    """A test client over one store with an officer's Bearer token."""

    def __init__(self, services: Any) -> None:
        token = services.users.add("bench_reader", "officer")
        self.client = create_app(services=services).test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str) -> Any:
        response = self.client.get(url, headers=self.headers)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:200])
        return response.get_json()


def compare(
    contenders: dict[str, Callable[[], Any]], sizes: ReadSizes, repeat: int
) -> dict[str, float]:  # seconds per request
    """Run each contender ``sizes.requests`` times per block, blocks interleaved (order rotating)."""
    spent = dict.fromkeys(contenders, 0.0)
    for fn in contenders.values():  # warm up (caches, first-request setup)
        fn()
    for b in range(sizes.blocks):
        for name in rotated(list(contenders), repeat + b):
            fn = contenders[name]
            start = time.perf_counter()
            for _ in range(sizes.requests):
                fn()
            spent[name] += time.perf_counter() - start
    return {name: seconds / (sizes.requests * sizes.blocks) for name, seconds in spent.items()}


FIGURES = {
    # figure: (contender, baseline)
    "history": ("long", "short"),
    "list": ("big", "small"),
    "as_of": ("as_of", "current"),
}


def run(sizes: ReadSizes, folder: Path, register: Any) -> dict[str, Any]:
    """``register``: the services of the run's big register (built once, shared with the inactivity scan)."""
    say(
        f"== Reads through the API: {sizes.long:,} vs {sizes.short} events, register of {sizes.big:,} vs "
        f"{sizes.small} partnerships, as_of on {sizes.as_of_events:,} events; {sizes.requests} requests x "
        f"{sizes.blocks} blocks interleaved, {sizes.repeats} repeats"
    )
    with store(folder / "history.db") as s_hist, store(folder / "small.db") as s_small:
        build_register(s_small, sizes.small)
        ids, seconds = {}, 0.0
        for key, events in (("long", sizes.long), ("short", sizes.short), ("as_of", sizes.as_of_events)):
            spent, ids[key] = timed(lambda events=events: build_history(s_hist, events))
            seconds += spent
        say(f"  built the histories in {seconds:.1f} s")
        hist, small, big = Api(s_hist), Api(s_small), Api(register)
        as_of = OCCURRED_ON.isoformat()
        contenders = {
            "long": lambda: hist.get(f"/api/v1/partnerships/{ids['long']}"),
            "short": lambda: hist.get(f"/api/v1/partnerships/{ids['short']}"),
            "big": lambda: big.get("/api/v1/partnerships?limit=50"),
            "small": lambda: small.get("/api/v1/partnerships?limit=50"),
            "as_of": lambda: hist.get(f"/api/v1/partnerships/{ids['as_of']}?as_of={as_of}"),
            "current": lambda: hist.get(f"/api/v1/partnerships/{ids['as_of']}"),
        }
        assert contenders["as_of"]() == contenders["current"](), "as_of today should read as the current document"
        assert contenders["big"]()["total"] == sizes.big and len(contenders["small"]()["items"]) == 50
        series = {name: Series(name) for name in contenders}
        ratios: dict[str, list[float]] = {figure: [] for figure in FIGURES}
        for repeat in range(sizes.repeats):
            per_request = {}
            for figure, (a, b) in FIGURES.items():
                per_request.update(compare({a: contenders[a], b: contenders[b]}, sizes, repeat))
                ratios[figure].append(per_request[a] / per_request[b])
            for name, value in per_request.items():
                series[name].values.append(value * 1000)
            say(
                f"  repeat {repeat + 1}: "
                + ", ".join(f"{f} {ratios[f][-1]:.2f}" for f in FIGURES)
                + " (ratios of ms per request)"
            )
    labels = {
        "long": f"GET /partnerships/ID, {sizes.long:,} events",
        "short": f"GET /partnerships/ID, {sizes.short} events",
        "big": f"GET /partnerships?limit=50, {sizes.big:,} partnerships",
        "small": f"GET /partnerships?limit=50, {sizes.small} partnerships",
        "as_of": f"GET /partnerships/ID?as_of=, {sizes.as_of_events:,} events",
        "current": f"GET /partnerships/ID, {sizes.as_of_events:,} events",
    }
    rows = []
    for figure, (a, b) in FIGURES.items():
        for name in (a, b):
            s = series[name]
            ratio = f"{median(ratios[figure]):.2f}" if name == a else "1.00"
            rows.append((labels[name], f"{s.median:.2f}", f"{min(s.values):.2f}–{max(s.values):.2f}", ratio))
    say(table(rows, ("read", "median ms/request", "min–max ms", "ratio vs baseline")))
    say("  (ratio = contender ms ÷ baseline ms, median over repeats of the per-repeat ratio; 1 = flat)")
    say()
    return {
        "read_history_events": sizes.long,
        "read_register_partnerships": sizes.big,
        "read_as_of_events": sizes.as_of_events,
        "read_repeats": sizes.repeats,
        "read_ms": {name: round(series[name].median, 3) for name in series},
        "read_history_ratio": round(median(ratios["history"]), 3),
        "read_list_ratio": round(median(ratios["list"]), 3),
        "read_as_of_ratio": round(median(ratios["as_of"]), 3),
        "read_runs": {figure: [round(r, 3) for r in ratios[figure]] for figure in FIGURES},
    }
