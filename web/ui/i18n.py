"""Languages: which one a request gets, names of countries, dates, and the refusals' messages in it.

Polish is the default; ``?lang=`` wins, then the cookie the language switch sets, then the best
match of the browser's ``Accept-Language``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from babel import Locale
from flask import request
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from web.schemas import COUNTRY_CODES

LANGUAGES: tuple[str, ...] = ("pl", "en")
DEFAULT_LANGUAGE = "pl"
LANGUAGE_COOKIE = "lang"
#: Each language's name in itself (the switch shows them so, whatever the page's language).
LANGUAGE_NAMES = {"pl": "Polski", "en": "English"}


def select_locale() -> str:
    for candidate in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


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
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(value)


def day(value: date | str | None, fmt: str = "medium") -> str:
    """A date in the page's language ("20 wrz 2018", "Sep 20, 2018")."""
    d = as_date(value)
    return format_date(d, fmt) if d else ""


def moment(value: datetime | str | None, fmt: str = "medium") -> str:
    """A date and time in the page's language, in the office's time zone."""
    if not value:
        return ""
    return format_datetime(value if isinstance(value, datetime) else datetime.fromisoformat(value), fmt)


def time_tag(value: date | datetime | str | None, fmt: str = "medium") -> Markup:
    """``<time datetime=ISO>`` around the formatted date (or date-time)."""
    if not value:
        return Markup("")
    if isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10):
        text, iso = moment(value, fmt), value.isoformat() if isinstance(value, datetime) else value
    else:
        d = as_date(value)
        text, iso = day(d, fmt), d.isoformat() if d else ""
    return Markup('<time datetime="{}">{}</time>').format(iso, text)


# --- refusals in the page's language ------------------------------------------------------------

#: The English messages of the schemas and the domain, and how to say them (regex -> gettext call).
_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"Missing data for required field\.|is required|Field may not be null\."), lambda m: _("Required.")),
    (re.compile(r"Not a valid date\.|Must be a date, YYYY-MM-DD\."), lambda m: _("Give a date as YYYY-MM-DD.")),
    (re.compile(r"Not a valid integer\.|Must be an integer.*"), lambda m: _("Give a whole number.")),
    (re.compile(r"Not a valid (string|list|boolean)\."), lambda m: _("This value is not valid.")),
    (re.compile(r"Must be one of: .*"), lambda m: _("Choose one of the options.")),
    (
        re.compile(r"Longer than maximum length (?P<n>[0-9]+)\."),
        lambda m: _("At most %(n)s characters.", n=m["n"]),
    ),
    (re.compile(r"Shorter than minimum length [0-9]+\."), lambda m: _("Required.")),
    (re.compile(r"Must not contain control characters\."), lambda m: _("Must not contain control characters.")),
    (
        re.compile(r"Must be greater than or equal to (?P<lo>[0-9]+) and less than or equal to (?P<hi>[0-9]+)\."),
        lambda m: _("Give a number from %(lo)s to %(hi)s.", lo=m["lo"], hi=m["hi"]),
    ),
    (re.compile(r"Must be an ISO 3166-1 alpha-2 country code.*"), lambda m: _("Choose a country from the list.")),
    (
        re.compile(r"[Mm]ust not be before occurred_on\.?"),
        lambda m: _("Must not be before the day it began."),
    ),
    (re.compile(r"must not be after today"), lambda m: _("Must not be after today.")),
    (re.compile(r"must be the version of an earlier event"), lambda m: _("Must be an earlier entry.")),
    (re.compile(r"unknown field|Unknown field\."), lambda m: _("This field is not expected here.")),
    (
        re.compile(
            r"(?P<type>[a-z_]+) is not allowed while the partnership is (?P<status>[a-z]+) \(as of (?P<d>[-0-9]+)\)"
        ),
        lambda m: _(
            "“%(event)s” is not allowed while the partnership is “%(status)s” (as of %(day)s).",
            event=_label("EVENT_TYPE_LABELS", m["type"]),
            status=_label("STATUS_LABELS", m["status"]),
            day=day(m["d"]),
        ),
    ),
    (re.compile(r"there is no event [0-9]+ in this partnership"), lambda m: _("There is no such entry.")),
    (re.compile(r"the registration cannot be retracted"), lambda m: _("The registration cannot be retracted.")),
    (re.compile(r"a retraction cannot be retracted"), lambda m: _("A retraction cannot be retracted.")),
    (re.compile(r"event [0-9]+ is already retracted"), lambda m: _("This entry is already retracted.")),
    (re.compile(r"reminder .* is not open"), lambda m: _("This reminder has already been acknowledged.")),
    (re.compile(r"stale version.*"), lambda m: _("Someone else has just changed this partnership. Try again.")),
    (re.compile(r"partnership .* not found.*"), lambda m: _("There is no such partnership.")),
    (re.compile(r"reminder .* not found"), lambda m: _("There is no such reminder.")),
    (re.compile(r"the role .* may not do this"), lambda m: _("Your role may not do this.")),
    (re.compile(r"authentication required.*"), lambda m: _("Please sign in.")),
    (re.compile(r"Must be an ISO 8601 date-time.*"), lambda m: _("Give a date and time.")),
    (re.compile(r"[Aa] digest looks like POSITION:HASH.*"), lambda m: _("A digest looks like POSITION:HASH.")),
    (
        re.compile(r"csrf"),
        lambda m: _("The form has expired or did not come from this site. Go back, reload the page and try again."),
    ),
]
_ITEM = re.compile(r"(?P<i>[0-9]+): (?P<rest>.*)", re.DOTALL)


def _label(table: str, key: str) -> str:
    from web.ui import vocab

    return str(getattr(vocab, table).get(key, key))


def translate_message(message: str) -> str:
    """A refusal's message in the page's language (unknown messages are shown as they are)."""
    item = _ITEM.fullmatch(message)
    if item:  # a list's item: "2: Must be one of: ..."
        return _("Item %(n)s: %(message)s", n=int(item["i"]) + 1, message=translate_message(item["rest"]))
    for pattern, say in _MESSAGES:
        match = pattern.fullmatch(message.strip())
        if match:
            return say(match)
    return message
