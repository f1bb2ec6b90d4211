"""Business dates as precise as the record: a day, a month or a year.

Real records often say no more than "umowa podpisana w 1992 r." or "styczeń 2008".
A :class:`BusinessDate` keeps exactly what was given (``"1992"``, ``"2008-01"``,
``"2019-10-18"``) and answers the two questions the rules ask of it:

* where it stands in business order: from its **first** day (a month or a year
  counts from its first day, in the fold, in ``as_of`` and in ``status_since``);
* when activity last happened: to its **last** day (for inactivity).

Nothing here pads a month or a year to a day in what is stored or shown.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

DAY, MONTH, YEAR = "day", "month", "year"
PRECISIONS = (DAY, MONTH, YEAR)

_FORMS = {
    DAY: re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII),
    MONTH: re.compile(r"(\d{4})-(\d{2})", re.ASCII),
    YEAR: re.compile(r"(\d{4})", re.ASCII),
}


@dataclass(frozen=True)
class BusinessDate:
    """A day, a month or a year, as given."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        if not 1 <= self.year <= 9999:
            raise ValueError("year out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError("month out of range")
        if self.day is not None and self.day < 1:
            raise ValueError("day out of range")
        self.first  # noqa: B018 - validates the day against its month

    # --- making one -------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> BusinessDate:
        """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (ASCII digits only); ValueError otherwise."""
        if not isinstance(text, str):
            raise ValueError("a business date is text")
        for precision in PRECISIONS:
            match = _FORMS[precision].fullmatch(text)
            if match:
                parts = [int(p) for p in match.groups()]
                try:
                    return cls(*parts)
                except ValueError:
                    raise ValueError(f"{text!r} is not a real {precision}") from None
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD), a month (YYYY-MM) or a year (YYYY)")

    @classmethod
    def of(cls, value: BusinessDate | date | str) -> BusinessDate:
        """The business date of a value stored by any version of the program (a ``date`` is a day)."""
        if isinstance(value, BusinessDate):
            return value
        if isinstance(value, date):
            return cls(value.year, value.month, value.day)
        return cls.parse(value)

    @classmethod
    def optional(cls, value: BusinessDate | date | str | None) -> BusinessDate | None:
        return None if value is None else cls.of(value)

    # --- what it says -----------------------------------------------------------------------------

    @property
    def precision(self) -> str:
        if self.day is not None:
            return DAY
        return MONTH if self.month is not None else YEAR

    @property
    def approximate(self) -> bool:
        """Whether this names a period (a month or a year) rather than one day."""
        return self.day is None

    @property
    def first(self) -> date:
        """The period's first day: where it stands in business order."""
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last(self) -> date:
        """The period's last day: how long ago activity on it at the latest happened."""
        if self.day is not None:
            return self.first
        if self.month is not None:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, 12, 31)

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls inside this period (a day covers only itself)."""
        return self.first <= day <= self.last

    def uncertain_on(self, day: date) -> bool:
        """Whether, on ``day``, it is unknown if this already happened (``day`` inside the period, not its end)."""
        return self.approximate and self.first <= day < self.last

    def isoformat(self) -> str:
        """The text as given: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
        if self.day is not None:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def __str__(self) -> str:
        return self.isoformat()
