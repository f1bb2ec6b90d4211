"""The command schemas: valid input loads into Python values, bad input is refused naming the field."""

from __future__ import annotations

import re

import pytest
from marshmallow import ValidationError

from domain.dates import BusinessDate
from domain.event_types import RECORDABLE
from domain.values import ACTIVITY_KINDS, AGREEMENT_KINDS, AREAS, RESOLUTION_PURPOSES
from web.messages import field_messages
from web.schemas import AcknowledgeReminderSchema, RegisterPartnershipSchema, load_event

REGISTRATION = {"partner_name": "Gmina Bar", "partner_country": "ME", "partner_kind": "municipality"}

#: a valid JSON payload of every recordable type, every optional field given (dates as precise as records are)
VALID: dict[str, dict] = {
    "letter_of_intent_signed": {"occurred_on": "2009-01", "signatories": ["Starosta", "Mayor of Bar"]},
    "agreement_signed": {
        "occurred_on": "1992",
        "agreement_kind": "partnership",
        "parties": ["Powiat Piaseczyński", "Opština Bar"],
        "areas": ["culture", "education"],
        "reference": "Or.0123/2010",
    },
    "council_resolution_adopted": {
        "occurred_on": "2009-06-25",
        "purpose": "authorise_signing",
        "resolution_number": "XXI/150/2009",
        "body": "Rada Powiatu",
        "areas": ["youth"],
    },
    "school_joined": {"occurred_on": "2011-09-01", "school_name": "LO im. Kopernika", "side": "local", "town": "Góra"},
    "youth_exchange_planned": {"occurred_on": "2012-01-10", "planned_for": "2012-07-01", "description": "Summer camp"},
    "youth_exchange_held": {
        "occurred_on": "2012-07-01",
        "ends_on": "2012-07-08",
        "participants": 24,
        "host_town": "Bar",
        "schools": ["LO im. Kopernika"],
    },
    "activity_held": {
        "occurred_on": "2013-03-03",
        "activity_kind": "conference",
        "title": "Forum of regions",
        "ends_on": "2013-03-08",
    },
    "cooperation_suspended": {"occurred_on": "2020-03-01", "reason": "Pandemic"},
    "cooperation_resumed": {"occurred_on": "2022-03-01"},
    "partnership_terminated": {
        "occurred_on": "2022-03-31",
        "reason": "Resolution of the council",
        "effective_on": "2022-06-30",
    },
    "partner_renamed": {"occurred_on": "2015", "partner_name": "Opština Bar"},
    "inactivity_period_set": {"occurred_on": "2024-01-05", "days": 1095},
    "note_added": {"occurred_on": "2024-02-02", "text": "Line one\nline two"},
    "event_retracted": {"occurred_on": "2024-02-03", "retracts": 3, "reason": "Wrong date"},
}

DATE_FIELDS = {"occurred_on", "planned_for", "ends_on", "effective_on"}


def errors_of(event_type: str, payload: dict) -> dict:
    with pytest.raises(ValidationError) as err:
        load_event(event_type, payload)
    return err.value.messages


def codes_of(event_type: str, payload: dict) -> dict[str, list[str]]:
    """The refusal's stable codes, per field."""
    return {
        name: [m.code for m in messages] for name, messages in field_messages(errors_of(event_type, payload)).items()
    }


def with_(event_type: str, **changes) -> dict:
    payload = {**VALID[event_type], **changes}
    return {k: v for k, v in payload.items() if v is not ...}


def test_every_recordable_type_has_a_valid_payload():
    """The payloads here cover exactly the contract's recordable types."""
    assert set(VALID) == set(RECORDABLE)


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_valid_payloads_load_with_dates_as_business_dates(event_type):
    """Each type's valid payload loads; its date strings become business dates, exactly as precise as given."""
    loaded = load_event(event_type, VALID[event_type])
    assert set(loaded) == set(VALID[event_type])
    for name, value in loaded.items():
        if name in DATE_FIELDS:
            assert type(value) is BusinessDate
            assert value == BusinessDate.parse(VALID[event_type][name])
            assert str(value) == VALID[event_type][name]
        else:
            assert value == VALID[event_type][name]


@pytest.mark.parametrize(
    ("text", "loaded", "precision"),
    [
        ("2019-10-18", BusinessDate(2019, 10, 18), "day"),
        ("2008-01", BusinessDate(2008, 1), "month"),
        ("2019", BusinessDate(2019), "year"),
        ("1992", BusinessDate(1992), "year"),
        ("2020-02-29", BusinessDate(2020, 2, 29), "day"),
    ],
)
@pytest.mark.parametrize("field", ["occurred_on", "planned_for"])
def test_a_day_a_month_or_a_year_loads_as_given(field, text, loaded, precision):
    """A business date may be a day, a month or a year; it loads as such and is answered exactly as given."""
    value = load_event("youth_exchange_planned", with_("youth_exchange_planned", **{field: text}))[field]
    assert value == loaded
    assert value.precision == precision
    assert str(value) == text


def test_registration_loads_with_defaults():
    """A minimal registration has no areas and no local party of its own: the register's organisation is filled
    in by the application (TRACKER_ORGANISATION), never by the schema."""
    loaded = RegisterPartnershipSchema().load(REGISTRATION)
    assert loaded == {**REGISTRATION, "local_party": None, "areas": []}


def test_registration_with_a_date():
    """A registration's optional occurred_on becomes a business date."""
    loaded = RegisterPartnershipSchema().load({**REGISTRATION, "occurred_on": "2008-11-11", "areas": ["sport"]})
    assert loaded["occurred_on"] == BusinessDate(2008, 11, 11)
    assert loaded["areas"] == ["sport"]


@pytest.mark.parametrize(("text", "loaded"), [("2019", BusinessDate(2019)), ("2008-01", BusinessDate(2008, 1))])
def test_registration_with_a_year_or_a_month(text, loaded):
    """A registration may begin in a year or a month only; it is kept so, never padded to a day."""
    value = RegisterPartnershipSchema().load({**REGISTRATION, "occurred_on": text})["occurred_on"]
    assert value == loaded and str(value) == text


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_optional_common_fields_may_be_null(event_type):
    """reference and note may be given as null."""
    loaded = load_event(event_type, with_(event_type, reference=None, note=None))
    assert loaded["reference"] is None and loaded["note"] is None


OPTIONAL = [
    ("council_resolution_adopted", "resolution_number"),
    ("council_resolution_adopted", "body"),
    ("council_resolution_adopted", "areas"),
    ("youth_exchange_held", "ends_on"),
    ("youth_exchange_held", "participants"),
    ("youth_exchange_held", "host_town"),
    ("activity_held", "ends_on"),
    ("partnership_terminated", "effective_on"),
    ("agreement_signed", "parties"),
]


@pytest.mark.parametrize(("event_type", "field"), OPTIONAL)
def test_optional_fields_may_be_left_out(event_type, field):
    """What records often do not say (a resolution's number, an exchange's end or head count, a notice period)
    may be left out."""
    loaded = load_event(event_type, with_(event_type, **{field: ...}))
    assert field not in loaded


@pytest.mark.parametrize(("event_type", "field"), OPTIONAL)
def test_optional_fields_may_be_null(event_type, field):
    """... or sent as null."""
    assert load_event(event_type, with_(event_type, **{field: None}))[field] is None


@pytest.mark.parametrize("purpose", RESOLUTION_PURPOSES)
def test_every_resolution_purpose_loads(purpose):
    """Every purpose of the contract is accepted, with or without a resolution number."""
    assert load_event("council_resolution_adopted", with_("council_resolution_adopted", purpose=purpose)) == {
        **VALID["council_resolution_adopted"],
        "occurred_on": BusinessDate(2009, 6, 25),
        "purpose": purpose,
    }
    bare = {"occurred_on": "2022-03", "purpose": purpose}
    assert load_event("council_resolution_adopted", bare) == {"occurred_on": BusinessDate(2022, 3), "purpose": purpose}


@pytest.mark.parametrize(
    ("event_type", "field", "values"),
    [
        ("agreement_signed", "agreement_kind", AGREEMENT_KINDS),
        ("activity_held", "activity_kind", ACTIVITY_KINDS),
        ("agreement_signed", "areas", [[area] for area in AREAS]),
        ("council_resolution_adopted", "areas", [["civil_protection", "humanitarian_aid"]]),
    ],
)
def test_every_value_of_a_vocabulary_loads(event_type, field, values):
    """Every kind and area of the contract is accepted (the new ones included: friendship, aid_delivery,
    civil_protection, humanitarian_aid ...)."""
    for value in values:
        assert load_event(event_type, with_(event_type, **{field: value}))[field] == value


@pytest.mark.parametrize("days", [30, 365, 1095, 3650, None])
def test_an_inactivity_period_of_30_to_3650_days_or_null_loads(days):
    """A partnership's own inactivity period is 30 to 3650 days; null sets it back to the register's default."""
    assert load_event("inactivity_period_set", with_("inactivity_period_set", days=days))["days"] == days


@pytest.mark.parametrize(
    ("days", "code"),
    [
        (29, "out_of_range"),
        (3651, "out_of_range"),
        (0, "out_of_range"),
        (-365, "out_of_range"),
        ("365", "not_an_integer"),
        (365.0, "not_an_integer"),
        (True, "not_an_integer"),
    ],
)
def test_an_inactivity_period_outside_30_to_3650_whole_days_is_refused(days, code):
    """Fewer than 30 or more than 3650 days, or not a whole number, is refused under days, with its code."""
    assert codes_of("inactivity_period_set", with_("inactivity_period_set", days=days)) == {"days": [code]}


def test_an_inactivity_period_must_say_its_days():
    """days is required: null is the explicit way back to the default, leaving it out is a mistake."""
    assert codes_of("inactivity_period_set", with_("inactivity_period_set", days=...)) == {"days": ["required"]}


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("agreement_signed", "occurred_on"),
        ("agreement_signed", "agreement_kind"),
        ("council_resolution_adopted", "purpose"),
        ("school_joined", "school_name"),
        ("school_joined", "side"),
        ("youth_exchange_planned", "planned_for"),
        ("activity_held", "activity_kind"),
        ("activity_held", "title"),
        ("cooperation_suspended", "reason"),
        ("partnership_terminated", "reason"),
        ("partner_renamed", "partner_name"),
        ("note_added", "text"),
        ("event_retracted", "retracts"),
        ("event_retracted", "reason"),
        ("cooperation_resumed", "occurred_on"),
    ],
)
def test_missing_required_field_is_named(event_type, field):
    """Leaving out a required field is refused with an error under that field's name."""
    assert codes_of(event_type, with_(event_type, **{field: ...})) == {field: ["required"]}


def test_a_resolution_without_a_purpose_is_refused_even_with_a_number():
    """A resolution's purpose decides its effect; a number alone does not say it."""
    payload = {"occurred_on": "2009-06-25", "resolution_number": "XXI/150/2009"}
    assert codes_of("council_resolution_adopted", payload) == {"purpose": ["required"]}


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_missing_occurred_on_is_refused_for_every_type(event_type):
    """occurred_on is required for every recorded event."""
    assert set(errors_of(event_type, with_(event_type, occurred_on=...))) == {"occurred_on"}


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("agreement_signed", "agreement_kind", "treaty"),
        ("agreement_signed", "areas", ["space"]),
        ("council_resolution_adopted", "areas", ["Culture"]),
        ("council_resolution_adopted", "purpose", "Establish"),
        ("council_resolution_adopted", "purpose", "establishment"),
        ("council_resolution_adopted", "purpose", "suspended"),
        ("council_resolution_adopted", "purpose", None),
        ("council_resolution_adopted", "purpose", ""),
        ("school_joined", "side", "both"),
        ("activity_held", "activity_kind", "party"),
        ("activity_held", "activity_kind", None),
    ],
)
def test_wrong_enum_value_is_named(event_type, field, value):
    """A value outside the contract's vocabulary is refused under its field."""
    assert field in errors_of(event_type, with_(event_type, **{field: value}))


def test_a_purpose_outside_the_vocabulary_says_one_of():
    """An unknown purpose is refused with the one_of code, naming the choices."""
    errors = errors_of("council_resolution_adopted", with_("council_resolution_adopted", purpose="dissolve"))
    [message] = field_messages(errors)["purpose"]
    assert message.code == "one_of"
    assert all(purpose in str(message) for purpose in RESOLUTION_PURPOSES)


BAD_DATES = [
    "2019-13",  # no 13th month
    "2019-00",
    "2019-02-30",  # no such day
    "2019-02-29",  # not a leap year
    "19",  # a two-digit year
    "019",
    "20190",
    "0000",
    "2019-1",
    "2019-1-5",
    "2019-06-",
    " 2019",
    "2019 ",
    "２０１９",  # noqa: RUF001 - digits, but not ASCII ones
    "2019-W01",
    "styczeń 2008",
    "",
    2019,
    20190101,
    ["2019"],
]


@pytest.mark.parametrize("text", BAD_DATES)
@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("note_added", "occurred_on"),
        ("youth_exchange_planned", "planned_for"),
        ("youth_exchange_held", "ends_on"),
        ("activity_held", "ends_on"),
        ("partnership_terminated", "effective_on"),
    ],
)
def test_what_is_not_a_day_a_month_or_a_year_is_refused(event_type, field, text):
    """Anything but YYYY-MM-DD, YYYY-MM or YYYY naming a real day, month or year is refused under its field:
    no_such_day when written as a day or a month the calendar has not, not_a_business_date otherwise."""
    assert codes_of(event_type, with_(event_type, **{field: text})) == {field: [date_code(text)]}


def date_code(text: object) -> str:
    written_right = isinstance(text, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?", text)
    return "no_such_day" if written_right else "not_a_business_date"


@pytest.mark.parametrize("text", ["2019-13", "2019-02-30", "19", "2008-13-01", "11.11.2008"])
def test_a_registration_date_that_is_not_a_business_date_is_refused(text):
    """The registration's occurred_on follows the same rule."""
    with pytest.raises(ValidationError) as err:
        RegisterPartnershipSchema().load({**REGISTRATION, "occurred_on": text})
    assert [m.code for m in field_messages(err.value.messages)["occurred_on"]] == [date_code(text)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("partner_kind", "village"),
        ("partner_kind", None),
        ("areas", ["education", "space"]),
        ("partner_country", "XX"),
        ("partner_country", "Italy"),
        ("partner_country", "ITA"),
        ("partner_country", "EU"),
        ("partner_country", ""),
        ("partner_country", 39),
        ("partner_name", ""),
        ("partner_name", "   "),
        ("partner_name", "Gmina\x00Bar"),
        ("partner_name", "x" * 201),
        ("occurred_on", "2008-13-01"),
        ("occurred_on", "11.11.2008"),
        ("occurred_on", "2008-13"),
        ("occurred_on", "08"),
    ],
)
def test_bad_registration_fields_are_named(field, value):
    """A bad kind, area, country, name or date in a registration is refused under its field."""
    with pytest.raises(ValidationError) as err:
        RegisterPartnershipSchema().load({**REGISTRATION, field: value})
    assert field in err.value.messages


@pytest.mark.parametrize("field", ["partner_name", "partner_country", "partner_kind"])
def test_registration_required_fields(field):
    """partner_name, partner_country and partner_kind are required."""
    payload = {k: v for k, v in REGISTRATION.items() if k != field}
    with pytest.raises(ValidationError) as err:
        RegisterPartnershipSchema().load(payload)
    assert field in err.value.messages


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_unknown_field_is_refused(event_type):
    """A field the type does not have is refused, named."""
    assert "colour" in errors_of(event_type, with_(event_type, colour="red"))


def test_unknown_field_in_registration_and_acknowledgement():
    """The registration and acknowledgement schemas also refuse unknown fields."""
    with pytest.raises(ValidationError) as err:
        RegisterPartnershipSchema().load({**REGISTRATION, "status": "active"})
    assert "status" in err.value.messages
    with pytest.raises(ValidationError) as err:
        AcknowledgeReminderSchema().load({"note": "ok", "by": "jan"})
    assert "by" in err.value.messages


@pytest.mark.parametrize("participants", [0, -3, "24", 2.5, True, 100_001])
def test_participants_when_given_must_be_a_positive_whole_number(participants):
    """participants, when known, is an integer of at least 1 (no strings, fractions or booleans)."""
    assert "participants" in errors_of("youth_exchange_held", with_("youth_exchange_held", participants=participants))


def test_one_participant_is_enough():
    """participants = 1 is accepted."""
    assert load_event("youth_exchange_held", with_("youth_exchange_held", participants=1))["participants"] == 1


def test_an_exchange_with_no_end_and_no_head_count_loads():
    """A youth camp whose end and number of participants nobody wrote down is still recordable."""
    assert load_event("youth_exchange_held", {"occurred_on": "2012-07"}) == {"occurred_on": BusinessDate(2012, 7)}


@pytest.mark.parametrize(
    ("occurred_on", "ends_on", "ok"),
    [
        ("2012-07-01", "2012-06-30", False),
        ("2012-07-01", "2012-07-01", True),
        ("2012-07-01", "2012-07-02", True),
        # a month or a year: it ends before the start only when its last day is before the start's first day
        ("2012-07-01", "2012-06", False),
        ("2012-07-01", "2012-07", True),
        ("2012-07-15", "2012", True),
        ("2012-07-15", "2011", False),
        ("2012-07", "2012-07-01", True),
        ("2012-07", "2012-06-30", False),
        ("2012", "2012-01-01", True),
        ("2012", "2011-12-31", False),
    ],
)
@pytest.mark.parametrize("event_type", ["youth_exchange_held", "activity_held"])
def test_ends_on_not_before_occurred_on(event_type, occurred_on, ends_on, ok):
    """An exchange or an activity may end on the day it started, never before (a month or a year counts from its
    first day to its last)."""
    payload = with_(event_type, occurred_on=occurred_on, ends_on=ends_on)
    if ok:
        assert load_event(event_type, payload)["ends_on"] == BusinessDate.parse(ends_on)
    else:
        assert codes_of(event_type, payload) == {"ends_on": ["not_before_occurred_on"]}


@pytest.mark.parametrize(
    ("occurred_on", "effective_on", "ok"),
    [
        ("2022-03-31", "2022-03-30", False),
        ("2022-03-31", "2021", False),
        ("2022-03-31", "2022-03-31", True),
        ("2022-03-31", "2022-06-30", True),
        ("2022-03-31", "2022-03", True),
        ("2022-03", "2022-03-01", True),
        ("2022-03", "2022-02-28", False),
    ],
)
def test_a_terminations_effective_on_is_not_before_it_was_decided(occurred_on, effective_on, ok):
    """A notice period ends on or after the termination was decided, never before it."""
    payload = with_("partnership_terminated", occurred_on=occurred_on, effective_on=effective_on)
    if ok:
        assert load_event("partnership_terminated", payload)["effective_on"] == BusinessDate.parse(effective_on)
    else:
        assert codes_of("partnership_terminated", payload) == {"effective_on": ["not_before_occurred_on"]}


@pytest.mark.parametrize("retracts", [0, -1, "3", 1.5, True])
def test_retracts_must_be_a_version(retracts):
    """retracts is a positive integer version."""
    assert "retracts" in errors_of("event_retracted", with_("event_retracted", retracts=retracts))


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("note_added", "text", "bell\x07"),
        ("note_added", "note", "esc\x1b[31m"),
        ("cooperation_suspended", "reason", "null\x00byte"),
        ("activity_held", "title", "del\x7f"),
        ("school_joined", "town", "form\x0cfeed"),
        ("partner_renamed", "partner_name", "Bar\x00"),
        ("letter_of_intent_signed", "signatories", ["ok", "bad\x01"]),
    ],
)
def test_control_characters_are_refused(event_type, field, value):
    """Text with control characters is refused under its field."""
    assert field in errors_of(event_type, with_(event_type, **{field: value}))


@pytest.mark.parametrize(
    ("event_type", "field", "limit"),
    [
        ("note_added", "text", 4000),
        ("note_added", "reference", 200),
        ("note_added", "note", 4000),
        ("council_resolution_adopted", "resolution_number", 100),
        ("cooperation_suspended", "reason", 2000),
        ("activity_held", "title", 200),
        ("school_joined", "school_name", 200),
        ("partner_renamed", "partner_name", 200),
    ],
)
def test_over_long_text_is_refused(event_type, field, limit):
    """Text up to its limit is accepted; one character more is refused under its field."""
    assert load_event(event_type, with_(event_type, **{field: "x" * limit}))[field] == "x" * limit
    assert field in errors_of(event_type, with_(event_type, **{field: "x" * (limit + 1)}))


def test_too_long_lists_are_refused():
    """A list longer than its limit is refused under its field."""
    assert "parties" in errors_of("agreement_signed", with_("agreement_signed", parties=["p"] * 51))
    assert "areas" in errors_of("agreement_signed", with_("agreement_signed", areas=["sport"] * 21))


@pytest.mark.parametrize(
    ("event_type", "field", "value", "loaded"),
    [
        ("note_added", "text", "  phone call \n", "phone call"),
        ("note_added", "reference", "\tOr.0123/2010 ", "Or.0123/2010"),
        ("cooperation_suspended", "reason", "  war  ", "war"),
        ("school_joined", "school_name", " LO im. Kopernika ", "LO im. Kopernika"),
        ("letter_of_intent_signed", "signatories", [" Starosta "], ["Starosta"]),
        ("partner_renamed", "partner_name", "  Gmina Bar\n", "Gmina Bar"),
        ("council_resolution_adopted", "resolution_number", " XXV/4/09 ", "XXV/4/09"),
    ],
)
def test_strings_are_trimmed(event_type, field, value, loaded):
    """Leading and trailing whitespace is dropped."""
    assert load_event(event_type, with_(event_type, **{field: value}))[field] == loaded


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("note_added", "text", "   "),
        ("cooperation_suspended", "reason", "\n\t "),
        ("partner_renamed", "partner_name", "  "),
        ("partner_renamed", "partner_name", None),
    ],
)
def test_blank_required_text_is_refused(event_type, field, value):
    """A required text of only whitespace is as good as missing."""
    assert field in errors_of(event_type, with_(event_type, **{field: value}))


def test_registration_trims_and_normalises():
    """The registration trims names and accepts a lower-case country code as upper case."""
    loaded = RegisterPartnershipSchema().load(
        {**REGISTRATION, "partner_name": "  Gmina Bar ", "partner_country": " me ", "local_party": " Piaseczno "}
    )
    assert (loaded["partner_name"], loaded["partner_country"], loaded["local_party"]) == (
        "Gmina Bar",
        "ME",
        "Piaseczno",
    )


@pytest.mark.parametrize("country", ["IT", "GE", "UA", "ME", "DE", "LT"])
def test_real_country_codes_are_accepted(country):
    """ISO 3166-1 alpha-2 codes of real countries are accepted."""
    assert RegisterPartnershipSchema().load({**REGISTRATION, "partner_country": country})["partner_country"] == country


@pytest.mark.parametrize("code", ["AC", "CP", "CQ", "DG", "EA", "IC", "TA"])
def test_reserved_codes_are_not_countries(code):
    """Codes ISO 3166-1 only reserves (Ascension, Clipperton, Canary Islands ...) are not country codes."""
    with pytest.raises(ValidationError) as err:
        RegisterPartnershipSchema().load({**REGISTRATION, "partner_country": code})
    assert "partner_country" in err.value.messages


def test_acknowledgement_note_is_optional():
    """A reminder may be acknowledged with or without a note."""
    assert AcknowledgeReminderSchema().load({}) == {}
    assert AcknowledgeReminderSchema().load({"note": " done "}) == {"note": "done"}
