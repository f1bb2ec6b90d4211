"""Dates and moments typed by people are read the same way by the API, the CLI and the web UI."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from application.timeparse import parse_day, parse_moment


def test_a_day_is_exactly_yyyy_mm_dd():
    """Only YYYY-MM-DD is a date; week dates and compact forms are refused."""
    assert parse_day("2009-03-27") == date(2009, 3, 27)
    for text in ("20090327", "2009-W13-5", "2009-3-27", "2009-02-30", ""):
        with pytest.raises(ValueError):
            parse_day(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T12:00:00Z", datetime(2026, 11, 26, 12, tzinfo=UTC)),
        ("2026-11-26T12:00:00+02:00", datetime(2026, 11, 26, 12, tzinfo=timezone(timedelta(hours=2)))),
        ("2026-11-26T12:00:00 02:00", datetime(2026, 11, 26, 12, tzinfo=timezone(timedelta(hours=2)))),
        ("2026-11-26T12:00:00", datetime(2026, 11, 26, 12, tzinfo=UTC)),
        ("2026-11-26 12:00:00", datetime(2026, 11, 26, 12, tzinfo=UTC)),
    ],
)
def test_a_moment_is_iso_8601_and_utc_without_an_offset(text, expected):
    """ISO date-times are read with their offset (a URL's lost '+' included), UTC when they have none."""
    assert parse_moment(text) == expected


def test_a_moment_without_an_offset_can_be_office_time():
    """The web UI's datetime-local value is read in the office's time zone."""
    warsaw = ZoneInfo("Europe/Warsaw")
    assert parse_moment("2026-11-26T12:00", warsaw) == datetime(2026, 11, 26, 11, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-11-26", "yesterday", "2026-11-26T25:00"])
def test_what_is_not_a_date_time_is_refused(text):
    """A bare date or anything else is not a moment."""
    with pytest.raises(ValueError):
        parse_moment(text)
