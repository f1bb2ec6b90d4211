"""marshmallow schemas: one per command (shared by the HTML forms and the JSON API),
plus the response shapes documented in the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from babel import Locale
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from application.timeparse import ISO_DATE
from domain.event_types import RECORDABLE
from domain.partnership import snake_case
from domain.values import (
    ACTIVITY_KINDS,
    AGREEMENT_KINDS,
    AREAS,
    PARTNER_KINDS,
    REMINDER_KINDS,
    SIDES,
    STATUSES,
)

_NOT_COUNTRIES = {"ZZ", "EU", "UN", "QO", "EZ", "XA", "XB", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}  # not ISO 3166-1
COUNTRY_CODES: frozenset[str] = frozenset(
    code for code in Locale("en").territories if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
#: Text as JSON Schema: after trimming white space, at least one character and no control characters.
TEXT_PATTERN = (
    f"^[{_SPACE_CLASS}]*[^{_SPACE_CLASS}{_CONTROL_CLASS}]"
    f"(?:[^{_CONTROL_CLASS}]*[^{_SPACE_CLASS}{_CONTROL_CLASS}])?[{_SPACE_CLASS}]*$"
)


class Text(fields.String):
    """A trimmed string without control characters: 1..max_length characters as sent, at least one left
    after trimming."""

    def __init__(self, *, max_length: int = 200, **kwargs: Any) -> None:
        metadata = {"pattern": TEXT_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(validate=validate.Length(min=1, max=max_length), metadata=metadata, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > self.max_length:
            raise ValidationError(f"Longer than maximum length {self.max_length}.")
        text = raw.strip()
        if _CONTROL.search(text):
            raise ValidationError("Must not contain control characters.")
        return text


class IsoDate(fields.Date):
    """A calendar date written exactly ``YYYY-MM-DD`` (RFC 3339 full-date, the OpenAPI ``date`` format)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not ISO_DATE.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _text(required: bool = False, max_length: int = 200) -> Text:
    return Text(required=required, max_length=max_length, allow_none=not required)


def _choice(choices: tuple[str, ...], required: bool = True) -> fields.String:
    return fields.String(required=required, allow_none=not required, validate=validate.OneOf(choices))


def _list_of(choices: tuple[str, ...] | None = None, max_items: int = 50) -> fields.List:
    inner = fields.String(validate=validate.OneOf(choices)) if choices else Text(max_length=200)
    return fields.List(inner, allow_none=True, validate=validate.Length(max=max_items))


#: A country code as the API takes it: any letter case, white space around it trimmed.
COUNTRY_PATTERN = (
    f"^[{_SPACE_CLASS}]*(?:"
    + "|".join(f"[{a}{a.lower()}][{b}{b.lower()}]" for a, b in sorted(COUNTRY_CODES))
    + f")[{_SPACE_CLASS}]*$"
)


class CountryField(fields.String):
    """An ISO 3166-1 alpha-2 country code, in any letter case; kept upper case."""

    def __init__(self, **kwargs: Any) -> None:
        description = "ISO 3166-1 alpha-2 country code (any letter case; answered upper case), e.g. IT, GE, UA, ME."
        super().__init__(metadata={"pattern": COUNTRY_PATTERN, "description": description}, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        code = text.upper() if text.isascii() else ""  # "ß".upper() is "SS", which is not what was sent
        if code not in COUNTRY_CODES:
            raise ValidationError("Must be an ISO 3166-1 alpha-2 country code, e.g. IT, GE, UA, ME.")
        return code


# --- commands -----------------------------------------------------------------------------


class RegisterPartnershipSchema(Schema):
    partner_name = _text(required=True)
    partner_country = CountryField(required=True)
    partner_kind = _choice(PARTNER_KINDS)
    local_party = Text(max_length=200, load_default="Powiat Piaseczyński")
    areas = fields.List(
        fields.String(validate=validate.OneOf(AREAS)), load_default=list, validate=validate.Length(max=20)
    )
    description = _text(max_length=4000)
    occurred_on = IsoDate(allow_none=True, metadata={"description": "When it began; not after today."})
    reference = _text()
    note = _text(max_length=4000)

    @post_load
    def _areas_once_each(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """An area named twice is one area (the read models keep each area of a partnership once)."""
        data["areas"] = list(dict.fromkeys(data["areas"]))
        return data


class RecordedEventSchema(Schema):
    """What every recorded event carries."""

    occurred_on = IsoDate(required=True, metadata={"description": "When it happened; not after today (office time)."})
    reference = _text()
    note = _text(max_length=4000)


class LetterOfIntentSignedSchema(RecordedEventSchema):
    signatories = _list_of()


class AgreementSignedSchema(RecordedEventSchema):
    agreement_kind = _choice(AGREEMENT_KINDS)
    parties = _list_of()
    areas = _list_of(AREAS, max_items=20)


class CouncilResolutionAdoptedSchema(RecordedEventSchema):
    resolution_number = _text(required=True, max_length=100)
    body = _text()
    areas = _list_of(AREAS, max_items=20)


class SchoolJoinedSchema(RecordedEventSchema):
    school_name = _text(required=True)
    side = _choice(SIDES)
    town = _text()


class YouthExchangePlannedSchema(RecordedEventSchema):
    planned_for = IsoDate(required=True, metadata={"description": "May lie in the future."})
    description = _text(max_length=4000)


class YouthExchangeHeldSchema(RecordedEventSchema):
    ends_on = IsoDate(required=True, metadata={"description": "Not before occurred_on."})
    participants = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    host_town = _text()
    schools = _list_of()

    @validates_schema
    def _ends_after_start(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("ends_on") and data.get("occurred_on") and data["ends_on"] < data["occurred_on"]:
            raise ValidationError("Must not be before occurred_on.", "ends_on")


class ActivityHeldSchema(RecordedEventSchema):
    activity_kind = _choice(ACTIVITY_KINDS)
    title = _text(required=True)


class CooperationSuspendedSchema(RecordedEventSchema):
    reason = _text(required=True, max_length=2000)


class CooperationResumedSchema(RecordedEventSchema):
    reason = _text(max_length=2000)


class PartnershipTerminatedSchema(RecordedEventSchema):
    reason = _text(required=True, max_length=2000)


class NoteAddedSchema(RecordedEventSchema):
    text = _text(required=True, max_length=4000)


class EventRetractedSchema(RecordedEventSchema):
    retracts = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**53))
    reason = _text(required=True, max_length=2000)


class AcknowledgeReminderSchema(Schema):
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
    status_since = fields.Date(required=True)
    last_activity_on = fields.Date(required=True, allow_none=True)
    inactive = fields.Boolean(required=True)
    schools = fields.List(fields.Nested(SchoolSchema), required=True)
    version = fields.Integer(required=True)
    registered_at = fields.DateTime(required=True)
    exists_from = fields.Date(required=True)


class PartnershipListSchema(Schema):
    items = fields.List(fields.Nested(PartnershipSchema), required=True)
    total = fields.Integer(required=True)


class RegisterSchema(Schema):
    as_of = fields.Date(required=True)
    known_at = fields.DateTime(required=True, allow_none=True)
    items = fields.List(fields.Nested(PartnershipSchema), required=True)


class EventSchema(Schema):
    id = fields.UUID(required=True)
    partnership_id = fields.UUID(required=True)
    version = fields.Integer(required=True)
    type = fields.String(required=True)
    occurred_on = fields.Date(required=True, allow_none=True)
    recorded_at = fields.DateTime(required=True)
    recorded_by = fields.String(required=True)
    data = fields.Dict(required=True)
    retracted = fields.Boolean(required=True)
    retracted_by = fields.Integer(required=True, allow_none=True)
    retraction_reason = fields.String(required=True, allow_none=True)


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
    opened_on = fields.Date(required=True)
    open = fields.Boolean(required=True)
    acknowledged_by = fields.String(required=True, allow_none=True)
    acknowledged_at = fields.DateTime(required=True, allow_none=True)
    note = fields.String(required=True, allow_none=True)
    last_activity_on = fields.Date(allow_none=True)
    planned_for = fields.Date(allow_none=True)


class ReminderListSchema(Schema):
    items = fields.List(fields.Nested(ReminderSchema), required=True)


class ErrorSchema(Schema):
    error = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()))
