"""The command schemas: valid input loads into Python values, bad input is refused naming the field."""

from __future__ import annotations

from datetime import date

import pytest
from marshmallow import ValidationError

from web.schemas import AcknowledgeReminderSchema, RegisterPartnershipSchema, load_event

REGISTRATION = {"partner_name": "Gmina Bar", "partner_country": "ME", "partner_kind": "municipality"}

#: a valid JSON payload of every recordable type
VALID: dict[str, dict] = {
    "letter_of_intent_signed": {"occurred_on": "2009-01-15", "signatories": ["Starosta", "Mayor of Bar"]},
    "agreement_signed": {
        "occurred_on": "2010-05-20",
        "agreement_kind": "partnership",
        "parties": ["Powiat Piaseczyński", "Opština Bar"],
        "areas": ["culture", "education"],
        "reference": "Or.0123/2010",
    },
    "council_resolution_adopted": {
        "occurred_on": "2009-06-25",
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
    "activity_held": {"occurred_on": "2013-03-03", "activity_kind": "conference", "title": "Forum of regions"},
    "cooperation_suspended": {"occurred_on": "2020-03-01", "reason": "Pandemic"},
    "cooperation_resumed": {"occurred_on": "2022-03-01"},
    "partnership_terminated": {"occurred_on": "2024-01-01", "reason": "Resolution of the council"},
    "note_added": {"occurred_on": "2024-02-02", "text": "Line one\nline two"},
    "event_retracted": {"occurred_on": "2024-02-03", "retracts": 3, "reason": "Wrong date"},
}

DATE_FIELDS = {"occurred_on", "planned_for", "ends_on"}


def errors_of(event_type: str, payload: dict) -> dict:
    with pytest.raises(ValidationError) as err:
        load_event(event_type, payload)
    return err.value.messages


def with_(event_type: str, **changes) -> dict:
    payload = {**VALID[event_type], **changes}
    return {k: v for k, v in payload.items() if v is not ...}


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_valid_payloads_load_with_dates_as_dates(event_type):
    """Each type's valid payload loads; its date strings become date objects."""
    loaded = load_event(event_type, VALID[event_type])
    assert set(loaded) == set(VALID[event_type])
    for name, value in loaded.items():
        if name in DATE_FIELDS:
            assert type(value) is date
            assert value == date.fromisoformat(VALID[event_type][name])
        else:
            assert value == VALID[event_type][name]


def test_registration_loads_with_defaults():
    """A minimal registration gets the county as local party and no areas."""
    loaded = RegisterPartnershipSchema().load(REGISTRATION)
    assert loaded == {**REGISTRATION, "local_party": "Powiat Piaseczyński", "areas": []}


def test_registration_with_a_date():
    """A registration's optional occurred_on becomes a date."""
    loaded = RegisterPartnershipSchema().load({**REGISTRATION, "occurred_on": "2008-11-11", "areas": ["sport"]})
    assert loaded["occurred_on"] == date(2008, 11, 11)
    assert loaded["areas"] == ["sport"]


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_optional_common_fields_may_be_null(event_type):
    """reference and note may be given as null."""
    loaded = load_event(event_type, with_(event_type, reference=None, note=None))
    assert loaded["reference"] is None and loaded["note"] is None


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("agreement_signed", "occurred_on"),
        ("agreement_signed", "agreement_kind"),
        ("council_resolution_adopted", "resolution_number"),
        ("school_joined", "school_name"),
        ("school_joined", "side"),
        ("youth_exchange_planned", "planned_for"),
        ("youth_exchange_held", "ends_on"),
        ("youth_exchange_held", "participants"),
        ("activity_held", "activity_kind"),
        ("activity_held", "title"),
        ("cooperation_suspended", "reason"),
        ("partnership_terminated", "reason"),
        ("note_added", "text"),
        ("event_retracted", "retracts"),
        ("event_retracted", "reason"),
        ("cooperation_resumed", "occurred_on"),
    ],
)
def test_missing_required_field_is_named(event_type, field):
    """Leaving out a required field is refused with an error under that field's name."""
    assert field in errors_of(event_type, with_(event_type, **{field: ...}))


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
        ("school_joined", "side", "both"),
        ("activity_held", "activity_kind", "party"),
        ("activity_held", "activity_kind", None),
    ],
)
def test_wrong_enum_value_is_named(event_type, field, value):
    """A value outside the contract's vocabulary is refused under its field."""
    assert field in errors_of(event_type, with_(event_type, **{field: value}))


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


@pytest.mark.parametrize("participants", [0, -3, "24", 2.5, True, None])
def test_participants_must_be_a_positive_whole_number(participants):
    """participants is an integer of at least 1 (no strings, fractions or booleans)."""
    assert "participants" in errors_of("youth_exchange_held", with_("youth_exchange_held", participants=participants))


def test_one_participant_is_enough():
    """participants = 1 is accepted."""
    assert load_event("youth_exchange_held", with_("youth_exchange_held", participants=1))["participants"] == 1


@pytest.mark.parametrize(("ends_on", "ok"), [("2012-06-30", False), ("2012-07-01", True), ("2012-07-02", True)])
def test_ends_on_not_before_occurred_on(ends_on, ok):
    """An exchange may end on the day it started, never before."""
    payload = with_("youth_exchange_held", ends_on=ends_on)
    if ok:
        assert load_event("youth_exchange_held", payload)["ends_on"] == date.fromisoformat(ends_on)
    else:
        assert "ends_on" in errors_of("youth_exchange_held", payload)


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
    ],
)
def test_strings_are_trimmed(event_type, field, value, loaded):
    """Leading and trailing whitespace is dropped."""
    assert load_event(event_type, with_(event_type, **{field: value}))[field] == loaded


@pytest.mark.parametrize(
    ("event_type", "field", "value"), [("note_added", "text", "   "), ("cooperation_suspended", "reason", "\n\t ")]
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
