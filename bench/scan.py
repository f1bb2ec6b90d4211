"""The inactivity scan over a big register: its steady state against a raw SQL scan of the same read model.

* ``first``: the first ``application.jobs.scan_inactivity(services, TODAY)``: it flags the quiet partnerships (records
  an ``inactivity_flagged`` event for each); reported as milliseconds per flagged partnership (informative);
* ``steady``: a second scan the same day, nothing left to flag (the normal daily cost once flags exist);
* ``raw`` (baseline): ``SELECT id FROM view_partnerships WHERE status IN ('intent','active') AND
  last_activity_end < ?`` on a plain sqlite3 connection to the same file (psycopg on PostgreSQL).

Steady and raw run in blocks, interleaved, median over repeats.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from application.jobs import scan_inactivity
from bench.common import TODAY, Series, median, pg_connect, repeats, rotated, say, schema_of, table, timed
from projections.queries import Clock

RAW_SQL = "SELECT id FROM view_partnerships WHERE status IN ('intent', 'active') AND last_activity_end < ?"


@dataclass(frozen=True)
class ScanSizes:
    calls: int
    blocks: int
    repeats: int


def sizes(*, quick: bool) -> ScanSizes:
    return ScanSizes(calls=2, blocks=3, repeats=3) if quick else ScanSizes(calls=3, blocks=3, repeats=repeats(5))


class RawScan:
    """The baseline: the one query on a plain connection (sqlite3 on the file, or psycopg in the schema)."""

    def __init__(self, services: Any) -> None:
        self.cutoff = Clock(TODAY, services.config.inactivity_days).cutoff
        schema = schema_of(services)
        if schema is None:
            self.conn = sqlite3.connect(services.config.database)
            self.sql = RAW_SQL
        else:
            self.conn = pg_connect(schema, autocommit=True)
            self.sql = RAW_SQL.replace("?", "%s")

    def __call__(self) -> list[str]:
        return [r[0] for r in self.conn.execute(self.sql, (self.cutoff,)).fetchall()]

    def close(self) -> None:
        self.conn.close()


def run(sizes: ScanSizes, register: Any, partnerships: int, quiet: int) -> dict[str, Any]:
    say(
        f"== Inactivity scan over {partnerships:,} partnerships ({quiet} quiet): steady state vs raw SQL, "
        f"{sizes.calls} calls x {sizes.blocks} blocks interleaved, {sizes.repeats} repeats"
    )
    first_seconds, first = timed(lambda: scan_inactivity(register, TODAY))
    flagged = len(first.flagged)
    assert flagged == quiet, (flagged, quiet)
    per_flag_ms = 1000 * first_seconds / max(1, flagged)
    say(f"  first scan: flagged {flagged} in {first_seconds:.2f} s ({per_flag_ms:.1f} ms per flagged partnership)")
    raw = RawScan(register)
    contenders = {"steady": lambda: scan_inactivity(register, TODAY), "raw": raw}
    assert contenders["steady"]().flagged == [] and len(raw()) == quiet
    series = {name: Series(name) for name in contenders}
    ratios: list[float] = []
    for repeat in range(sizes.repeats):
        spent = dict.fromkeys(contenders, 0.0)
        for b in range(sizes.blocks):
            for name in rotated(list(contenders), repeat + b):
                start = time.perf_counter()
                for _ in range(sizes.calls):
                    contenders[name]()
                spent[name] += time.perf_counter() - start
        ms = {name: 1000 * spent[name] / (sizes.calls * sizes.blocks) for name in contenders}
        for name, value in ms.items():
            series[name].values.append(value)
        ratios.append(ms["steady"] / ms["raw"])
        say(
            f"  repeat {repeat + 1}: steady scan {ms['steady']:.1f} ms, raw SQL {ms['raw']:.1f} ms"
            f" (ratio {ratios[-1]:.2f})"
        )
    raw.close()
    labels = {"steady": "scan_inactivity, 2nd scan the same day", "raw": "raw SQL SELECT over view_partnerships"}
    rows = [
        (
            labels[n],
            f"{series[n].median:.1f}",
            f"{min(series[n].values):.1f}–{max(series[n].values):.1f}",
            f"{median(ratios):.2f}" if n == "steady" else "1.00",
        )
        for n in contenders
    ]
    say(table(rows, ("scan", "median ms", "min–max ms", "ratio vs raw")))
    say("  (ratio = scan ms ÷ raw SQL ms, median over repeats of the per-repeat ratio)")
    say()
    return {
        "scan_partnerships": partnerships,
        "scan_flagged_first": flagged,
        "scan_first_seconds": round(first_seconds, 3),
        "scan_first_ms_per_flagged": round(per_flag_ms, 2),
        "scan_steady_ms": round(series["steady"].median, 2),
        "scan_raw_ms": round(series["raw"].median, 2),
        "scan_ratio": round(median(ratios), 3),
        "scan_runs": [round(r, 3) for r in ratios],
    }
