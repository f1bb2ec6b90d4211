"""The auditor's screens: the global log (filtered, in either order), the integrity check (the CLI's verify) with
a kept digest, the downloads (the export's exact bytes, and a spreadsheet of what the filter shows); and the
register as it stood on a day, as known at a moment (for everyone who may read, as the API's ``/register``)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request, send_file, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from application.export import FORMATS, MEDIA_TYPES, XLSX_MEDIA_TYPE, export_chunks, write_spreadsheet
from domain.dates import BusinessDate
from domain.event_types import EVENT_TYPES
from projections import queries
from projections.audit import NOT_THIS_LOGS, parse_digest
from web.auth import AUDITORS, EVERYONE
from web.messages import field_message
from web.ui.common import role_required, services
from web.ui.i18n import day, say, words
from web.ui.present import read_moment
from web.ui.vocab import EVENT_TYPE_LABELS

bp = Blueprint("audit", __name__, url_prefix="/audit")
#: The register as it stood: not only for auditors (the API's ``GET /register`` is for every role).
register_bp = Blueprint("register", __name__)

PAGE_SIZE = 50

#: The log filter's fields, in the form's order, with their labels.
FILTER_LABELS = {
    "partnership": _l("Partnership"),
    "recorded_by": _l("Recorded by"),
    "type": _l("Type of entry"),
    "occurred_from": _l("Happened from"),
    "occurred_to": _l("Happened until"),
    "recorded_from": _l("Recorded from"),
    "recorded_to": _l("Recorded until"),
    "order": _l("Order"),
}
ORDERS = {"oldest": _l("Oldest first"), "newest": _l("Newest first")}
#: The register page's fields and their labels.
MOMENT_LABELS = {"as_of": _l("As of (a day, a month or a year)"), "known_at": _l("As known at (date and time)")}


@dataclass
class LogQuery:
    """What the log page's query string asks for: the filter, the order, where the page starts, and problems."""

    where: queries.LogFilter
    newest_first: bool
    cursor: int | None
    values: dict[str, str] = field(default_factory=dict)  # what was typed, shown back as it was
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        return self.where != queries.LogFilter()

    def link(self, **cursor: int | None) -> dict[str, Any]:
        """The query string of a page with the same filters and order (for the pager and the download)."""
        kept = {k: v for k, v in self.values.items() if v and k in FILTER_LABELS and k != "order"}
        if self.newest_first:
            kept["order"] = "newest"
        return {**kept, **{k: v for k, v in cursor.items() if v is not None}}


def _position(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and raw.isascii() and len(raw) < 19 else None


def _business_range(values: dict[str, str], errors: dict[str, list[str]], low: str, high: str) -> list[Any]:
    """Two business dates (a day, a month or a year) from the query; the second not before the first."""
    out: list[BusinessDate | None] = []
    for name in (low, high):
        try:
            out.append(BusinessDate.parse(values[name]) if values[name] else None)
        except ValueError:
            errors[name] = [say(field_message("not_a_business_date"))]
            out.append(None)
    if out[0] and out[1] and out[1].last < out[0].first:
        errors[high] = [_("Must not be before “%(other)s”.", other=FILTER_LABELS[low])]
    return out


def read_log_query(args: MultiDict, tz: ZoneInfo) -> LogQuery:
    """The log page's filters from the query string; each bad value is named in ``errors`` (then nothing is shown)."""
    s = services()
    values = {name: args.get(name, "").strip()[:200] for name in FILTER_LABELS}
    errors: dict[str, list[str]] = {}
    pid = values["partnership"] or None
    if pid is not None:
        try:
            pid = str(UUID(pid))
        except ValueError:
            pid = None
        if pid is None or not queries.partnership_names(s.db, [pid]):
            errors["partnership"] = [_("Choose a partnership from the list.")]
    if values["type"] and values["type"] not in EVENT_TYPES:
        errors["type"] = [_("Choose a type of entry from the list.")]
    if values["order"] and values["order"] not in ORDERS:
        errors["order"] = [_("Choose the oldest or the newest entries first.")]
    occurred = _business_range(values, errors, "occurred_from", "occurred_to")
    recorded = _business_range(values, errors, "recorded_from", "recorded_to")
    # record days are the office's days: from the start of the first to the start of the day after the last
    start = datetime.combine(recorded[0].first, time(), tz) if recorded[0] else None
    end = datetime.combine(recorded[1].last + timedelta(days=1), time(), tz) if recorded[1] else None
    newest = values["order"] == "newest"
    where = queries.LogFilter(
        partnership_id=None if "partnership" in errors else pid,
        recorded_by=values["recorded_by"] or None,
        type=None if "type" in errors else values["type"] or None,
        occurred_from=occurred[0],
        occurred_to=occurred[1],
        recorded_from=start,
        recorded_until=end,
    )
    return LogQuery(where, newest, _position(args.get("before" if newest else "after")), values, errors)


def render_log(report: dict[str, Any] | None = None, digest: str = "", digest_errors: dict | None = None) -> Any:
    s = services()
    asked = read_log_query(request.args, s.config.tz)
    page = None
    if not asked.errors:
        page = queries.search_log(
            s.db, asked.where, newest_first=asked.newest_first, cursor=asked.cursor, limit=PAGE_SIZE
        )
    context_partnerships = queries.log_partnerships(s.db)
    context = {
        "page": page,
        "asked": asked,
        "labels": FILTER_LABELS,
        "orders": ORDERS,
        "partnerships": context_partnerships,
        "recorders": queries.log_recorders(s.db),
        "types": sorted(EVENT_TYPES, key=lambda t: str(EVENT_TYPE_LABELS[t])),
        "head": queries.head(s.db),
        "names": queries.partnership_names(s.db, [e["partnership_id"] for e in page["items"]] if page else []),
        "report": report,
        "not_this_log": _not_this_log(report),
        "digest": digest,
        "errors": digest_errors or {},
        "page_size": PAGE_SIZE,
        "summary": [] if asked.errors else _summary(asked, dict(context_partnerships)),
        "timezone": s.config.timezone,
    }
    status = 422 if digest_errors or asked.errors else 200
    return render_template("audit/log.html", **context), status


def _summary(asked: LogQuery, partner_names: dict[str, str]) -> list[tuple[str, str]]:
    """(label, value) of each filter in force, in words, for the line above the log."""
    where, out = asked.where, []
    if where.partnership_id:
        out.append((str(FILTER_LABELS["partnership"]), partner_names.get(where.partnership_id, where.partnership_id)))
    if where.recorded_by:
        out.append((str(FILTER_LABELS["recorded_by"]), where.recorded_by))
    if where.type:
        out.append((str(FILTER_LABELS["type"]), str(EVENT_TYPE_LABELS[where.type])))
    for name in ("occurred_from", "occurred_to", "recorded_from", "recorded_to"):
        if asked.values[name] and name not in asked.errors:
            out.append((str(FILTER_LABELS[name]), day(asked.values[name])))
    return out


def _not_this_log(report: dict[str, Any] | None) -> bool:
    """Whether the only finding is that the digest given is not one of this log's (a typo, not a change)."""
    problems = (report or {}).get("problems") or []
    return bool(problems) and all(p["kind"] == "digest" and p.get("code") in NOT_THIS_LOGS for p in problems)


@bp.get("/")
@role_required(*AUDITORS)
def log() -> Any:
    return render_log()


@bp.post("/verify")
@role_required(*AUDITORS)
def verify() -> Any:
    """Run the same check as ``tracker audit verify`` (with an optional digest kept earlier) and show it."""
    s = services()
    digest = request.form.get("digest", "").strip()
    try:
        kept = parse_digest(digest) if digest else None
    except ValueError:
        return render_log(digest=digest, digest_errors={"digest": [say(field_message("not_a_digest"))]})
    return render_log(report=s.verify(kept), digest=digest)


@bp.get("/export.<fmt>")
@role_required(*AUDITORS)
def export(fmt: str) -> Response:
    """The whole log as ``tracker export`` writes it (the same bytes), as a download."""
    if fmt not in FORMATS:
        abort(404)
    s = services()
    position = queries.head(s.db)["position"]
    chunks = (chunk.encode("utf-8") for chunk in export_chunks(s.tracker, fmt))
    response = Response(stream_with_context(chunks), mimetype=MEDIA_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = MEDIA_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="tracker-log-{position}.{fmt}"'
    return response


@bp.get("/export.xlsx")  # a rule without a variable: chosen before ``export.<fmt>``
@role_required(*AUDITORS)
def spreadsheet() -> Any:
    """The entries the log page's filter picks (all of them, not one page), as a spreadsheet in the page's
    language: partner names, office times as real date-times, readable details."""
    s = services()
    asked = read_log_query(request.args, s.config.tz)
    if asked.errors:
        return render_log()
    position = queries.head(s.db)["position"]
    out = tempfile.TemporaryFile()  # on disk, not in memory; closed (and so deleted) when the response is sent
    write_spreadsheet(
        queries.iter_log(s.db, asked.where, newest_first=asked.newest_first),
        out,
        words=words(),
        tz=s.config.tz,
        names=lambda ids: queries.partnership_names(s.db, ids),
    )
    out.seek(0)
    name = f"tracker-log-{position}{'-filtered' if asked.filtered else ''}.xlsx"
    return send_file(out, mimetype=XLSX_MEDIA_TYPE, as_attachment=True, download_name=name)


# --- the register as it stood -------------------------------------------------------------------------


@register_bp.get("/register")
@role_required(*EVERYONE)
def as_it_stood() -> Any:
    """Every partnership as it stood on a day (today unless asked), as known now or at a moment (office time)."""
    s = services()
    as_of, known_at, errors = read_moment(request.args, s.config.tz)
    day = as_of or BusinessDate.of(s.today())
    items = [] if errors else queries.register_at(s.db, s.clock(), as_of=day, known_at=known_at)
    link_args = {"as_of": day.isoformat()}
    if known_at is not None:
        link_args["known_at"] = known_at.astimezone(s.config.tz).replace(tzinfo=None).isoformat(timespec="seconds")
    html = render_template(
        "audit/register.html",
        items=items,
        as_of=day,
        known_at=known_at,
        future=day.first > s.today(),
        # a moment still to come knows no more than now: said, as for a day still to come
        known_future=known_at is not None and known_at > datetime.now(UTC),
        values={name: request.args.get(name, "").strip() for name in MOMENT_LABELS},
        labels=MOMENT_LABELS,
        errors=errors,
        timezone=s.config.timezone,
        link=lambda pid: url_for("partnerships.partnership", pid=pid, **link_args),
    )
    return html, 422 if errors else 200
