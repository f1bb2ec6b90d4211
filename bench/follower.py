"""Follower: our projection follower thread against the library's ``ProjectionRunner``, on PostgreSQL.

Issue 10 asks whether ``eventsourcing.projection`` should replace the hand-written follower. Two contenders
keep the same read models (``projections/projection.py``: the log with its hash chain, the event lists, the
partnership list, areas, reminders):

* ``ours``: ``Services.follow()`` (application/services.py), a thread that LISTENs through
  ``tracker.recorder.subscribe()`` and calls ``projection.catch_up()``, which applies batches of up to 500
  notifications per transaction (views + tracking row in one commit). Views live with the events, as in
  production.
* ``library``: ``eventsourcing.projection.ProjectionRunner`` with a ``Projection`` subclass whose
  ``process_event`` runs our ``Projection.apply_batch`` for that one event and records the tracking row in the
  same transaction, on a ``PostgresTrackingRecorder`` view (``PostgresViewsRecorder`` plus our view DDL) in a
  schema of its own, constructed by the runner from the environment named after the projection: the library's
  intended set-up. The runner gives one event per call, so one transaction per event.

Measured (each figure pooled or a median over rounds whose order alternates):

* latency: a child process A appends through ``Tracker.record_event`` (no catch-up of its own); this process B
  runs one follower and notes when the view transaction holding each write has committed. Per write: B's
  commit time minus A's time after its ``save`` returned (one system-wide monotonic clock). "paced" writes are
  ~40 ms apart (each alone), "burst" writes are back to back (the follower is busy when the next one lands).
* catch-up: N events (default 20,000, built as ``bench.rebuild`` builds them: N/10 registrations, then rounds
  of one event per partnership) from position 0 into empty views: from starting the follower (ours:
  ``follow()``; library: constructing the runner, which builds its own application and view) until the tracking
  position reaches the last id. The library commits once per event, so its run is capped (``--cap``, default
  40 s, ~3,000 events here): its rate is over the prefix it reached, and ours is also timed on that prefix
  (when its batch holding the prefix's last event committed, which slightly favours the library), which gives
  the like-for-like ratio; ours' full-log rate is reported too. ``--cap 100000`` runs the library to the end.

Needs ``BENCH_DATABASE_URL=postgresql://...`` (``eval "$(bash .ci/pg-start.sh)"`` gives a throwaway cluster in
``TEST_DATABASE_URL``). Every schema it makes is dropped afterwards. Ratios are library ÷ ours; nothing is judged.

    BENCH_DATABASE_URL=$TEST_DATABASE_URL .venv/bin/python -m bench.follower [--quick] [--events N] [--writes N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.projection import Projection as LibraryProjection
from eventsourcing.projection import ProjectionRunner
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment
from psycopg.sql import SQL

from application.config import Config
from application.services import Services, build_services
from bench.common import (
    NOTE_TEXT,
    OCCURRED_ON,
    RECORDED_BY,
    TODAY,
    Series,
    build_log,
    database_for,
    eventsourcing_version,
    machine,
    median,
    pg_connect,
    pg_schema,
    pg_url,
    python_version,
    rate,
    register_partnerships,
    repeats,
    rotated,
    say,
    table,
    temp_dir,
    timed,
)
from domain.tracker import Tracker
from infrastructure.store import Db
from projections.projection import PROJECTION_LOCK, VIEW_TABLES, PostgresViewsRecorder, ddl
from projections.projection import Projection as OurProjection

CONTENDERS = ("ours", "library")
#: The library projection's name: its env prefix (``BENCHLIBVIEWS_POSTGRES_SCHEMA``) and its tracking table.
LIBRARY_NAME = "benchlibviews"
#: Paced writes: this many seconds apart, plus up to ``JITTER`` (seeded).
GAP, JITTER = 0.030, 0.020
#: Partnerships the latency writers spread their writes over.
LATENCY_PARTNERSHIPS = 50
#: How often the waiting loops look at a tracking position (seconds).
POLL = 0.01


def clock() -> float:
    """CLOCK_MONOTONIC: system-wide on Linux, so times taken in two processes compare."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


@dataclass(frozen=True)
class FollowerSizes:
    events: int
    writes: int  # per contender and per mode (paced, burst), over all rounds
    rounds: int
    repeats: int
    timeout: float  # seconds: the bound of every wait
    cap: float  # seconds: the library's catch-up stops there (its rate is then over the events it reached)


def sizes(
    *, quick: bool, events: int | None = None, writes: int | None = None, cap: float | None = None
) -> FollowerSizes:
    return FollowerSizes(
        events=events or int(os.environ.get("BENCH_FOLLOWER_EVENTS") or (2_000 if quick else 20_000)),
        writes=writes or (40 if quick else 200),
        rounds=2 if quick else 4,
        repeats=repeats(3),
        timeout=float(os.environ.get("BENCH_FOLLOWER_TIMEOUT") or 600),
        cap=cap or float(os.environ.get("BENCH_FOLLOWER_CAP") or 40),
    )


# --- the library contender -------------------------------------------------------------------


class LibraryViewsRecorder(PostgresViewsRecorder):
    """The view as the library intends it: a ``PostgresTrackingRecorder`` that also creates our view tables."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = self.datastore.schema
        self.sql_create_statements.extend(SQL(s) for s in ddl(lambda t: f'"{schema}".{t}'))  # type: ignore[arg-type]


class LibraryViews(LibraryProjection[LibraryViewsRecorder]):
    """One event per call (the runner's contract): our per-batch code with a batch of one, one transaction each."""

    name = LIBRARY_NAME
    topics = ()

    def __init__(self, view: LibraryViewsRecorder) -> None:
        super().__init__(view)
        self.db = Db(view)
        # apply_batch/refold only use .db; the app is needed by catch_up alone, which the runner replaces.
        self.views = OurProjection(SimpleNamespace(name=Tracker.name), self.db)  # type: ignore[arg-type]
        self.on_commit: Callable[[int], None] | None = None

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        with self.db.transaction(write=True) as tx:
            tx.lock(PROJECTION_LOCK)
            tx.insert_tracking(tracking)  # first: a duplicate fails before any view write
            self.views.apply_batch(tx, [domain_event], [tracking.notification_id])
        if self.on_commit is not None:
            self.on_commit(tracking.notification_id)


def library_env(events_schema: str, views_schema: str) -> dict[str, str]:
    env = config_for(events_schema).eventsourcing_env()
    env[f"{LIBRARY_NAME.upper()}_POSTGRES_SCHEMA"] = views_schema
    return env


def library_runner(events_schema: str, views_schema: str) -> ProjectionRunner[Tracker, LibraryViewsRecorder]:
    return ProjectionRunner(
        application_class=Tracker,
        projection_class=LibraryViews,
        view_class=LibraryViewsRecorder,
        env=library_env(events_schema, views_schema),
    )


@contextmanager
def library_view(events_schema: str, views_schema: str) -> Iterator[LibraryViewsRecorder]:
    """The library view on its own (tables made, for clearing and checking), as the runner would build it."""
    env = Environment(LIBRARY_NAME, {**os.environ, **library_env(events_schema, views_schema)})
    factory = InfrastructureFactory.construct(env)
    try:
        yield factory.tracking_recorder(LibraryViewsRecorder)
    finally:
        factory.close()


# --- our contender ---------------------------------------------------------------------------


def config_for(schema: str) -> Config:
    return Config(database=database_for(Path("unused"), schema), fixed_today=TODAY, secret_key="bench")


def our_services(schema: str) -> Services:
    """The production composition (views beside the events), not caught up: ``follow()`` does that."""
    return build_services(config_for(schema), catch_up=False)


# --- helpers -----------------------------------------------------------------------------------


def clear_views(db: Db) -> None:
    """Empty the read models and forget the tracking position (TRUNCATE: no dead rows left to either contender)."""
    with db.transaction(write=True) as tx:
        tx.lock(PROJECTION_LOCK)
        tx.execute("TRUNCATE " + ", ".join(db.table(t) for t in VIEW_TABLES))
        tx.execute(f"DELETE FROM {db.tracking_table} WHERE application_name = ?", (Tracker.name,))


def wait_until(position: Callable[[], int | None], target: int, timeout: float, what: str) -> None:
    deadline = clock() + timeout
    while (position() or 0) < target:
        if clock() > deadline:
            raise TimeoutError(f"{what}: position {position()} did not reach {target} in {timeout:.0f} s")
        time.sleep(POLL)


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def views_digest(schema: str, tracking_table: str) -> dict[str, Any]:
    """Row counts of every view, the log's last hash and the tracking position: equal views give equal digests."""
    with pg_connect(schema) as conn:
        out: dict[str, Any] = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in VIEW_TABLES}
        row = conn.execute("SELECT hash FROM view_log ORDER BY position DESC LIMIT 1").fetchone()
        out["last_hash"] = row[0] if row else None
        out["list_md5"] = conn.execute(
            "SELECT md5(string_agg(id || status || version || doc, ',' ORDER BY id)) FROM view_partnerships"
        ).fetchone()[0]
        out["position"] = conn.execute(
            f"SELECT max(notification_id) FROM {tracking_table} WHERE application_name = %s", (Tracker.name,)
        ).fetchone()[0]
    return out


# --- process A: the writer ---------------------------------------------------------------------


def writer(database: str, pids: list[str], paced: int, burst: int, seed: int, conn: Any) -> None:
    """Append ``paced`` writes ~40 ms apart, then ``burst`` back to back; send [(mode, id, committed at)]."""
    try:
        tracker = Tracker(env=Config(database=database, fixed_today=TODAY).eventsourcing_env())
        rng, out = random.Random(seed), []
        try:
            for i in range(paced + burst):
                mode = "paced" if i < paced else "burst"
                if i == paced:
                    time.sleep(0.5)  # the paced tail settles first
                recorded = tracker.record_event(
                    UUID(pids[i % len(pids)]),
                    "note_added",
                    {"occurred_on": OCCURRED_ON, "text": NOTE_TEXT},
                    recorded_by=RECORDED_BY,
                    today=TODAY,
                )
                out.append((mode, recorded.notification_id, clock()))
                if mode == "paced":
                    time.sleep(GAP + rng.random() * JITTER)
        finally:
            tracker.close()
        conn.send(("ok", out))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run_writer(database: str, pids: list[str], paced: int, burst: int, seed: int, timeout: float) -> list[tuple]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=writer, args=(database, pids, paced, burst, seed, child), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise TimeoutError(f"writer gave no answer in {timeout:.0f} s")
        try:
            status, payload = parent.recv()
        except EOFError:
            status, payload = "error", f"the writer process ended without an answer (exit code {process.exitcode})"
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(5)
    if status != "ok":
        raise RuntimeError(f"writer failed:\n{payload}")
    return payload


# --- (a) latency ----------------------------------------------------------------------------


@contextmanager
def follower(name: str, events_schema: str, views_schema: str, timeout: float) -> Iterator[dict[int, float]]:
    """Start one contender, let it catch up with the log, then yield {notification id: view committed at}."""
    seen: dict[int, float] = {}
    if name == "ours":
        services = our_services(events_schema)
        apply = services.projection._apply  # noqa: SLF001

        def timed_apply(notifications: Any) -> int:
            count = apply(notifications)  # returns after the views' transaction committed
            now = clock()
            for n in notifications:
                seen.setdefault(n.id, now)
            return count

        services.projection._apply = timed_apply  # type: ignore[method-assign]  # noqa: SLF001
        try:
            services.follow()
            target = services.tracker.recorder.max_notification_id() or 0
            wait_until(lambda: services.projection.position, target, timeout, "ours (start)")
            yield seen
        finally:
            services.close()
        return
    with library_runner(events_schema, views_schema) as runner:
        target = runner.app.recorder.max_notification_id() or 0
        runner.projection.on_commit = lambda nid: seen.setdefault(nid, clock())
        wait_until(lambda: runner.view.max_tracking_id(Tracker.name), target, timeout, "library (start)")
        yield seen


def latency(sz: FollowerSizes) -> dict[str, Any]:
    per_round = max(1, sz.writes // sz.rounds)
    say(
        f"== Latency: write committed in process A -> views committed in process B; per contender"
        f" {per_round * sz.rounds} paced (~{(GAP + JITTER / 2) * 1000:.0f} ms apart) and {per_round * sz.rounds}"
        f" burst writes, over {sz.rounds} rounds"
    )
    modes = ("paced", "burst")
    samples: dict[str, dict[str, list[float]]] = {c: {m: [] for m in modes} for c in CONTENDERS}
    with pg_schema() as events_schema, pg_schema() as views_schema:
        with closing(our_services(events_schema)) as services:
            pids = [str(p) for p in register_partnerships(services, LATENCY_PARTNERSHIPS)]
            services.projection.catch_up()
        database = config_for(events_schema).database
        for round_no in range(sz.rounds):
            for name in rotated(CONTENDERS, round_no):
                with follower(name, events_schema, views_schema, sz.timeout) as seen:
                    writes = run_writer(database, pids, per_round, per_round, seed=round_no, timeout=sz.timeout)
                    last = max(nid for _, nid, _ in writes)
                    wait_until(lambda seen=seen: max(seen, default=0), last, sz.timeout, f"{name} (writes)")
                this = {m: [(seen[nid] - t) * 1000 for mode, nid, t in writes if mode == m] for m in modes}
                for mode in modes:
                    samples[name][mode].extend(this[mode])
                say(
                    f"  round {round_no + 1} {name:7}: median paced {median(this['paced']):.1f} ms,"
                    f" burst {median(this['burst']):.1f} ms"
                )
    rows, result = [], {}
    for mode in modes:
        for name in CONTENDERS:
            v = samples[name][mode]
            figures = {"median": median(v), "p95": percentile(v, 95), "max": max(v)}
            result[f"{name}_{mode}"] = {**{k: round(x, 2) for k, x in figures.items()}, "n": len(v)}
            rows.append((f"{name} {mode}", str(len(v)), *(f"{figures[k]:.1f}" for k in ("median", "p95", "max"))))
    say(table(rows, ("latency", "writes", "median ms", "p95 ms", "max ms")))
    ratios = {
        f"{mode}_{stat}": round(result[f"library_{mode}"][stat] / result[f"ours_{mode}"][stat], 3)
        for mode in modes
        for stat in ("median", "p95")
    }
    say("  library ÷ ours: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    say()
    return {"latency_ms": result, "latency_ratio": ratios}


@contextmanager
def closing(services: Services) -> Iterator[Services]:
    try:
        yield services
    finally:
        services.close()


# --- (b) catch-up throughput ----------------------------------------------------------------


Trace = list[tuple[float, int]]


def follow_position(position: Callable[[], int | None], start: float, last: int, cap: float) -> Trace:
    """Poll a tracking position until it reaches ``last`` or ``cap`` seconds pass; [(seconds, position)] on change."""
    trace: Trace = []
    while True:
        now, pos = clock() - start, position() or 0
        if not trace or pos != trace[-1][1]:
            trace.append((now, pos))
        if pos >= last or now > cap:
            return trace
        time.sleep(POLL)


def reached_at(trace: Trace, position: int) -> float:
    """When the traced follower's views first held ``position`` (the commit of the batch holding it)."""
    return next(t for t, pos in trace if pos >= position)


def catch_up_ours(events_schema: str, last: int, cap: float) -> Trace:
    """From ``follow()`` until our views hold the whole log (empty views, a fresh process's services)."""
    with closing(our_services(events_schema)) as services:
        clear_views(services.db)
        start = clock()
        services.follow()
        return follow_position(lambda: services.projection.position, start, last, cap)


def catch_up_library(events_schema: str, views_schema: str, view: LibraryViewsRecorder, last: int, cap: float) -> Trace:
    """From constructing the runner (its app, view, subscription) until its view holds the log, or ``cap``."""
    clear_views(Db(view))
    start = clock()
    with library_runner(events_schema, views_schema) as runner:
        return follow_position(lambda: runner.view.max_tracking_id(Tracker.name), start, last, cap)


def throughput(sz: FollowerSizes) -> dict[str, Any]:
    per_partnership = 10
    say(
        f"== Catch-up: {sz.events:,} events ({sz.events // per_partnership:,} partnerships registered first, then"
        f" rounds of one event each) from position 0 into empty views, {sz.repeats} repeats; the library run is"
        f" capped at {sz.cap:.0f} s"
    )
    rates: dict[str, Series] = {name: Series(name) for name in ("ours", "library", "ours_prefix")}
    ratios, prefix_ratios, reached = [], [], []
    with pg_schema() as events_schema, pg_schema() as views_schema:
        with closing(our_services(events_schema)) as services:
            seconds, written = timed(lambda: build_log(services, sz.events, per_partnership))
            last = services.tracker.recorder.max_notification_id() or 0
            tracking_table = services.db.recorder.tracking_table_name
        say(f"  built {written:,} events in {seconds:.1f} s (last id {last:,})")
        with library_view(events_schema, views_schema) as view:
            for repeat in range(sz.repeats):
                traces: dict[str, Trace] = {}
                for name in rotated(CONTENDERS, repeat):
                    if name == "ours":
                        traces[name] = catch_up_ours(events_schema, last, sz.timeout)
                    else:
                        traces[name] = catch_up_library(events_schema, views_schema, view, last, sz.cap)
                ours_s, (lib_s, lib_pos) = traces["ours"][-1][0], traces["library"][-1]
                if traces["ours"][-1][1] < last:
                    raise TimeoutError(f"ours did not catch up {last} events in {sz.timeout:.0f} s")
                ours_prefix_s = reached_at(traces["ours"], lib_pos)
                rates["ours"].values.append(rate(written, ours_s))
                rates["library"].values.append(rate(lib_pos, lib_s))
                rates["ours_prefix"].values.append(rate(lib_pos, ours_prefix_s))
                reached.append(lib_pos)
                prefix_ratios.append(ours_prefix_s / lib_s)
                ratios.append(rates["library"].values[-1] / rates["ours"].values[-1])
                say(
                    f"  repeat {repeat + 1}: ours {written:,} in {ours_s:.2f} s (first {lib_pos:,} in"
                    f" {ours_prefix_s:.2f} s); library {lib_pos:,} in {lib_s:.2f} s;"
                    f" library ÷ ours same prefix {prefix_ratios[-1]:.3f}, vs ours' full run {ratios[-1]:.3f}"
                )
            library_tracking = view.tracking_table_name
        ours_digest = views_digest(events_schema, tracking_table)
        library_digest = views_digest(views_schema, library_tracking) if min(reached) >= last else None
    if library_digest is None:
        same = None
        say("  views compared: no (the library was capped before the end; a larger --cap compares them)")
    else:
        same = ours_digest == library_digest
        say(f"  views identical: {same}" + ("" if same else f" ({ours_digest} != {library_digest})"))
    rows = [
        (f"ours, all {written:,}", f"{rates['ours'].median:,.0f}", rates["ours"].spread()),
        (f"ours, first {median(reached):,.0f}", f"{rates['ours_prefix'].median:,.0f}", rates["ours_prefix"].spread()),
        (f"library, first {median(reached):,.0f}", f"{rates['library'].median:,.0f}", rates["library"].spread()),
    ]
    say(table(rows, ("catch-up", "median ev/s", "min–max ev/s")))
    say(
        f"  library ÷ ours (ev/s): {median(prefix_ratios):.3f} on the same prefix, {median(ratios):.3f} against ours'"
        f" full run; the library would need ~{written / rates['library'].median:,.0f} s for all {written:,}"
    )
    say()
    return {
        "catch_up_events": written,
        "catch_up_cap_s": sz.cap,
        "catch_up_library_reached": reached,
        "catch_up_per_s": {name: round(s.median, 1) for name, s in rates.items()},
        "catch_up_runs": {name: [round(v, 1) for v in s.values] for name, s in rates.items()},
        "catch_up_ratio_same_prefix": round(median(prefix_ratios), 4),
        "catch_up_ratio_vs_full": round(median(ratios), 4),
        "views_identical": same,
    }


# --- what the runner cannot do here ------------------------------------------------------------


class _SQLiteView(SQLiteTrackingRecorder):
    pass


class _SQLiteProjection(LibraryProjection[_SQLiteView]):
    name = "benchsqliteviews"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        pass


def sqlite_runner() -> str:
    """Try the library's runner on our SQLite store; the error it raises (or "ok")."""
    with temp_dir("follower") as folder:
        env = Config(database=str(folder / "events.db"), fixed_today=TODAY).eventsourcing_env()
        try:
            runner = ProjectionRunner(
                application_class=Tracker, projection_class=_SQLiteProjection, view_class=_SQLiteView, env=env
            )
        except Exception as e:  # noqa: BLE001 (reported, not handled)
            return f"{type(e).__name__}: {e}"
        with runner:
            return "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.follower", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 events, 40 writes: a smoke run")
    parser.add_argument("--events", type=int, help="events to catch up (default 20,000, BENCH_FOLLOWER_EVENTS)")
    parser.add_argument("--writes", type=int, help="latency writes per contender and mode (default 200)")
    parser.add_argument(
        "--cap", type=float, help="seconds the library's catch-up may run (default 40, BENCH_FOLLOWER_CAP)"
    )
    args = parser.parse_args(argv)
    if pg_url() is None:
        say('bench.follower needs BENCH_DATABASE_URL=postgresql://... (eval "$(bash .ci/pg-start.sh)" gives one)')
        return 2
    sz = sizes(quick=args.quick, events=args.events, writes=args.writes, cap=args.cap)
    started = clock()
    say(f"bench.follower: {python_version()}, eventsourcing {eventsourcing_version()}, {machine()}")
    say()
    results: dict[str, Any] = {"sqlite_runner": sqlite_runner()}
    say(f"== The library runner on our SQLite store: {results['sqlite_runner']}")
    say()
    results.update(latency(sz))
    results.update(throughput(sz))
    results.update(
        quick=args.quick,
        python=python_version(),
        eventsourcing=eventsourcing_version(),
        machine=machine(),
        wall_seconds=round(clock() - started, 1),
    )
    say(f"bench.follower: done in {results['wall_seconds']} s")
    print(json.dumps(results, sort_keys=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
