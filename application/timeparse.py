"""Reading dates and moments typed by people (query strings, forms, command options), one way everywhere.

A date is exactly ``YYYY-MM-DD``. A moment is an ISO 8601 date-time with at least
the hour; ``Z`` means UTC, and without an offset the caller's time zone applies
(UTC in the API and the CLI, the office's in the web UI's datetime-local input).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` as a date; ValueError for anything else (no week dates, no ``20261126``)."""
    if not ISO_DATE.fullmatch(text):
        raise ValueError(f"not a date YYYY-MM-DD: {text!r}")
    return date.fromisoformat(text)


def parse_moment(text: str, naive_zone: tzinfo = UTC) -> datetime:
    """An aware datetime from ISO 8601 text; ValueError when it is not a date-time.

    After a ``T`` separator, a space where the offset's ``+`` stood (a ``+`` in a URL decodes to a
    space) is read as ``+``.
    """
    if len(text) < 11:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    text = text.replace("Z", "+00:00")
    if "T" in text:  # with a space separator instead of T, a space is the separator, not a lost +
        text = text.replace(" ", "+", 1)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=naive_zone)
