"""Turning the queries' plain dicts into what a page shows (labels, dates, the timeline's order)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from application.timeparse import parse_moment
from domain.dates import BusinessDate
from domain.event_types import EVENT_TYPES
from domain.values import STATUSES
from web.messages import field_message
from web.schemas import COUNTRY_CODES, EVENT_SCHEMAS, RegisterPartnershipSchema
from web.ui.forms import Form
from web.ui.i18n import country_name, day, say
from web.ui.vocab import CHOICE_LABELS, FIELD_LABELS

DATE_KEYS = frozenset({"occurred_on", "registered_on", *(name for t in EVENT_TYPES.values() for name in t.date_fields)})
#: Shown elsewhere on the timeline (the date in the heading) or meaningless to a reader.
HIDDEN_KEYS = frozenset({"occurred_on", "flagged_version"})


def _field_order(event_type: str) -> list[str]:
    schema = RegisterPartnershipSchema if event_type == "partnership_registered" else EVENT_SCHEMAS.get(event_type)
    return [f.name for f in Form(schema).inputs] if schema else []


def value_text(key: str, value: Any) -> str:
    """One field's value as words in the page's language."""
    if value is None or value == "" or value == []:
        return ""
    labels = CHOICE_LABELS.get(key)
    if isinstance(value, list):
        return ", ".join(str(labels.get(v, v)) if labels else str(v) for v in value)
    if labels and isinstance(value, str):
        return str(labels.get(value, value))
    if key in DATE_KEYS and isinstance(value, str):
        return day(value)
    if key == "partner_country":
        return country_name(value)
    if key == "retracts":
        return _("entry #%(n)s", n=value)
    return str(value)


def event_details(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) for each field the event carries, in its form's order."""
    data = event["data"]
    order = _field_order(event["type"])
    keys = [k for k in order if k in data] + [k for k in data if k not in order]
    out = []
    for key in keys:
        if key in HIDDEN_KEYS:
            continue
        text = value_text(key, data[key])
        if text:
            out.append((str(FIELD_LABELS.get(key, key)), text))
    return out


def timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events oldest first in business time (the registration first), with their details."""

    def when(e: dict[str, Any]) -> tuple[int, str, int]:
        first = 0 if e["type"] == "partnership_registered" else 1
        return first, e["occurred_on"] or e["recorded_at"][:10], e["version"]

    return [{**e, "details": event_details(e)} for e in sorted(events, key=when)]


def references(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The references and the council resolutions' numbers of the events not retracted."""
    kept = [e for e in timeline(events) if not e["retracted"]]
    refs = [{"text": e["data"]["reference"], "event": e} for e in kept if e["data"].get("reference")]
    resolutions = [
        {"text": e["data"]["resolution_number"], "event": e}
        for e in kept
        if e["type"] == "council_resolution_adopted" and e["data"].get("resolution_number")
    ]
    return refs, resolutions


# --- what the dashboard's and the partnership page's query strings ask for --------------------------


def read_filters(args: MultiDict, areas: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The list's filters from the query string; a bad value is dropped and named in the errors."""
    filters: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, allowed in (("status", STATUSES), ("area", areas)):
        value = args.get(name, "").strip()
        if value and value in allowed:
            filters[name] = value
        elif value:
            errors[name] = [say(field_message("one_of", choices=", ".join(allowed)))]
    country = args.get("country", "").strip().upper()
    if country:
        if country in COUNTRY_CODES:
            filters["country"] = country
        else:
            errors["country"] = [say(field_message("not_a_country"))]
    q = args.get("q", "").strip()[:200]
    if q:
        filters["q"] = q
    if args.get("inactive", "").lower() in ("1", "true", "on"):
        filters["inactive"] = True
    page = args.get("page", "1").strip()
    filters["page"] = int(page) if page.isdigit() and page.isascii() and 0 < int(page) < 10**9 else 1
    return filters, errors


def read_moment(args: MultiDict, tz: ZoneInfo) -> tuple[BusinessDate | None, datetime | None, dict[str, list[str]]]:
    """``as_of`` (a day, a month or a year) and ``known_at`` (a date-time in the office's time zone, as a
    datetime-local input sends it, or ISO with an offset) from the query string."""
    errors: dict[str, list[str]] = {}
    as_of = known_at = None
    raw = args.get("as_of", "").strip()
    if raw:
        try:
            as_of = BusinessDate.parse(raw)
        except ValueError:
            errors["as_of"] = [say(field_message("not_a_business_date"))]
    raw = args.get("known_at", "").strip()
    if raw:
        try:
            known_at = parse_moment(raw, tz).astimezone(UTC)
        except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved past the calendar's edge
            errors["known_at"] = [say(field_message("not_a_moment"))]
    return as_of, known_at, errors
