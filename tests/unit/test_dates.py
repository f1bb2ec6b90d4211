"""Business dates as precise as the record: a day, a month or a year, kept and shown as given."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.dates import DAY, MONTH, YEAR, BusinessDate


@pytest.mark.parametrize(
    ("text", "parts", "precision"),
    [
        ("2019-10-18", (2019, 10, 18), DAY),
        ("2008-01", (2008, 1, None), MONTH),
        ("1992", (1992, None, None), YEAR),
        ("2020-02-29", (2020, 2, 29), DAY),
        ("0999", (999, None, None), YEAR),
        ("9999-12-31", (9999, 12, 31), DAY),
    ],
)
def test_the_three_forms_parse_as_given(text, parts, precision):
    """YYYY-MM-DD is a day, YYYY-MM a month, YYYY a year; nothing is padded to a day."""
    value = BusinessDate.parse(text)
    assert (value.year, value.month, value.day) == parts
    assert value.precision == precision
    assert value.approximate is (precision != DAY)


@pytest.mark.parametrize(
    "text",
    [
        "2019-13",  # no 13th month
        "2019-02-30",  # no 30 February
        "2019-02-29",  # 2019 is not a leap year
        "1900-02-29",  # nor is 1900
        "2019-04-31",
        "19",  # a two-digit year
        "219",
        "20190",
        "2019-1",  # month without its leading zero
        "2019-01-1",
        "2019-1-01",
        "20190101",  # compact form
        "2019/01/01",
        "01.01.2019",
        "2019-W01",
        "0000",  # no year 0
        "",
        " 2019",
        "2019 ",
        "2019\n",
        "2019-10-18T10:00",
        "+2019",
        "-2019",
        "styczeń 2008",
    ],
)
def test_anything_else_is_refused(text):
    """Only the three forms with real months and days are business dates."""
    with pytest.raises(ValueError):
        BusinessDate.parse(text)


@pytest.mark.parametrize("text", ["2019-00", "2019-00-05", "2019-01-00", "2019-00-00"])
def test_month_zero_and_day_zero_are_refused(text):
    """A month 00 or a day 00 is not a real month or day and is refused like month 13."""
    with pytest.raises(ValueError):
        BusinessDate.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "\uff12\uff10\uff11\uff19",  # fullwidth 2019
        "\u0662\u0660\u0661\u0669",  # Arabic-Indic 2019
        "2019-0\uff11",  # a fullwidth 1 in the month
        "\u0968\u0966\u0967\u096f-01-01",  # Devanagari 2019
    ],
)
def test_non_ascii_digits_are_refused(text):
    """A date is written with ASCII digits only; other scripts' digits are refused (not read as 2019)."""
    with pytest.raises(ValueError):
        BusinessDate.parse(text)


@pytest.mark.parametrize("value", [2019, None, date(2019, 1, 1), b"2019"])
def test_parse_takes_only_text(value):
    """parse refuses what is not text (of accepts a date)."""
    with pytest.raises(ValueError):
        BusinessDate.parse(value)


@pytest.mark.parametrize(
    ("args"),
    [(2019, None, 5), (0,), (10000,), (2019, 13), (2019, 2, 29), (2019, 4, 31)],
)
def test_the_constructor_refuses_what_is_not_a_real_period(args):
    """A day without a month, year 0 or 10000, month 13, 29 February 2019 cannot be made."""
    with pytest.raises(ValueError):
        BusinessDate(*args)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2019-10-18", "2019-10-18", "2019-10-18"),
        ("2008-01", "2008-01-01", "2008-01-31"),
        ("2019-04", "2019-04-01", "2019-04-30"),
        ("2019-02", "2019-02-01", "2019-02-28"),
        ("2020-02", "2020-02-01", "2020-02-29"),  # leap year
        ("2000-02", "2000-02-01", "2000-02-29"),  # divisible by 400: leap
        ("1900-02", "1900-02-01", "1900-02-28"),  # divisible by 100: not leap
        ("2019-12", "2019-12-01", "2019-12-31"),
        ("1992", "1992-01-01", "1992-12-31"),
        ("2020", "2020-01-01", "2020-12-31"),
    ],
)
def test_first_and_last_day(text, first, last):
    """A period runs from its first to its last day, leap years included; a day is its own first and last."""
    value = BusinessDate.parse(text)
    assert (value.first, value.last) == (date.fromisoformat(first), date.fromisoformat(last))


@pytest.mark.parametrize(
    ("text", "day", "uncertain"),
    [
        ("2019", "2018-12-31", False),  # before the year: certainly not yet
        ("2019", "2019-01-01", True),
        ("2019", "2019-06-01", True),
        ("2019", "2019-12-30", True),
        ("2019", "2019-12-31", False),  # its last day: certainly happened by then
        ("2019", "2020-01-01", False),
        ("2008-01", "2007-12-31", False),
        ("2008-01", "2008-01-01", True),
        ("2008-01", "2008-01-30", True),
        ("2008-01", "2008-01-31", False),
        ("2008-01", "2008-02-01", False),
        ("2020-02", "2020-02-28", True),
        ("2020-02", "2020-02-29", False),
        ("2019-10-18", "2019-10-18", False),  # a day is never uncertain
        ("2019-10-18", "2019-10-17", False),
    ],
)
def test_uncertain_on(text, day, uncertain):
    """On a day inside a month or a year (before its last day) it is unknown whether the event had happened."""
    assert BusinessDate.parse(text).uncertain_on(date.fromisoformat(day)) is uncertain


@pytest.mark.parametrize(
    ("text", "day", "covered"),
    [
        ("2019", "2019-01-01", True),
        ("2019", "2019-12-31", True),
        ("2019", "2020-01-01", False),
        ("2008-01", "2008-01-31", True),
        ("2008-01", "2008-02-01", False),
        ("2019-10-18", "2019-10-18", True),
        ("2019-10-18", "2019-10-19", False),
    ],
)
def test_covers(text, day, covered):
    """A period covers each of its days, first and last included."""
    assert BusinessDate.parse(text).covers(date.fromisoformat(day)) is covered


@pytest.mark.parametrize("text", ["2019-10-18", "2008-01", "1992", "0999", "0001-01-01", "2020-02-29"])
def test_isoformat_gives_back_the_text_as_given(text):
    """What is stored and shown is exactly what was given; str() is the same text."""
    value = BusinessDate.parse(text)
    assert value.isoformat() == text
    assert str(value) == text
    assert BusinessDate.parse(value.isoformat()) == value


def test_of_reads_every_stored_form():
    """A day stored as ``date`` (version 1) is a day; text is parsed; a business date is itself; None stays None."""
    assert BusinessDate.of(date(2019, 10, 18)) == BusinessDate(2019, 10, 18)
    assert BusinessDate.of("2008-01") == BusinessDate(2008, 1)
    value = BusinessDate(1992)
    assert BusinessDate.of(value) is value
    assert BusinessDate.optional(None) is None
    assert BusinessDate.optional("1992") == value
    with pytest.raises(ValueError):
        BusinessDate.of("2019-13")


def test_a_year_a_month_and_a_day_are_different_values():
    """ "2019", "2019-01" and "2019-01-01" start on the same day but are not the same date (and hash apart)."""
    values = {BusinessDate.parse(t) for t in ("2019", "2019-01", "2019-01-01")}
    assert len(values) == 3
    assert {v.first for v in values} == {date(2019, 1, 1)}


@st.composite
def business_dates(draw: st.DrawFn) -> BusinessDate:
    day = draw(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
    precision = draw(st.sampled_from([DAY, MONTH, YEAR]))
    if precision == DAY:
        return BusinessDate(day.year, day.month, day.day)
    if precision == MONTH:
        return BusinessDate(day.year, day.month)
    return BusinessDate(day.year)


@settings(max_examples=300, deadline=None)
@given(business_dates())
def test_round_trip_and_period_bounds(value):
    """Any business date survives its text form, starts no later than it ends, and covers both ends."""
    assert BusinessDate.parse(value.isoformat()) == value
    assert value.first <= value.last
    assert value.covers(value.first) and value.covers(value.last)
    assert not value.uncertain_on(value.last)
    assert value.uncertain_on(value.first) is value.approximate
