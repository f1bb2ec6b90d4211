"""Transcodings the default JSON transcoder lacks: days (``date``, version 1 events) and business dates."""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import Transcoding

from domain.dates import BusinessDate


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class BusinessDateAsText(Transcoding):
    """A day, a month or a year, stored as the text given (``2019-10-18``, ``2008-01``, ``1992``)."""

    type = BusinessDate
    name = "business_date"

    def encode(self, obj: BusinessDate) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> BusinessDate:
        return BusinessDate.parse(data)
