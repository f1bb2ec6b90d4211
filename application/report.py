"""``tracker report``: the council report as one standalone HTML page, in Polish or English.

Given ``--known-at`` the same arguments always give the same bytes: the page
holds nothing that depends on when it was generated, only on the log up to
that moment (whose position and hash it names, so the council's copy can be
checked against the log).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from application.vocabulary import DEFAULT_LANGUAGE, Words, words
from infrastructure.store import Db
from projections.queries import Clock
from projections.report import council_report


def _term(said: Words, name: str, value: Any) -> str:
    """A value of the vocabulary of field ``name`` as the report writes it inside a sentence (lower case first)."""
    label = said.label(name, value)
    return label[:1].lower() + label[1:]


def _environment(said: Words) -> Environment:
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
    return env


def render_report(db: Db, clock: Clock, *, as_of: date, known_at: datetime | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """The council report as a standalone HTML page (inline CSS, no scripts, prints on A4)."""
    data: dict[str, Any] = council_report(db, clock, as_of=as_of, known_at=known_at)
    said = words(lang)
    names = said.locale.territories
    data["countries"] = dict(sorted(data["countries"].items(), key=lambda item: names.get(item[0], item[0])))
    counts: dict[str, int] = {}
    for docs in data["countries"].values():
        for doc in docs:
            counts[doc["status"]] = counts.get(doc["status"], 0) + 1
    return (
        _environment(said)
        .get_template("council.html")
        .render(lang=lang, report=data, counts=counts, total=sum(counts.values()))
    )
