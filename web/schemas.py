"""marshmallow schemas: one per command (shared by the HTML forms and the JSON API),
plus the response shapes documented in the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from babel import Locale
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from application.timeparse import ISO_DATE
from domain.dates import BusinessDate
from domain.event_types import RECORDABLE
from domain.partnership import snake_case
from domain.values import (
    ACTIVITY_KINDS,
    AGREEMENT_KINDS,
    AREAS,
    MAX_INACTIVITY_DAYS,
    MIN_INACTIVITY_DAYS,
    PARTNER_KINDS,
    REMINDER_KINDS,
    RESOLUTION_PURPOSES,
    SIDES,
    STATUSES,
)
from web.messages import said

_NOT_COUNTRIES = {"ZZ", "EU", "UN", "QO", "EZ", "XA", "XB", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}  # not ISO 3166-1
COUNTRY_CODES: frozenset[str] = frozenset(
    code for code in Locale("en").territories if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: What ends a line (``str.splitlines`` and Unicode): refused in a single-line text (names, titles, references)
#: because a line break in a mail header or a one-line listing breaks it; multi-line texts keep CR and LF.
LINE_BREAKS = "\r\n\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[{LINE_BREAKS}]")
#: From this many characters a text is multi-line (a textarea in the forms: descriptions, notes, reasons).
MULTI_LINE_FROM = 2000


def _char_class(chars: Iterable[str]) -> str:
    """The body of a regex character class matching exactly ``chars``, as ``\\uXXXX`` escapes and ranges
    (understood alike by Python, ECMA 262 and the JSON Schema validators)."""
    codes = sorted({ord(c) for c in chars})
    parts, i = [], 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        parts.append(f"\\u{codes[i]:04x}" + (f"-\\u{codes[j]:04x}" if j > i else ""))
        i = j + 1
    return "".join(parts)


#: What ``str.strip()`` removes (every character Python counts as white space) and what Text refuses.
_SPACE_CLASS = _char_class(chr(c) for c in range(0x10000) if chr(c).isspace())
_CONTROL_CLASS = _char_class(chr(c) for c in range(0x80) if _CONTROL.match(chr(c)))
_LINE_BREAK_CLASS = _char_class(LINE_BREAKS)


def _text_pattern(refused: str) -> str:
    """Text as JSON Schema: after trimming white space, at least one character and none of ``refused``."""
    space = _SPACE_CLASS
    return f"^[{space}]*[^{space}{refused}](?:[^{refused}]*[^{space}{refused}])?[{space}]*$"


#: A multi-line text (descriptions, notes, reasons) as JSON Schema: no control characters, line breaks kept.
TEXT_PATTERN = _text_pattern(_CONTROL_CLASS)
#: A single-line text (names, titles, references) as JSON Schema: no control characters and no line breaks
#: (white space around the text, line breaks included, is trimmed as on every text).
LINE_PATTERN = _text_pattern(_CONTROL_CLASS + _LINE_BREAK_CLASS)


# --- fields whose every message has a code (web/messages.py) -------------------------------------

#: What any field may say: missing, null, refused by a validator.
_FIELD_ERRORS = {"required": said("required"), "null": said("null"), "validator_failed": said("invalid")}


def _one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error=said("one_of"))


def _at_most(max_length: int) -> validate.Length:
    return validate.Length(max=max_length, error=said("too_long"))


def _between(low: int, high: int) -> validate.Range:
    return validate.Range(min=low, max=high, error=said("out_of_range"))


class String(fields.String):
    """A string whose every message has a code."""

    default_error_messages = {**_FIELD_ERRORS, "invalid": said("not_a_string"), "invalid_utf8": said("not_a_string")}


class Integer(fields.Integer):
    """An integer whose every message has a code."""

    default_error_messages = {**_FIELD_ERRORS, "invalid": said("not_an_integer"), "too_large": said("number_too_large")}


class List(fields.List):
    """A list whose every message has a code."""

    default_error_messages = {**_FIELD_ERRORS, "invalid": said("not_a_list")}


class CommandSchema(Schema):
    """A command's schema: refuses what is not an object and the fields it does not know, with codes."""

    error_messages = {"type": said("not_an_object"), "unknown": said("unknown_field")}


class Text(String):
    """A trimmed string without control characters: 1..max_length characters as sent, at least one left
    after trimming. A single-line text (the default below :data:`MULTI_LINE_FROM` characters) also refuses
    line and paragraph separators (CR, LF, U+0085, U+2028, U+2029); a multi-line one keeps them."""

    default_error_messages = {
        "too_long": said("too_long"),
        "control_characters": said("control_characters"),
        "line_break": said("line_break"),
    }

    def __init__(self, *, max_length: int = 200, multi_line: bool | None = None, **kwargs: Any) -> None:
        self.multi_line = max_length >= MULTI_LINE_FROM if multi_line is None else multi_line
        pattern = TEXT_PATTERN if self.multi_line else LINE_PATTERN
        metadata = {"pattern": pattern, **kwargs.pop("metadata", {})}
        at_least_one = validate.Length(min=1, error=said("too_short"))
        super().__init__(validate=[at_least_one, _at_most(max_length)], metadata=metadata, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > self.max_length:
            raise self.make_error("too_long", max=self.max_length)
        text = raw.strip()
        if _CONTROL.search(text):
            raise self.make_error("control_characters")
        if not self.multi_line and _LINE_BREAK.search(text):
            raise self.make_error("line_break")
        return text


class IsoDate(fields.Date):
    """A calendar date written exactly ``YYYY-MM-DD`` (RFC 3339 full-date, the OpenAPI ``date`` format)."""

    default_error_messages = {
        **_FIELD_ERRORS,
        **dict.fromkeys(("invalid", "invalid_awareness", "format"), said("not_a_date")),
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not ISO_DATE.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


#: A business date as JSON Schema can say it (a day's number is checked against its month by the server).
#: a year, a month or a day that is in the calendar (days past a month's end and 29 February of a common year
#: are not), so a request that fits the published schema is never refused for its date
BUSINESS_DATE_PATTERN = (
    r"^(?!0000)(?:[0-9]{4}(?:-(?:(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|1[0-9]|2[0-8]))?"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31))?"
    r"|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$"
)


_DAY_OR_MONTH_FORM = re.compile(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?")


class BusinessDateField(fields.Field):
    """A business date as precise as the record: ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (kept as given)."""

    default_error_messages = {
        **_FIELD_ERRORS,
        "invalid": said("not_a_business_date"),
        "no_such_day": said("no_such_day"),
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "type": "string",
            "pattern": BUSINESS_DATE_PATTERN,
            "example": "2019-10-18",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> BusinessDate:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return BusinessDate.parse(value)
        except ValueError:
            # written as a day or a month, but the calendar has none such (2026-02-30, 2026-13)
            real = "no_such_day" if _DAY_OR_MONTH_FORM.fullmatch(value) else "invalid"
            raise self.make_error(real) from None

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


def _text(required: bool = False, max_length: int = 200) -> Text:
    return Text(required=required, max_length=max_length, allow_none=not required)


def _choice(choices: tuple[str, ...], required: bool = True) -> String:
    return String(required=required, allow_none=not required, validate=_one_of(choices))


def _list_of(choices: tuple[str, ...] | None = None, max_items: int = 50) -> List:
    inner = String(validate=_one_of(choices)) if choices else Text(max_length=200)
    return List(inner, allow_none=True, validate=_at_most(max_items))


#: A country code as the API takes it: any letter case, white space around it trimmed.
COUNTRY_PATTERN = (
    f"^[{_SPACE_CLASS}]*(?:"
    + "|".join(f"[{a}{a.lower()}][{b}{b.lower()}]" for a, b in sorted(COUNTRY_CODES))
    + f")[{_SPACE_CLASS}]*$"
)


class CountryField(String):
    """An ISO 3166-1 alpha-2 country code, in any letter case; kept upper case."""

    default_error_messages = {"not_a_country": said("not_a_country")}

    def __init__(self, **kwargs: Any) -> None:
        description = "ISO 3166-1 alpha-2 country code (any letter case; answered upper case), e.g. IT, GE, UA, ME."
        super().__init__(metadata={"pattern": COUNTRY_PATTERN, "description": description}, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        code = text.upper() if text.isascii() else ""  # "ß".upper() is "SS", which is not what was sent
        if code not in COUNTRY_CODES:
            raise self.make_error("not_a_country")
        return code


# --- commands -----------------------------------------------------------------------------


class RegisterPartnershipSchema(CommandSchema):
    partner_name = _text(required=True)
    partner_country = CountryField(required=True)
    partner_kind = _choice(PARTNER_KINDS)
    local_party = Text(max_length=200, load_default=None)
    areas = List(String(validate=_one_of(AREAS)), load_default=list, validate=_at_most(20))
    description = _text(max_length=4000)
    occurred_on = BusinessDateField(
        allow_none=True, metadata={"description": "When it began (a day, a month or a year); not after today."}
    )
    reference = _text()
    note = _text(max_length=4000)

    @post_load
    def _areas_once_each(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """An area named twice is one area (the read models keep each area of a partnership once)."""
        data["areas"] = list(dict.fromkeys(data["areas"]))
        return data


class RecordedEventSchema(CommandSchema):
    """What every recorded event carries."""

    occurred_on = BusinessDateField(
        required=True,
        metadata={
            "description": "When it happened: a day, a month or a year, as the record gives it; not after today."
        },
    )
    reference = _text()
    note = _text(max_length=4000)


class LetterOfIntentSignedSchema(RecordedEventSchema):
    signatories = _list_of()


class AgreementSignedSchema(RecordedEventSchema):
    agreement_kind = _choice(AGREEMENT_KINDS)
    parties = _list_of()
    areas = _list_of(AREAS, max_items=20)


class CouncilResolutionAdoptedSchema(RecordedEventSchema):
    purpose = _choice(RESOLUTION_PURPOSES)
    resolution_number = _text(max_length=100)
    body = _text()
    areas = _list_of(AREAS, max_items=20)


class SchoolJoinedSchema(RecordedEventSchema):
    school_name = _text(required=True)
    side = _choice(SIDES)
    town = _text()


class YouthExchangePlannedSchema(RecordedEventSchema):
    planned_for = BusinessDateField(required=True, metadata={"description": "May lie in the future."})
    description = _text(max_length=4000)


class YouthExchangeHeldSchema(RecordedEventSchema):
    ends_on = BusinessDateField(allow_none=True, metadata={"description": "The last day; not before occurred_on."})
    participants = Integer(allow_none=True, strict=True, validate=_between(1, 100_000))
    host_town = _text()
    schools = _list_of()

    _ends_after_start = validates_schema(lambda self, data, **_: _not_before_start(data))


def _not_before_start(data: dict[str, Any]) -> None:
    """``ends_on`` may not end before ``occurred_on`` begins (either may be a month or a year)."""
    ends, starts = data.get("ends_on"), data.get("occurred_on")
    if ends is not None and starts is not None and ends.last < starts.first:
        raise ValidationError(said("not_before_occurred_on"), "ends_on")


class ActivityHeldSchema(RecordedEventSchema):
    activity_kind = _choice(ACTIVITY_KINDS)
    title = _text(required=True)
    ends_on = BusinessDateField(allow_none=True, metadata={"description": "The last day; not before occurred_on."})

    _ends_after_start = validates_schema(lambda self, data, **_: _not_before_start(data))


class CooperationSuspendedSchema(RecordedEventSchema):
    reason = _text(required=True, max_length=2000)


class CooperationResumedSchema(RecordedEventSchema):
    reason = _text(max_length=2000)


class PartnershipTerminatedSchema(RecordedEventSchema):
    reason = _text(required=True, max_length=2000)
    effective_on = BusinessDateField(
        allow_none=True,
        metadata={"description": "When it takes effect, after a notice period (not before occurred_on)."},
    )

    @validates_schema
    def _effective_after_notice(self, data: dict[str, Any], **_: Any) -> None:
        ends, starts = data.get("effective_on"), data.get("occurred_on")
        if ends is not None and starts is not None and ends.last < starts.first:
            raise ValidationError(said("not_before_occurred_on"), "effective_on")


class PartnerRenamedSchema(RecordedEventSchema):
    partner_name = _text(required=True)


class InactivityPeriodSetSchema(RecordedEventSchema):
    days = Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=_between(MIN_INACTIVITY_DAYS, MAX_INACTIVITY_DAYS),
        metadata={"description": "Days of silence before this partnership counts as inactive; null: the default."},
    )


class NoteAddedSchema(RecordedEventSchema):
    text = _text(required=True, max_length=4000)


class EventRetractedSchema(RecordedEventSchema):
    retracts = Integer(required=True, strict=True, validate=_between(1, 2**53))
    reason = _text(required=True, max_length=2000)


class AcknowledgeReminderSchema(CommandSchema):
    note = _text(max_length=2000)


def _schemas_by_type() -> dict[str, type[Schema]]:
    found = {
        snake_case(name.removesuffix("Schema")): cls
        for name, cls in globals().items()
        if isinstance(cls, type) and issubclass(cls, RecordedEventSchema) and cls is not RecordedEventSchema
    }
    return {t: found[t] for t in RECORDABLE}


#: The command schema of every event type an officer can record.
EVENT_SCHEMAS: dict[str, type[Schema]] = _schemas_by_type()


def load_event(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Validate the fields of an event of ``event_type``; raises ValidationError naming the fields."""
    return EVENT_SCHEMAS[event_type]().load(payload)


# --- responses (documented in OpenAPI) ------------------------------------------------------


class SchoolSchema(Schema):
    name = fields.String(required=True)
    side = fields.String(required=True, validate=validate.OneOf(SIDES))
    town = fields.String(allow_none=True)


class PartnershipSchema(Schema):
    id = fields.UUID(required=True)
    partner_name = fields.String(required=True)
    partner_country = fields.String(required=True)
    partner_kind = fields.String(required=True, validate=validate.OneOf(PARTNER_KINDS))
    local_party = fields.String(required=True)
    description = fields.String(allow_none=True)
    areas = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_since = BusinessDateField(required=True)
    last_activity_on = BusinessDateField(required=True, allow_none=True)
    inactive = fields.Boolean(required=True)
    approximate = fields.Boolean(
        required=True,
        metadata={"description": "The day asked about falls inside a month or a year the answer rests on."},
    )
    inactivity_days = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Its own inactivity period; null: the default."}
    )
    former_names = fields.List(fields.String(), required=True)
    schools = fields.List(fields.Nested(SchoolSchema), required=True)
    version = fields.Integer(required=True)
    registered_at = fields.DateTime(required=True)
    exists_from = BusinessDateField(required=True)


class PartnershipListSchema(Schema):
    items = fields.List(fields.Nested(PartnershipSchema), required=True)
    total = fields.Integer(required=True)


class RegisterSchema(Schema):
    as_of = BusinessDateField(required=True)
    known_at = fields.DateTime(required=True, allow_none=True)
    items = fields.List(fields.Nested(PartnershipSchema), required=True)


class EventSchema(Schema):
    id = fields.UUID(required=True)
    partnership_id = fields.UUID(required=True)
    version = fields.Integer(required=True)
    type = fields.String(required=True)
    occurred_on = BusinessDateField(required=True, allow_none=True)
    recorded_at = fields.DateTime(required=True)
    recorded_by = fields.String(required=True)
    data = fields.Dict(required=True)
    retracted = fields.Boolean(required=True)
    retracted_by = fields.Integer(required=True, allow_none=True)
    retraction_reason = fields.String(required=True, allow_none=True)
    effect = fields.Dict(
        required=True,
        metadata={
            "description": '{"status_before", "status_after"} as the fold applies it now, or {"none": why, "status"}'
            " (with made_ineffective_by: the version of the back-dated entry that took its effect away)."
        },
    )


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)


class LogEntrySchema(EventSchema):
    position = fields.Integer(required=True)
    hash = fields.String(required=True)


class LogPageSchema(Schema):
    items = fields.List(fields.Nested(LogEntrySchema), required=True)
    next = fields.Integer(required=True, allow_none=True)


class HeadSchema(Schema):
    position = fields.Integer(required=True)
    hash = fields.String(required=True)


class VerifySchema(Schema):
    ok = fields.Boolean(required=True)
    checked = fields.Integer(required=True)
    head = fields.Nested(HeadSchema, required=True)
    problems = fields.List(fields.Dict(), required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    position = fields.Integer(required=True)


class ReminderSchema(Schema):
    id = fields.UUID(required=True)
    partnership_id = fields.UUID(required=True)
    flagged_version = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(REMINDER_KINDS))
    opened_on = BusinessDateField(required=True)
    open = fields.Boolean(required=True)
    acknowledged_by = fields.String(required=True, allow_none=True)
    acknowledged_at = fields.DateTime(required=True, allow_none=True)
    note = fields.String(required=True, allow_none=True)
    last_activity_on = BusinessDateField(allow_none=True)
    planned_for = BusinessDateField(allow_none=True)
    closed_by_version = fields.Integer(
        allow_none=True, metadata={"description": "The entry (later activity, an exchange held) that closed it."}
    )
    closed_on = BusinessDateField(allow_none=True)


class ReminderListSchema(Schema):
    items = fields.List(fields.Nested(ReminderSchema), required=True)


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "What went wrong, in English."})
    code = fields.String(
        required=True,
        metadata={"description": "A stable code for the refusal (docs/api.md lists them), e.g. stale_version."},
    )
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Per field, what is wrong with it, in English."},
    )
    field_codes = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Per field, the stable codes of its messages, in the order of fields."},
    )
    partnership_id = fields.UUID(
        metadata={
            "description": "Only on a 503 to a registration sent without Idempotency-Key: the id it was given, "
            "which may have been recorded; look it up before registering again."
        }
    )
