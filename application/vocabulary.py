"""What the program calls things, in one place, and how it says them in Polish and English.

* The **vocabulary**: the label of every value of the contract (statuses, event types, kinds of partner,
  agreement and activity, areas, sides, reminder kinds, resolution purposes, roles) and of every field.
  The web UI, the council report and the mails all take their words from here.
* **Messages as codes**: a :class:`Message` is a stable code, its English template and its parameters.
  The English template is what the API and the CLI say; it is also the message id under which the Babel
  catalogues translate it, so a reader in another language gets the same message from the code and the
  parameters, never by parsing an English sentence.
* :class:`Words`: one language's words (a catalogue, a locale and a way to write a day), which says a
  label, a field's name or a message in that language.

Everything here is English marked with :func:`N_` for the catalogues (``pybabel extract`` picks it up);
the translations live in ``application/translations`` (:mod:`application.i18n`). No Flask here: the web
UI wraps these labels in its own lazy strings (``web/ui/vocab.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from gettext import NullTranslations
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.support import Translations

from application.i18n import compiled_translations
from domain import errors as domain_errors
from domain.dates import MONTH, YEAR, BusinessDate
from domain.errors import N_  # the marker of English kept as message ids, shared with the domain's messages

#: The languages the catalogues speak, the default first.
LANGUAGES: tuple[str, ...] = ("pl", "en")
DEFAULT_LANGUAGE = "pl"


# --- the vocabulary ----------------------------------------------------------------------------------

ROLE_LABELS: dict[str, str] = {
    "officer": N_("International-cooperation officer"),
    "auditor": N_("Auditor"),
    "manager": N_("Manager"),
    "admin": N_("Administrator"),
}

STATUS_LABELS: dict[str, str] = {
    "proposed": N_("Proposed"),
    "intent": N_("Letter of intent"),
    "active": N_("Active"),
    "suspended": N_("Suspended"),
    "terminated": N_("Terminated"),
}

PARTNER_KIND_LABELS: dict[str, str] = {
    "municipality": N_("Municipality"),
    "district": N_("District"),
    "city": N_("City"),
    "region": N_("Region"),
    "school": N_("School"),
    "organisation": N_("Organisation"),
}

AREA_LABELS: dict[str, str] = {
    "education": N_("Education"),
    "culture": N_("Culture"),
    "sport": N_("Sport"),
    "economy": N_("Economy"),
    "tourism": N_("Tourism"),
    "environment": N_("Environment"),
    "agriculture": N_("Agriculture"),
    "youth": N_("Youth"),
    "social": N_("Social affairs"),
    "local_government": N_("Local government"),
    "health": N_("Health"),
    "civil_protection": N_("Civil protection"),
    "science": N_("Science"),
    "transport": N_("Transport"),
    "humanitarian_aid": N_("Humanitarian aid"),
    "other": N_("Other areas"),
}

AGREEMENT_KIND_LABELS: dict[str, str] = {
    "partnership": N_("Partnership agreement"),
    "cooperation": N_("Cooperation agreement"),
    "friendship": N_("Friendship agreement"),
    "protocol": N_("Protocol"),
    "school_cooperation": N_("School cooperation agreement"),
    "other": N_("Another kind of agreement"),
}

RESOLUTION_PURPOSE_LABELS: dict[str, str] = {
    "establish": N_("To establish the partnership"),
    "authorise_signing": N_("To authorise the signing"),
    "amend": N_("To amend"),
    "suspend": N_("To suspend the cooperation"),
    "resume": N_("To resume the cooperation"),
    "terminate": N_("To terminate the partnership"),
    "other": N_("Another purpose"),
}

SIDE_LABELS: dict[str, str] = {
    "local": N_("Ours (local)"),
    "partner": N_("The partner's"),
}

ACTIVITY_KIND_LABELS: dict[str, str] = {
    "conference": N_("Conference"),
    "training": N_("Training"),
    "visit": N_("Visit"),
    "cultural_event": N_("Cultural event"),
    "sports_event": N_("Sports event"),
    "aid_delivery": N_("Aid delivery"),
    "other": N_("Another kind of activity"),
}

REMINDER_KIND_LABELS: dict[str, str] = {
    "inactive": N_("No activity"),
    "exchange_overdue": N_("Planned youth exchange overdue"),
}

#: Why an entry changed no status (the ``none`` of its ``effect``; codes of domain/event_types.py).
EFFECT_LABELS: dict[str, str] = {
    "keeps_status": N_("does not change the status"),
    "already_in_status": N_("the partnership already had this status"),
    "already_further": N_("the partnership was already further along"),
    "purpose_keeps_status": N_("a resolution with this purpose does not change the status"),
    "purpose_not_applicable": N_("a resolution with this purpose cannot change this status"),
    "not_allowed_in_status": N_("not possible in the status it met: it has no effect"),
    "retracted": N_("retracted"),
}

EVENT_TYPE_LABELS: dict[str, str] = {
    "partnership_registered": N_("Partnership registered"),
    "letter_of_intent_signed": N_("Letter of intent signed"),
    "agreement_signed": N_("Agreement signed"),
    "council_resolution_adopted": N_("Council resolution adopted"),
    "school_joined": N_("School joined"),
    "youth_exchange_planned": N_("Youth exchange planned"),
    "youth_exchange_held": N_("Youth exchange held"),
    "activity_held": N_("Activity held"),
    "cooperation_suspended": N_("Cooperation suspended"),
    "cooperation_resumed": N_("Cooperation resumed"),
    "partnership_terminated": N_("Partnership terminated"),
    "partner_renamed": N_("Partner renamed"),
    "inactivity_period_set": N_("Inactivity period set"),
    "note_added": N_("Note added"),
    "event_retracted": N_("Entry retracted"),
    "inactivity_flagged": N_("Inactivity flagged"),
    "reminder_acknowledged": N_("Reminder acknowledged"),
}

FIELD_LABELS: dict[str, str] = {
    "partner_name": N_("Partner's name"),
    "partner_country": N_("Partner's country"),
    "partner_kind": N_("Kind of partner"),
    "local_party": N_("Our party"),
    "areas": N_("Areas of cooperation"),
    "description": N_("Description"),
    "occurred_on": N_("Date it happened"),
    "reference": N_("Reference (document or resolution number)"),
    "note": N_("Note"),
    "signatories": N_("Signatories"),
    "agreement_kind": N_("Kind of agreement"),
    "parties": N_("Parties"),
    "purpose": N_("Purpose of the resolution"),
    "resolution_number": N_("Resolution number"),
    "body": N_("Adopted by"),
    "school_name": N_("School's name"),
    "side": N_("Side"),
    "town": N_("Town"),
    "planned_for": N_("Planned for"),
    "ends_on": N_("Ended on"),
    "participants": N_("Number of participants"),
    "host_town": N_("Host town"),
    "schools": N_("Schools"),
    "activity_kind": N_("Kind of activity"),
    "title": N_("Title"),
    "reason": N_("Reason"),
    "effective_on": N_("Effective on"),
    "days": N_("Days without activity before a reminder"),
    "text": N_("Text"),
    "retracts": N_("Retracted entry"),
    "kind": N_("Kind"),
    "last_activity_on": N_("Last activity"),
    "flagged_version": N_("Reminder"),
    "registered_on": N_("Registered on"),
}

#: The vocabulary of each field whose values are codes, by the field's name (``type``: an event's type).
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "partner_kind": PARTNER_KIND_LABELS,
    "areas": AREA_LABELS,
    "agreement_kind": AGREEMENT_KIND_LABELS,
    "purpose": RESOLUTION_PURPOSE_LABELS,
    "side": SIDE_LABELS,
    "activity_kind": ACTIVITY_KIND_LABELS,
    "kind": REMINDER_KIND_LABELS,
    "status": STATUS_LABELS,
    "type": EVENT_TYPE_LABELS,
    "role": ROLE_LABELS,
}

#: A message's parameters that name a value of a vocabulary: said with its label (``event_type``, ``status``).
PARAMETER_VOCABULARIES: dict[str, str] = {"event_type": "type", "status": "status", "kind": "kind"}

#: How a message about one item of a list is said (``n`` counts from 1).
ITEM = N_("Item {n}: {message}")


# --- messages as codes -----------------------------------------------------------------------------


class _Params(dict):
    """Parameters for :meth:`str.format_map` that leave an unknown ``{name}`` as it is written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, params: Mapping[str, Any]) -> str:
    """``template`` with its ``{name}`` placeholders filled from ``params`` (unknown ones left as written)."""
    return template.format_map(_Params(params))


@dataclass(frozen=True)
class Message:
    """A message as a stable code, its English template (the catalogues' message id) and its parameters."""

    code: str
    template: str
    params: Mapping[str, Any] = field(default_factory=dict)
    #: where inside its field it applies: the keys of nested values (a list's index), outermost first
    at: tuple[int | str, ...] = ()

    def __str__(self) -> str:
        """The English text, as the API's answers and the CLI's lines give it."""
        return "".join(f"{key}: " for key in self.at) + fill(self.template, self.params)

    def inside(self, key: int | str) -> Message:
        """The same message, applying to the item ``key`` of the value it was about."""
        return Message(self.code, self.template, self.params, (key, *self.at))


def domain_message(error: domain_errors.DomainError) -> Message:
    """A domain error as a :class:`Message` (its code, the domain's English template, its parameters)."""
    return Message(error.code, domain_errors.MESSAGES[error.code], dict(error.params))


# --- one language's words ---------------------------------------------------------------------------


class Words:
    """One language's words: the catalogue's translations, the vocabulary's labels, days and messages.

    ``translations`` is a gettext catalogue (Babel's :class:`~babel.support.Translations`, or Flask-Babel's
    for the current request); ``day`` writes a date (by default Babel's long form in ``locale``).
    """

    def __init__(
        self,
        translations: NullTranslations,
        locale: Locale | str,
        day: Callable[[date], str] | None = None,
    ) -> None:
        self.translations = translations
        self.locale = Locale.parse(locale)
        self._day = day or (lambda d: format_date(d, format="long", locale=self.locale))

    @property
    def language(self) -> str:
        return str(self.locale)

    def gettext(self, message_id: str) -> str:
        """The catalogue's translation of an English message id (the id itself when it has none)."""
        return self.translations.gettext(message_id)

    __call__ = gettext

    def label(self, name: str, value: Any) -> str:
        """The label of ``value`` in the vocabulary of the field ``name`` (the value itself when it has none)."""
        labels = CHOICE_LABELS.get(name, {})
        if isinstance(value, str) and value in labels:
            return self.gettext(labels[value])
        return "" if value is None else str(value)

    def field(self, name: str) -> str:
        """A field's name as a reader calls it."""
        return self.gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name

    def day(self, value: Any) -> str:
        """A business date in this language, as precise as given: a day, a month ("styczeń 2008") or a year."""
        if value is None or value == "":
            return ""
        if isinstance(value, date):
            return self._day(value)
        try:
            when = BusinessDate.of(str(value))
        except ValueError:
            return str(value)
        if when.precision == YEAR:
            return str(when.year)
        if when.precision == MONTH:
            return format_date(when.first, format="LLLL y", locale=self.locale)
        return self._day(when.first)

    def parameter(self, name: str, value: Any) -> Any:
        """A message's parameter as this language says it: a vocabulary's value by its label, a day as a day."""
        if name in PARAMETER_VOCABULARIES:
            return self.label(PARAMETER_VOCABULARIES[name], value)
        if isinstance(value, date) or name in ("as_of", "occurred_on"):
            return self.day(value)
        return value

    def say(self, message: Message) -> str:
        """The message in this language: its template's translation, filled with its parameters' words."""
        params = {name: self.parameter(name, value) for name, value in message.params.items()}
        text = fill(self.gettext(message.template), params)
        for key in reversed(message.at):
            if isinstance(key, int):
                text = fill(self.gettext(ITEM), {"n": key + 1, "message": text})
            else:
                text = f"{key}: {text}"
        return text


@functools.cache
def words(language: str = DEFAULT_LANGUAGE) -> Words:
    """The words of ``language`` from the catalogues (for the report and the mails; the UI has its own)."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for {language!r}: choose one of {', '.join(LANGUAGES)}")
    translations = Translations.load(str(compiled_translations()), [language])
    return Words(translations, language)
