"""Languages: which one a request gets, names of countries, dates, and messages (by their codes) in it.

Polish is the default; ``?lang=`` wins, then the cookie the language switch sets, then the best
match of the browser's ``Accept-Language``. The locale keeps the region the browser gives for that
language, so dates follow it: ``en-GB`` writes "30 Nov 2026", ``en-US`` (and English with no region, as
Babel's ``en`` does) "Nov 30, 2026".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import request
from flask_babel import format_date, format_datetime, get_locale, get_translations
from markupsafe import Markup

from application.vocabulary import DEFAULT_LANGUAGE, LANGUAGES, Message, Words
from domain.dates import MONTH, YEAR, BusinessDate
from web.schemas import COUNTRY_CODES

LANGUAGE_COOKIE = "lang"
#: Each language's name in itself (the switch shows them so, whatever the page's language).
LANGUAGE_NAMES = {"pl": "Polski", "en": "English"}


def select_locale() -> str:
    """The request's locale: one of the UI's languages, with the browser's region for it (``en_GB``, ``en_US``)."""
    chosen = next(
        (c for c in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)) if c in LANGUAGES),
        None,
    )
    chosen = chosen or request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
    return with_region(chosen, [tag for tag, _quality in request.accept_languages])


def with_region(lang: str, accepted: list[str]) -> str:
    """``lang`` with the region of the first of the browser's tags in that language that Babel knows, else
    ``lang`` alone: ``with_region("en", ["pl-PL", "en-GB"]) == "en_GB"``."""
    for tag in accepted:
        parts = tag.replace("_", "-").split("-")
        if parts[0].lower() != lang or len(parts) < 2:
            continue
        region = parts[-1].upper()
        if not ((len(region) == 2 and region.isalpha()) or (len(region) == 3 and region.isdigit())):
            continue
        try:
            return str(Locale.parse(f"{lang}_{region}"))
        except (ValueError, UnknownLocaleError):
            continue
    return lang


def language() -> str:
    """The page's language (``pl`` or ``en``), without the region."""
    locale = get_locale()
    return str(locale.language) if locale else DEFAULT_LANGUAGE


def country_name(code: str | None) -> str:
    """The country's name in the page's language (the code itself when babel does not know it)."""
    if not code:
        return ""
    return Locale.parse(language()).territories.get(code.upper(), code)


def country_choices(codes: Any = None) -> list[tuple[str, str]]:
    """(code, name) pairs sorted by the name as the page's language writes it."""
    names = Locale.parse(language()).territories
    chosen = COUNTRY_CODES if codes is None else codes
    return sorted(((c, names.get(c, c)) for c in chosen), key=lambda pair: _collation_key(pair[1]))


_POLISH_ORDER = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"


def _collation_key(text: str) -> tuple:
    """Sort names the way the page's language does (Polish letters in their place), well enough for lists."""
    import unicodedata

    out = []
    for ch in text.casefold():
        if ch in _POLISH_ORDER:
            out.append((_POLISH_ORDER.index(ch), 0))
        else:
            base = unicodedata.normalize("NFKD", ch)[0]
            out.append((_POLISH_ORDER.index(base), 1) if base in _POLISH_ORDER else (100 + ord(base), 0))
    return tuple(out)


def as_date(value: date | str | None) -> date | None:
    """The day a value names (a month or a year: its first day)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else BusinessDate.of(value).first


def day(value: date | BusinessDate | str | None, fmt: str = "medium", *, governed: bool = False) -> str:
    """A business date in the page's language, as precise as it was given: "20 wrz 2018" / "20 Sept 2018",
    a month "styczeń 2008" / "January 2008", a year "2019". ``governed``: after a word that takes the
    genitive ("since": "od października 2025"), a month is in that form (the same in English)."""
    if value is None or value == "":
        return ""
    when = BusinessDate.of(value)
    if when.precision == YEAR:
        return str(when.year)
    if when.precision == MONTH:
        return format_date(when.first, "MMMM y" if governed else "LLLL y")
    return format_date(when.first, fmt)


def moment(value: datetime | str | None, fmt: str = "medium") -> str:
    """A date and time in the page's language, in the office's time zone."""
    if not value:
        return ""
    return format_datetime(value if isinstance(value, datetime) else datetime.fromisoformat(value), fmt)


def time_tag(value: date | datetime | str | None, fmt: str = "medium", *, governed: bool = False) -> Markup:
    """``<time datetime=ISO>`` around the formatted date (or date-time); ``governed``: see :func:`day`."""
    if not value:
        return Markup("")
    if isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10):
        moment_at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        # to the second: HTML allows at most three digits of a second's fraction, and no reader needs them
        text, iso = moment(moment_at, fmt), moment_at.isoformat(timespec="seconds")
    else:
        when = BusinessDate.of(value)
        text, iso = (
            day(when, fmt, governed=governed),
            when.isoformat(),
        )  # a month or a year is a valid <time> value as it is
    return Markup('<time datetime="{}">{}</time>').format(iso, text)


# --- words and messages in the page's language ------------------------------------------------------


def words() -> Words:
    """The page's language as the shared vocabulary speaks it (this request's catalogue, days as the UI writes them)."""
    return Words(get_translations(), language(), day=day)


def say(message: Message) -> str:
    """A message (a refusal, a field's problem) in the page's language, translated by its code's template."""
    return words().say(message)
