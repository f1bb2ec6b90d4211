"""HTML forms over the API's marshmallow schemas: the same schema validates a form and a JSON body.

A form's fields are derived from its schema (a date field becomes a date input, a choice a select,
a list of choices checkboxes, a list of texts a textarea with one item per line). What the browser
sends is turned into the payload the schema expects: blank inputs are left out (the schemas refuse
``""`` for optional texts), lines become lists, digits become integers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from web.errors import ApiError, to_api_error
from web.schemas import BusinessDateField, CountryField, IsoDate, Text
from web.ui.i18n import say
from web.ui.vocab import FIELD_HINTS, FIELD_LABELS

#: Text fields at least this long get a textarea.
LONG_TEXT = 2000
_INTEGER = re.compile(r"[-+]?[0-9]{1,18}")
#: Common fields go around each event's own fields in this order.
FIRST, LAST = ("occurred_on",), ("reference", "note")


#: How a Polish office writes a day or a month: 10.07.2026, 1.7.2026, 07.2026 (also with "/" or "-").
_WRITTEN_DAY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_WRITTEN_MONTH = re.compile(r"(\d{1,2})[./-](\d{4})")


def iso_business_date(typed: str) -> str:
    """A business date as the schema takes it: ``10.07.2026`` becomes ``2026-07-10`` and ``07.2026``
    ``2026-07``; anything else is passed on as typed (the schema then says what is wrong). The API keeps to
    the ISO forms; the forms take what people in the office type."""
    if day := _WRITTEN_DAY.fullmatch(typed):
        d, m, y = day.groups()
        return f"{y}-{int(m):02d}-{int(d):02d}"
    if month := _WRITTEN_MONTH.fullmatch(typed):
        m, y = month.groups()
        return f"{y}-{int(m):02d}"
    return typed


@dataclass(frozen=True)
class FormField:
    name: str
    kind: str  # text, textarea, date, number, select, country, checkboxes, lines, pick
    required: bool
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    #: this form's own label for the field (e.g. an exchange's date is when it started)
    own_label: Any = None

    @property
    def id(self) -> str:
        return f"f-{self.name}"

    @property
    def label(self) -> str:
        return str(self.own_label or FIELD_LABELS.get(self.name, self.name))

    @property
    def hint(self) -> str | None:
        hint = FIELD_HINTS.get(f"{self.name}_pick" if self.kind == "pick" else self.name)
        return str(hint) if hint else None

    @property
    def multiple(self) -> bool:
        return self.kind in ("checkboxes", "lines", "pick")

    @property
    def other(self) -> str:
        """A pick's textarea for what the list does not offer."""
        return f"{self.name}_other"

    @property
    def anchor(self) -> str:
        """Where the error summary's link for this field lands (the first box of a group)."""
        if self.kind == "checkboxes":
            return f"{self.id}-{self.choices[0]}"
        if self.kind == "pick":
            return f"{self.id}-0" if self.choices else f"{self.id}-other"
        return self.id


def _one_of(f: fields.Field) -> tuple[str, ...]:
    for v in f.validators:
        if isinstance(v, validate.OneOf):
            return tuple(v.choices)
    return ()


def form_field(name: str, f: fields.Field) -> FormField:
    """The input that fits a schema field."""
    if isinstance(f, CountryField):
        return FormField(name, "country", f.required)
    if isinstance(f, IsoDate | BusinessDateField):
        return FormField(name, "date", f.required)
    if isinstance(f, fields.Integer):
        return FormField(name, "number", f.required)
    if isinstance(f, fields.List):
        choices = _one_of(f.inner)
        return FormField(name, "checkboxes" if choices else "lines", f.required, choices)
    if _one_of(f):
        return FormField(name, "select", f.required, _one_of(f))
    max_length = getattr(f, "max_length", None)
    kind = "textarea" if isinstance(f, Text) and max_length and max_length >= LONG_TEXT else "text"
    return FormField(name, kind, f.required, max_length=max_length)


@dataclass
class Form:
    """One command's form: its fields, what was typed, and the errors to show next to each field."""

    schema: type[Schema]
    exclude: tuple[str, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    #: refusals that belong to no one field (a conflict with the partnership's state), shown above the form
    problems: list[str] = field(default_factory=list)
    #: this form's own labels, by field name
    labels: dict[str, Any] = field(default_factory=dict)
    #: list fields offered as checkboxes of known values plus a textarea for others (e.g. the partnership's
    #: schools), by field name
    picks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def inputs(self) -> list[FormField]:
        declared = self.schema._declared_fields  # noqa: SLF001 - marshmallow's own listing
        names = [n for n in declared if n not in self.exclude]
        ordered = [n for n in FIRST if n in names]
        ordered += [n for n in names if n not in FIRST and n not in LAST]
        ordered += [n for n in LAST if n in names]
        out = []
        for n in ordered:
            f = form_field(n, declared[n])
            if n in self.picks and f.kind == "lines" and self.picks[n]:
                f = FormField(n, "pick", f.required, tuple(self.picks[n]))
            if n in self.labels:
                f = FormField(f.name, f.kind, f.required, f.choices, f.max_length, self.labels[n])
            out.append(f)
        return out

    def read(self, form: MultiDict) -> dict[str, Any]:
        """Keep what was typed (to show it again) and return the payload for the schema."""
        payload: dict[str, Any] = {}
        for f in self.inputs:
            if f.kind == "checkboxes":
                chosen = [v for v in form.getlist(f.name) if v.strip()]
                self.values[f.name] = chosen
                if chosen:
                    payload[f.name] = chosen
                continue
            if f.kind == "pick":
                chosen = [v for v in form.getlist(f.name) if v.strip()]
                others = form.get(f.other, "")
                self.values[f.name], self.values[f.other] = chosen, others
                typed = [line.strip() for line in others.splitlines() if line.strip()]
                if chosen or typed:
                    payload[f.name] = list(dict.fromkeys([*chosen, *typed]))
                continue
            raw = form.get(f.name, "")
            self.values[f.name] = raw
            if not raw.strip():
                continue  # a blank input is an absent field
            if f.kind == "lines":
                payload[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
            elif f.kind == "number" and _INTEGER.fullmatch(raw.strip()):
                payload[f.name] = int(raw.strip())
            elif f.kind == "date":
                payload[f.name] = iso_business_date(raw.strip())
            elif f.kind in ("select", "country"):
                payload[f.name] = raw.strip()
            else:
                payload[f.name] = raw
        return payload

    def load(self, form: MultiDict, **extra: Any) -> dict[str, Any]:
        """The validated fields (raises marshmallow's ValidationError, as the API does)."""
        return self.schema().load({**self.read(form), **extra})

    def refuse(self, error: Exception) -> int:
        """Take a refusal (validation, domain) through the API's mapping; returns its HTTP status."""
        api_error: ApiError = to_api_error(error)
        shown = {f.name for f in self.inputs}
        for name, messages in api_error.fields.items():
            said = [say(m) for m in messages]
            if name in shown:
                self.errors.setdefault(name, []).extend(said)
            else:
                self.problems.extend(said)
        if not api_error.fields:
            self.problems.append(say(api_error.message))
        return api_error.status

    def value(self, name: str) -> Any:
        listed = {f.name for f in self.inputs if f.kind in ("checkboxes", "pick")}
        return self.values.get(name, [] if name in listed else "")
