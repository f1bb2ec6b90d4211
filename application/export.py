"""The whole log as an export file, JSONL or CSV: the same bytes from ``tracker export`` and from the
auditor's download in the web UI (the same log always gives the same bytes)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from eventsourcing.application import Application

from projections.audit import export_line, stored_entries

FORMATS: tuple[str, ...] = ("jsonl", "csv")
MEDIA_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}
CSV_COLUMNS: tuple[str, ...] = (
    "position",
    "partnership_id",
    "version",
    "type",
    "occurred_on",
    "recorded_at",
    "recorded_by",
    "data",
    "hash",
)


class UnreadableEntry(Exception):
    """A stored event cannot be decoded: the export stops at ``position``."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"the log cannot be read at position {position}: {reason}")
        self.position = position
        self.reason = reason


def export_chunks(app: Application, fmt: str) -> Iterator[str]:
    """The export's text, one entry at a time (the CSV header first, even for an empty log).

    Reads the stored events, not the read models; raises :class:`UnreadableEntry` at an event
    that cannot be decoded.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    if fmt == "csv":
        writer.writerow(CSV_COLUMNS)
        yield take()
    written = 0
    entries = stored_entries(app)
    while True:
        try:
            entry = next(entries, None)
        except Exception as e:  # a stored event that cannot be read: say where
            raise UnreadableEntry(written + 1, type(e).__name__) from e
        if entry is None:
            return
        if fmt == "jsonl":
            buffer.write(export_line(entry) + "\n")
        else:
            row = {**entry, "data": json.dumps(entry["data"], sort_keys=True, ensure_ascii=False)}
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
        yield take()
        written = entry["position"]
