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

from babel import Locale
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, select_autoescape

from infrastructure.store import Db
from projections.queries import Clock
from projections.report import council_report

LABELS: dict[str, dict[str, str]] = {
    "pl": {
        "title": "Sprawozdanie ze współpracy zagranicznej",
        "as_of": "Stan na dzień",
        "known_at": "według wpisów dokonanych do",
        "known_now": "według wszystkich wpisów w rejestrze",
        "basis": "Podstawa: rejestr do pozycji",
        "summary": "Podsumowanie",
        "partners": "Partnerzy",
        "country": "Państwo",
        "partner": "Partner",
        "kind": "Rodzaj",
        "status": "Status",
        "since": "od",
        "areas": "Obszary współpracy",
        "schools": "Szkoły",
        "local": "po naszej stronie",
        "partner_side": "po stronie partnera",
        "last_activity": "Ostatnia aktywność",
        "inactive": "brak aktywności dłużej niż {days} dni",
        "activity": "Aktywność w roku {year}",
        "no_activity": "brak odnotowanej aktywności",
        "none": "brak",
        "total": "Razem partnerstw",
        "empty": "Rejestr nie zawiera partnerstw istniejących w tym dniu.",
    },
    "en": {
        "title": "Report on foreign cooperation",
        "as_of": "As of",
        "known_at": "as recorded by",
        "known_now": "as recorded in the register now",
        "basis": "Based on the register up to position",
        "summary": "Summary",
        "partners": "Partners",
        "country": "Country",
        "partner": "Partner",
        "kind": "Kind",
        "status": "Status",
        "since": "since",
        "areas": "Areas of cooperation",
        "schools": "Schools",
        "local": "on our side",
        "partner_side": "on the partner's side",
        "last_activity": "Last activity",
        "inactive": "no activity for more than {days} days",
        "activity": "Activity in {year}",
        "no_activity": "no activity recorded",
        "none": "none",
        "total": "Partnerships in total",
        "empty": "The register holds no partnership that existed on that day.",
    },
}

TERMS: dict[str, dict[str, str]] = {
    "pl": {
        "proposed": "proponowane",
        "intent": "list intencyjny",
        "active": "aktywne",
        "suspended": "zawieszone",
        "terminated": "zakończone",
        "municipality": "gmina",
        "district": "powiat / dzielnica",
        "city": "miasto",
        "region": "region",
        "school": "szkoła",
        "organisation": "organizacja",
        "letter_of_intent_signed": "podpisano list intencyjny",
        "agreement_signed": "podpisano umowę",
        "council_resolution_adopted": "podjęto uchwałę rady",
        "school_joined": "dołączyła szkoła",
        "youth_exchange_held": "odbyła się wymiana młodzieży",
        "activity_held": "odbyło się wydarzenie",
        "cooperation_resumed": "wznowiono współpracę",
        "education": "edukacja",
        "culture": "kultura",
        "sport": "sport",
        "economy": "gospodarka",
        "tourism": "turystyka",
        "environment": "ochrona środowiska",
        "agriculture": "rolnictwo",
        "youth": "młodzież",
        "social": "sprawy społeczne",
        "local_government": "samorząd lokalny",
        "health": "zdrowie",
        "other": "inne",
    },
    "en": {
        "proposed": "proposed",
        "intent": "letter of intent",
        "active": "active",
        "suspended": "suspended",
        "terminated": "terminated",
        "municipality": "municipality",
        "district": "district",
        "city": "city",
        "region": "region",
        "school": "school",
        "organisation": "organisation",
        "letter_of_intent_signed": "letter of intent signed",
        "agreement_signed": "agreement signed",
        "council_resolution_adopted": "council resolution adopted",
        "school_joined": "school joined",
        "youth_exchange_held": "youth exchange held",
        "activity_held": "activity held",
        "cooperation_resumed": "cooperation resumed",
        "education": "education",
        "culture": "culture",
        "sport": "sport",
        "economy": "economy",
        "tourism": "tourism",
        "environment": "environment",
        "agriculture": "agriculture",
        "youth": "youth",
        "social": "social affairs",
        "local_government": "local government",
        "health": "health",
        "other": "other",
    },
}

LANGUAGES = tuple(LABELS)


def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates" / "report"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    locale = Locale(lang)
    env.filters["term"] = lambda key: TERMS[lang].get(key, key)
    env.filters["country"] = lambda code: locale.territories.get(code, code)
    env.filters["day"] = lambda iso: format_date(date.fromisoformat(iso), format="long", locale=locale) if iso else ""
    return env


def render_report(db: Db, clock: Clock, *, as_of: date, known_at: datetime | None, lang: str = "pl") -> str:
    """The council report as a standalone HTML page (inline CSS, no scripts, prints on A4)."""
    data: dict[str, Any] = council_report(db, clock, as_of=as_of, known_at=known_at)
    env = _environment(lang)
    names = Locale(lang).territories
    data["countries"] = dict(sorted(data["countries"].items(), key=lambda item: names.get(item[0], item[0])))
    counts: dict[str, int] = {}
    for docs in data["countries"].values():
        for doc in docs:
            counts[doc["status"]] = counts.get(doc["status"], 0) + 1
    return env.get_template("council.html").render(
        lang=lang, t=LABELS[lang], report=data, counts=counts, total=sum(counts.values())
    )
