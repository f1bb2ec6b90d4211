"""The council report: one standalone HTML page in Polish or English, and the same page as a PDF.

A report is asked for a **year** (``2025``: the register at the year's end, or on the day the report is
prepared when the year is not over, with the year's activity) or a **day** (``2025-06-30``: the register
on that day, with the year's activity up to it). A day or a year after today is refused: the report says
what has happened. Given ``known_at`` (not in the future), the same arguments always give the same bytes:
the page holds nothing that depends on when it was generated, only on the log up to that moment (whose
position and hash it names, so the council's copy can be checked against the log); its preparation date
is then the office's day of ``known_at``. Without ``known_at`` the report says what is known now and is
prepared today.

The page carries its issuer (the register's organisation, ``TRACKER_ORGANISATION``), page numbers when
printed (CSS page-margin boxes, which both WeasyPrint and Chromium honour) and a signature block. Its
words come from the shared vocabulary (:mod:`application.vocabulary`), as the UI's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from application.vocabulary import DEFAULT_LANGUAGE, N_, Message, Words, words
from domain.dates import DAY, YEAR, BusinessDate
from infrastructure.store import Db
from projections.queries import Clock
from projections.report import council_report

#: Why a report cannot be made as asked (English templates, translated through the catalogues by their ids).
REPORT_MESSAGES: dict[str, str] = {
    "not_a_report_period": N_("Must be a year (YYYY) or a day (YYYY-MM-DD)."),
    "period_after_today": N_("Must not be after today ({today}): a report describes what has happened."),
    "moment_in_future": N_("Must not be in the future."),
}


class ReportRefused(ValueError):
    """A report cannot be made as asked; ``field`` names the argument (``as_of`` or ``known_at``)."""

    def __init__(self, field: str, code: str, **params: Any) -> None:
        self.field = field
        self.message = Message(code, REPORT_MESSAGES[code], params)
        super().__init__(f"{field}: {self.message}")


@dataclass(frozen=True)
class ReportPeriod:
    """What a report describes, derived from its arguments alone (and today, when there is no ``known_at``)."""

    #: the year or the day as asked
    asked: BusinessDate
    #: the day the register is read at (a year's last day, or the preparation day within the current year)
    as_of: date
    #: record time: only what was recorded by then (None: everything known now)
    known_at: datetime | None
    #: the day the report is prepared: the office's day of ``known_at``, or today
    prepared_on: date

    @property
    def is_year(self) -> bool:
        return self.asked.precision == YEAR


def check_known_at(known_at: datetime | None, *, now: datetime | None = None) -> datetime | None:
    """``known_at`` (UTC when naive), refused when it is in the future: a later recording would change the report."""
    if known_at is None:
        return None
    if known_at.tzinfo is None:
        known_at = known_at.replace(tzinfo=UTC)
    if known_at > (now or datetime.now(UTC)):
        raise ReportRefused("known_at", "moment_in_future")
    return known_at


def report_period(
    asked: str | BusinessDate,
    known_at: datetime | None,
    *,
    today: date,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> ReportPeriod:
    """The period of a report asked for a year or a day (text as typed), refusing a future one."""
    if isinstance(asked, str):
        try:
            asked = BusinessDate.parse(asked.strip())
        except ValueError:
            raise ReportRefused("as_of", "not_a_report_period") from None
    if asked.precision not in (DAY, YEAR):
        raise ReportRefused("as_of", "not_a_report_period")
    if asked.first > today:
        raise ReportRefused("as_of", "period_after_today", today=today)
    known_at = check_known_at(known_at, now=now)
    prepared_on = known_at.astimezone(tz).date() if known_at is not None else today
    as_of = asked.first if asked.precision == DAY else min(date(asked.year, 12, 31), max(prepared_on, asked.first))
    return ReportPeriod(asked=asked, as_of=as_of, known_at=known_at, prepared_on=prepared_on)


def _term(said: Words, name: str, value: Any) -> str:
    """A value of the vocabulary of field ``name`` as the report writes it inside a sentence (lower case first)."""
    label = said.label(name, value)
    return label[:1].lower() + label[1:]


def _css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string, safe inside a ``<style>`` element."""
    escaped = "".join(c if c.isalnum() or c in " .,;:-()'" else f"\\{ord(c):x} " for c in text)
    return Markup(f'"{escaped}"')


def _time(said: Words, value: Any) -> Markup:
    """A business date in a ``<time>`` element: the day in words, the ISO value (as precise as given) for machines."""
    iso = value.isoformat() if isinstance(value, date) else str(value)
    return Markup('<time datetime="{}">{}</time>').format(iso, said.day(value))


def _moment(said: Words, value: datetime, tz: ZoneInfo) -> Markup:
    """A record time to the second in the office's zone, with its UTC value (no fractions: valid HTML)."""
    whole = value.astimezone(UTC).replace(microsecond=0)
    text = format_datetime(whole.astimezone(tz), format="d MMMM y, HH:mm:ss", locale=said.locale)
    return Markup('<time datetime="{}">{}</time>').format(whole.strftime("%Y-%m-%dT%H:%M:%SZ"), text)


def _environment(said: Words, tz: ZoneInfo) -> Environment:
    """The report's templates in one language: ``_()`` from the shared catalogues, the vocabulary's terms."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates" / "report"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(said.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["term"] = lambda value, name: _term(said, name, value)
    env.filters["country"] = lambda code: said.locale.territories.get(code, code)
    env.filters["day"] = said.day
    env.filters["field"] = said.field
    env.filters["time"] = lambda value: _time(said, value)
    env.filters["moment"] = lambda value: _moment(said, value, tz)
    env.filters["css_string"] = _css_string
    return env


def render_report(
    db: Db,
    clock: Clock,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    lang: str = DEFAULT_LANGUAGE,
    period: ReportPeriod | None = None,
    organisation: str | None = None,
    tz: ZoneInfo | None = None,
) -> str:
    """The council report as a standalone HTML page (inline CSS, no scripts, prints on A4 with page numbers).

    Give ``period`` (from :func:`report_period`), or ``as_of`` and ``known_at`` for a report as of that day
    prepared on the office's day of ``known_at`` (or on ``clock.today``).
    """
    tz = tz or ZoneInfo("UTC")
    if period is None:
        if as_of is None:
            raise TypeError("render_report needs a period or as_of")
        prepared_on = known_at.astimezone(tz).date() if known_at is not None else clock.today
        period = ReportPeriod(BusinessDate.of(as_of), as_of, known_at, prepared_on)
    data: dict[str, Any] = council_report(db, clock, as_of=period.as_of, known_at=period.known_at)
    said = words(lang)
    names = said.locale.territories
    data["countries"] = dict(sorted(data["countries"].items(), key=lambda item: names.get(item[0], item[0])))
    counts: dict[str, int] = {}
    for docs in data["countries"].values():
        for doc in docs:
            counts[doc["status"]] = counts.get(doc["status"], 0) + 1
    return (
        _environment(said, tz)
        .get_template("council.html")
        .render(
            lang=lang,
            report=data,
            period=period,
            year_over=period.as_of == date(period.as_of.year, 12, 31),
            organisation=organisation,
            counts=counts,
            total=sum(counts.values()),
        )
    )


def report_filename(period: ReportPeriod, lang: str, extension: str) -> str:
    """The file name of a report: its period, its language and, with ``known_at``, the moment."""
    moment = period.known_at.astimezone(UTC).strftime("-%Y%m%dT%H%M%SZ") if period.known_at else ""
    return f"council-report-{period.asked.isoformat()}{moment}-{lang}.{extension}"


def report_pdf(html: str) -> bytes:
    """The report page as a PDF for printing (A4, page numbers, fonts embedded), by WeasyPrint.

    Nothing outside the page is fetched: the page is standalone.
    """
    from weasyprint import HTML

    def no_fetching(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"the report fetches nothing ({url})")

    return HTML(string=html, url_fetcher=no_fetching).write_pdf()
