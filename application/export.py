"""The whole log as an export file, JSONL or CSV: the same bytes from ``tracker export`` and from the
auditor's download in the web UI (the same log always gives the same bytes); and the auditor's spreadsheet
(.xlsx: the log, or the entries a filter picked, readable in a spreadsheet, not meant for verification)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, tzinfo
from itertools import islice
from typing import Any, BinaryIO

from eventsourcing.application import Application
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from application.vocabulary import Words, fill
from domain.errors import N_
from domain.event_types import EVENT_TYPES
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


# --- the auditor's spreadsheet: readable, in the office's time, in the reader's language -----------------

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The spreadsheet's columns (English message ids, said in the reader's language).
SPREADSHEET_COLUMNS: tuple[str, ...] = (
    N_("Position"),
    N_("Recorded at ({zone})"),
    N_("Recorded by"),
    N_("Partnership id"),
    N_("Partner"),
    N_("Entry"),
    N_("Version"),
    N_("Happened (as recorded)"),
    N_("Details"),
    N_("Retracted by entry"),
    N_("Hash"),
)
SHEET_TITLE = N_("Log entries")
_WIDTHS = (9, 20, 14, 38, 32, 30, 8, 12, 80, 10, 66)
#: Fields a reader takes from other columns (the business date) or that mean nothing to a reader.
_NOT_DETAILS = frozenset({"occurred_on", "flagged_version"})
_DATE_FIELDS = frozenset(
    {"registered_on", "last_activity_on", *(d for t in EVENT_TYPES.values() for d in t.date_fields)}
)


def value_text(key: str, value: Any, words: Words) -> str:
    """One field's value as words: a code by its label, a date as precise as recorded, a country by its name."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return ", ".join(words.label(key, v) for v in value)
    if key in _DATE_FIELDS:
        return words.day(value)
    if key == "partner_country":
        return words.locale.territories.get(str(value).upper(), str(value))
    if key == "retracts":
        return f"#{value}"
    return words.label(key, value)


def details_text(data: Mapping[str, Any], words: Words) -> str:
    """An entry's own fields as one readable line: "Label: value; Label: value" (never JSON)."""
    parts = []
    for key, value in data.items():
        text = value_text(key, value, words) if key not in _NOT_DETAILS else ""
        if text:
            parts.append(f"{words.field(key)}: {text}")
    return "; ".join(parts)


def write_spreadsheet(
    entries: Iterable[dict[str, Any]],
    out: BinaryIO,
    *,
    words: Words,
    tz: tzinfo,
    names: Callable[[list[str]], Mapping[str, str]],
    batch: int = 500,
) -> int:
    """Write log entries (LogEntry dicts) as an .xlsx workbook to ``out``; returns how many rows.

    openpyxl's write-only mode streams the rows to a temporary file, so memory stays flat. Record times
    are real spreadsheet date-times in the office's time zone (the column's heading names it); the business
    date is text exactly as recorded (a month stays a month); the partner's name stands beside the id.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(words(SHEET_TITLE)[:31])
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in SPREADSHEET_COLUMNS:
        cell = WriteOnlyCell(sheet, fill(words(column), {"zone": str(tz)}))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    written = 0
    chunks = iter(entries)
    while chunk := list(islice(chunks, batch)):
        partners = names([e["partnership_id"] for e in chunk])
        for e in chunk:
            when = WriteOnlyCell(sheet, datetime.fromisoformat(e["recorded_at"]).astimezone(tz).replace(tzinfo=None))
            when.number_format = "yyyy-mm-dd hh:mm:ss"
            sheet.append(
                [
                    e["position"],
                    when,
                    e["recorded_by"],
                    e["partnership_id"],
                    partners.get(e["partnership_id"], ""),
                    words.label("type", e["type"]),
                    e["version"],
                    e["occurred_on"] or "",
                    details_text(e["data"], words),
                    e.get("retracted_by"),
                    e["hash"],
                ]
            )
            written += 1
    workbook.save(out)
    return written
