"""Messages as codes and one vocabulary: every refusal has a code and an English template, every value a label.

The UI, the report and the mails say things from these; nothing parses an English sentence back.
"""

from __future__ import annotations

import copy
import pickle
import re
from datetime import date
from gettext import NullTranslations
from pathlib import Path
from types import SimpleNamespace

import pytest
from marshmallow import Schema, ValidationError, fields

from application import vocabulary
from application.jobs import reminder_mail
from application.users import ROLES
from application.vocabulary import Message, Words, fill
from domain import values
from domain.dates import BusinessDate
from domain.errors import MESSAGES as DOMAIN_MESSAGES
from domain.event_types import EVENT_TYPES
from web.messages import FIELD_MESSAGES, HTTP_CODES, REQUEST_MESSAGES, Said, field_messages, said
from web.schemas import EVENT_SCHEMAS, AcknowledgeReminderSchema, RegisterPartnershipSchema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
COMMANDS: list[type[Schema]] = [RegisterPartnershipSchema, AcknowledgeReminderSchema, *EVENT_SCHEMAS.values()]


def test_every_code_is_documented() -> None:
    """docs/api.md lists every code a refusal can carry."""
    documented = set(re.findall(r"`([a-z][a-z0-9_]*)`", DOCS.read_text(encoding="utf-8")))
    codes = {*DOMAIN_MESSAGES, *FIELD_MESSAGES, *REQUEST_MESSAGES, *HTTP_CODES.values()}
    assert codes - documented == set()


def test_a_request_code_never_shadows_a_domain_code() -> None:
    """A refusal's code names one template: the web layer's codes are not the domain's."""
    assert set(REQUEST_MESSAGES) & set(DOMAIN_MESSAGES) == set()


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("status", values.STATUSES),
        ("partner_kind", values.PARTNER_KINDS),
        ("areas", values.AREAS),
        ("agreement_kind", values.AGREEMENT_KINDS),
        ("purpose", getattr(values, "RESOLUTION_PURPOSES", ())),
        ("side", values.SIDES),
        ("activity_kind", values.ACTIVITY_KINDS),
        ("kind", values.REMINDER_KINDS),
        ("type", tuple(EVENT_TYPES)),
        ("role", ROLES),
    ],
)
def test_every_value_of_the_contract_has_a_label(name: str, known: tuple[str, ...]) -> None:
    """The vocabulary names each value the domain knows (a new value without a label fails here)."""
    assert set(known) - set(vocabulary.CHOICE_LABELS[name]) == set()


def test_every_field_of_every_form_has_a_label() -> None:
    """Each command schema's fields have a label (forms and the timeline show it)."""
    names = {name for schema in COMMANDS for name in schema._declared_fields}  # noqa: SLF001
    assert names - set(vocabulary.FIELD_LABELS) == set()


def _messages_of(field: fields.Field) -> list[object]:
    said_by_validators = [v.error for v in field.validators if hasattr(v, "error")]
    inner = _messages_of(field.inner) if isinstance(field, fields.List) else []
    return [*field.error_messages.values(), *said_by_validators, *inner]


@pytest.mark.parametrize("schema", COMMANDS, ids=lambda s: s.__name__)
def test_every_message_of_the_command_schemas_has_a_code(schema: type[Schema]) -> None:
    """No field of a command can refuse with a message that has no code."""
    loaded = schema()
    assert all(isinstance(m, Said) for m in loaded.error_messages.values())
    for name, field in loaded.fields.items():
        uncoded = [m for m in _messages_of(field) if not isinstance(m, Said)]
        assert uncoded == [], name


def test_a_validation_errors_codes_come_back_with_its_english() -> None:
    """marshmallow keeps the English; the codes travel with it, nested items marked with their index."""
    with pytest.raises(ValidationError) as refused:
        RegisterPartnershipSchema().load({"partner_country": "XX", "areas": ["culture", "space"], "x": 1})
    found = field_messages(refused.value.messages)
    assert {name: [m.code for m in ms] for name, ms in found.items()} == {
        "partner_name": ["required"],
        "partner_kind": ["required"],
        "partner_country": ["not_a_country"],
        "areas": ["one_of"],
        "x": ["unknown_field"],
    }
    (area,) = found["areas"]
    assert area.at == (1,) and area.template == "Must be one of: {choices}."
    assert str(area) == f"1: Must be one of: {', '.join(values.AREAS)}."
    assert str(found["partner_name"][0]) == "Missing data for required field."


def test_a_plain_string_from_elsewhere_keeps_its_english() -> None:
    """A message without a code (none of ours) is kept as it is, under the generic code."""
    assert field_messages({"f": ["Something else."]}) == {"f": [Message("invalid", "Something else.")]}
    assert field_messages(["Whole."]) == {"_schema": [Message("invalid", "Whole.")]}


def test_said_survives_copies_and_pickles() -> None:
    """marshmallow copies its fields; a coded message stays coded."""
    message = said("too_long", max=5)
    for copied in (copy.copy(message), copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert (
            isinstance(copied, Said) and copied == "Longer than maximum length 5." and copied.message.code == "too_long"
        )


def test_the_english_of_a_message_is_its_template_filled() -> None:
    """str() of a message is the API's and the CLI's English; an unknown placeholder stays as written."""
    assert str(Message("x", "at most {n} of {m}", {"n": 3}, (0, "a"))) == "0: a: at most 3 of {m}"
    assert fill("{event_type!r} twice", {"event_type": "note_added"}) == "'note_added' twice"


def test_words_without_a_catalogue_say_the_english_with_labels() -> None:
    """A language with no translations still says labels and days (the English ones)."""
    english = Words(NullTranslations(), "en")
    message = Message("not_allowed_in_status", DOMAIN_MESSAGES["not_allowed_in_status"])
    said_ = english.say(
        Message(message.code, message.template, {"event_type": "note_added", "status": "active", "as_of": "2019-06"})
    )
    assert said_ == "Note added is not allowed while the partnership is Active (as of June 2019)"
    assert english.label("areas", "culture") == "Culture" and english.label("areas", "moon") == "moon"
    assert english.day("2019-06-01") == "June 1, 2019"


def test_the_reminder_mail_is_polish_by_default_and_english_on_request() -> None:
    """The mail's words come from the catalogues: Polish unless another language is asked for."""
    doc = {"id": "0f0f", "partner_name": "Gmina Bar"}
    flag = SimpleNamespace(
        kind="inactive", occurred_on=BusinessDate.of(date(2026, 3, 1)), last_activity_on=BusinessDate.of("2025-01-01")
    )
    polish = reminder_mail(doc, flag, ("jan@example.org",), "https://tracker.example/")
    english = reminder_mail(doc, flag, ("jan@example.org",), "https://tracker.example/", lang="en")
    assert polish.subject == "Partnerstwo bez aktywności od 424 dni: Gmina Bar"
    assert polish.body.startswith("Dzień dobry,\n\nw partnerstwie „Gmina Bar” ostatnią aktywność odnotowano 2025-01-01")
    assert english.subject == "Partnership without activity for 424 days: Gmina Bar"
    assert english.body.startswith("Hello,\n\nin the partnership “Gmina Bar” the last activity was recorded on 2025")
    assert english.body.endswith("-- \nRegister of foreign cooperation (message sent automatically)\n")
