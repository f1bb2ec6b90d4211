"""Memory: peak resident set (RSS) of a served store and of a rebuild, against the same on a smaller store.

* ``serve``: ``tracker serve --no-demo --no-jobs`` (waitress, 8 threads) on the run's big register (``BENCH_REGISTER``
  partnerships, 100,000 by default) and on one of 1,000 partnerships, each under the same load: 8 keep-alive
  clients with an officer's Bearer token (made by ``tracker users add``) mixing list pages
  (``GET /api/v1/partnerships?limit=50&offset=<random>``), detail reads (``GET /api/v1/partnerships/ID``) and
  writes (``POST .../ID/events``, a note). The figure is the server's ``VmHWM`` (``/proc/PID/status``) after the
  load; each repeat starts a fresh server process of each store (order rotating); median over repeats.
* ``rebuild``: ``tracker projections rebuild`` run as a child process on a log of ``BENCH_MEMORY_EVENTS`` events
  and on one of a tenth of that; its peak RSS is its ``VmHWM`` sampled every 50 ms while it runs (the kernel's
  ``ru_maxrss`` is not used: across ``exec`` it keeps the forking bench process's resident set). The logs are
  written straight through the application's mapper and recorder (``recorder.insert_events`` of 50,000
  ``StoredEvent`` per transaction: registrations, then rounds of one event of the realistic mix per
  partnership, 10 events each; ``bench.common.StoredWriter``), with the read models left behind: the child
  (which does not catch up before a rebuild) builds them from nothing.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    NOTE_TEXT,
    OCCURRED_ON,
    StoredWriter,
    build_register,
    database_for,
    median,
    rate,
    rotated,
    say,
    schema_of,
    store,
    table,
    temp_dir,
    timed,
)
from bench.servers import TRACKER, Client, add_user, run_clients, tracker_env, tracker_server, wait_peak

SERVE_SMALL = 1_000
CLIENTS = 8
PAGE = 50


@dataclass(frozen=True)
class MemorySizes:
    serve_requests: int  # per client, per server process
    serve_repeats: int
    rebuild_big: int
    rebuild_small: int


def sizes(*, quick: bool) -> MemorySizes:
    big = int(os.environ.get("BENCH_MEMORY_EVENTS") or (10_000 if quick else 50_000))
    return MemorySizes(
        serve_requests=15 if quick else 30, serve_repeats=3, rebuild_big=big, rebuild_small=max(1, big // 10)
    )


# --- serve -----------------------------------------------------------------------------------------------


def serve_load(port: int, token: str, total: int, requests: int, seed: int) -> None:
    """``CLIENTS`` clients, ``requests`` each, a third each of list pages, detail reads and writes."""
    seeder = Client(port, token)
    ids: list[str] = []
    for offset in {0, max(0, total // 3 - PAGE), max(0, 2 * total // 3 - PAGE), max(0, total - PAGE)}:
        status, body = seeder.request("GET", f"/api/v1/partnerships?limit={PAGE}&offset={offset}")
        assert status == 200, (status, body[:300])
        ids += [item["id"] for item in json.loads(body)["items"]]
    seeder.close()
    assert ids, "the store has no partnerships"

    def work(client: Client, index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        for n in range(requests):
            kind = (n + index) % 3
            if kind == 0:
                path, body = f"/api/v1/partnerships?limit={PAGE}&offset={rng.randrange(max(1, total - PAGE))}", None
                method = "GET"
            elif kind == 1:
                method, path, body = "GET", f"/api/v1/partnerships/{rng.choice(ids)}", None
            else:
                method, path = "POST", f"/api/v1/partnerships/{rng.choice(ids)}/events"
                body = {"type": "note_added", "occurred_on": OCCURRED_ON.isoformat(), "text": NOTE_TEXT}
            status, answer = client.request(method, path, body)
            if status not in (200, 201):
                raise RuntimeError(f"{method} {path} answered {status}: {answer[:300]!r}")

    run_clients(port, token, CLIENTS, work)


def run_serve(sizes: MemorySizes, big_database: str, big_count: int) -> dict[str, Any]:
    """``big_database``: the run's register (``big_count`` partnerships), served as it is after the reads."""
    say(
        f"== Memory of tracker serve: {big_count:,} vs {SERVE_SMALL:,} partnerships, {CLIENTS} clients x "
        f"{sizes.serve_requests} requests (list pages, detail reads, writes), fresh server per run, "
        f"{sizes.serve_repeats} repeats"
    )
    peaks: dict[str, list[int]] = {"big": [], "small": []}
    started: dict[str, list[int]] = {"big": [], "small": []}
    ratios: list[float] = []
    with ExitStack() as stack:
        folder = stack.enter_context(temp_dir("memory-serve"))
        small = stack.enter_context(store(folder / "small.db"))
        build_register(small, SERVE_SMALL)
        small_database = database_for(folder / "small.db", schema_of(small))
        stores = {"big": (big_database, big_count), "small": (small_database, SERVE_SMALL)}
        tokens = {name: add_user(db, "bench_memory", "officer", cwd=folder) for name, (db, _) in stores.items()}
        for repeat in range(sizes.serve_repeats):
            for name in rotated(list(stores), repeat):
                database, count = stores[name]
                with tracker_server(database, folder) as server:
                    started[name].append(server.memory()["VmHWM"])
                    serve_load(server.port, tokens[name], count, sizes.serve_requests, repeat)
                    peaks[name].append(server.memory()["VmHWM"])
            ratios.append(peaks["big"][-1] / peaks["small"][-1])
            say(
                f"  repeat {repeat + 1}: peak RSS {peaks['big'][-1] / 1024:.1f} MB vs {peaks['small'][-1] / 1024:.1f}"
                f" MB ({ratios[-1]:.3f}); after start {started['big'][-1] / 1024:.1f} vs "
                f"{started['small'][-1] / 1024:.1f} MB"
            )
    rows = [
        (
            f"tracker serve, {count:,} partnerships",
            f"{median(started[name]) / 1024:.1f}",
            f"{median(peaks[name]) / 1024:.1f}",
            f"{min(peaks[name]) / 1024:.1f}–{max(peaks[name]) / 1024:.1f}",
            f"{median(ratios):.3f}" if name == "big" else "1.000",
        )
        for name, (_, count) in stores.items()
    ]
    say(table(rows, ("server", "VmHWM after start MB", "VmHWM after load MB", "min–max MB", "ratio")))
    say("  (ratio = big ÷ small peak RSS, median over repeats of the per-repeat ratio; 1 = flat in store size)")
    say()
    return {
        "memory_serve_partnerships": {"big": big_count, "small": SERVE_SMALL},
        "memory_serve_requests": CLIENTS * sizes.serve_requests,
        "memory_serve_peak_mb": {name: round(median(peaks[name]) / 1024, 1) for name in peaks},
        "memory_serve_start_mb": {name: round(median(started[name]) / 1024, 1) for name in started},
        "memory_serve_ratio": round(median(ratios), 4),
    }


# --- rebuild ------------------------------------------------------------------------------------------------


def rebuild_child(database: str, folder: Path) -> tuple[float, int, str]:
    """``tracker projections rebuild`` in a child process: (seconds, peak RSS KiB, its output)."""
    out = folder / "rebuild.out"
    with out.open("wb") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(
            [str(TRACKER), "projections", "rebuild"],
            cwd=folder,
            env=tracker_env(database),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        code, peak = wait_peak(process)
        seconds = time.perf_counter() - start
    text = out.read_text(errors="replace").strip()
    if code != 0:
        raise RuntimeError(f"tracker projections rebuild exited {code}: {text[-500:]}")
    return seconds, peak, text


def run_rebuild(sizes: MemorySizes) -> dict[str, Any]:
    say(
        f"== Memory of a rebuild: `tracker projections rebuild` (child process) of {sizes.rebuild_big:,} vs "
        f"{sizes.rebuild_small:,} events (BENCH_MEMORY_EVENTS; the issue's size is 1,000,000), one run each"
    )
    figures: dict[str, dict[str, float]] = {}
    for name, events in (("small", sizes.rebuild_small), ("big", sizes.rebuild_big)):
        with temp_dir(f"memory-rebuild-{name}") as folder, store(folder / "events.db") as services:
            database = database_for(folder / "events.db", schema_of(services))
            write_seconds, written = timed(lambda events=events: StoredWriter(services).write(events))
            seconds, peak, output = rebuild_child(database, folder)
            assert str(written) in output, output
            figures[name] = {"events": written, "peak_kib": peak, "seconds": seconds}
            say(
                f"  {written:,} events: written (no views) in {write_seconds:.1f} s "
                f"({rate(written, write_seconds):,.0f} ev/s); child rebuild {seconds:.1f} s "
                f"({rate(written, seconds):,.0f} ev/s), peak RSS {peak / 1024:.1f} MB"
            )
    ratio = figures["big"]["peak_kib"] / figures["small"]["peak_kib"]
    rows = [
        (
            f"tracker projections rebuild, {int(figures[name]['events']):,} events",
            f"{figures[name]['seconds']:.1f}",
            f"{figures[name]['peak_kib'] / 1024:.1f}",
            f"{ratio:.3f}" if name == "big" else "1.000",
        )
        for name in ("big", "small")
    ]
    say(table(rows, ("child process", "seconds", "peak RSS MB", "ratio")))
    say("  (ratio = peak RSS of the big rebuild ÷ the small one's; 1 = flat in the number of events)")
    say()
    return {
        "memory_rebuild_events": {name: int(f["events"]) for name, f in figures.items()},
        "memory_rebuild_peak_mb": {name: round(f["peak_kib"] / 1024, 1) for name, f in figures.items()},
        "memory_rebuild_seconds": {name: round(f["seconds"], 1) for name, f in figures.items()},
        "memory_rebuild_ratio": round(ratio, 4),
    }
