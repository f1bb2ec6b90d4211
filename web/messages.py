"""The web layer's messages as codes: a field's validation (marshmallow, query parameters) and a request's refusal.

Each table maps a stable code to its English template: the text the API has always answered (under
``fields`` and ``error``), and the message id the UI translates through the catalogues. The domain's own
codes are in :data:`domain.errors.MESSAGES`; a code names the same condition wherever it appears
(``required`` is the schema's "Missing data for required field." and the domain's "is required").

marshmallow keeps its messages as strings, so a schema's error messages are :class:`Said` strings: the
English text that also knows its :class:`~application.vocabulary.Message`. :func:`field_messages` reads
the codes back from a ``ValidationError``'s messages; nothing parses the English.
"""

from __future__ import annotations

from typing import Any

from application.vocabulary import N_, Message
from domain.errors import MESSAGES as DOMAIN_MESSAGES

#: One field's validation: the schemas' messages and the query parameters' (their English as it always was).
FIELD_MESSAGES: dict[str, str] = {
    "required": N_("Missing data for required field."),
    "null": N_("Field may not be null."),
    "invalid": N_("Invalid value."),
    "not_a_string": N_("Not a valid string."),
    "not_an_integer": N_("Not a valid integer."),
    "number_too_large": N_("Number too large."),
    "not_a_date": N_("Not a valid date."),
    "not_a_business_date": N_("Must be a date (YYYY-MM-DD), a month (YYYY-MM) or a year (YYYY)."),
    "no_such_day": N_("There is no such day (or month) in the calendar."),
    "not_a_list": N_("Not a valid list."),
    "not_an_object": N_("Invalid input type."),
    "unknown_field": N_("Unknown field."),
    "one_of": N_("Must be one of: {choices}."),
    "too_short": N_("Shorter than minimum length {min}."),
    "too_long": N_("Longer than maximum length {max}."),
    "out_of_range": N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    "control_characters": N_("Must not contain control characters."),
    "line_break": N_("Must be one line (no line breaks)."),
    "not_a_country": N_("Must be an ISO 3166-1 alpha-2 country code, e.g. IT, GE, UA, ME."),
    "not_before_occurred_on": N_("Must not be before occurred_on."),
    # an event's type
    "unknown_event_type": N_("Unknown event type."),
    "system_type": N_("This type is written by the system."),
    # query parameters
    "below_minimum": N_("Must be an integer of at least {low}."),
    "not_a_boolean": N_("Must be true or false."),
    "not_a_moment": N_("Must be an ISO 8601 date-time, e.g. 2026-11-26T12:00:00Z."),
    "not_a_country_code": N_("Must be an ISO 3166-1 alpha-2 code."),
    # the auditor's form
    "not_a_digest": N_("A digest looks like POSITION:HASH."),
}

#: A request's refusal as a whole (the ``error`` and ``code`` of an answer), besides the domain's codes.
REQUEST_MESSAGES: dict[str, str] = {
    "invalid_input": N_("invalid input"),
    "invalid_query": N_("invalid query"),
    "malformed_json": N_("the body must be a JSON object"),
    "not_unicode": N_("the body must be valid Unicode text (no lone surrogates)"),
    "json_required": N_("with a browser session, send the body as JSON (Content-Type: application/json)"),
    "malformed_if_match": N_('If-Match must be the partnership\'s version as an integer, e.g. If-Match: 3 or "3"'),
    "unauthorised": N_("authentication required: send Authorization: Bearer TOKEN"),
    "forbidden": N_("the role {role!r} may not do this"),
    "partnership_not_found_then": N_("partnership {partnership_id} not found (at that time)"),
    "no_form": N_("no form for {event_type!r}"),
    "too_many_attempts": N_("too many failed attempts: wait a while and try again"),
    "passwords_busy": N_("the server is busy checking other sign-ins: try again in a few seconds"),
    "bad_idempotency_key": N_("Idempotency-Key must be 1 to 255 printable ASCII characters"),
    "idempotency_key_reused": N_(
        "this Idempotency-Key was used for a different request: send a new key for a new request"
    ),
    "idempotency_key_busy": N_("the first request with this Idempotency-Key is still running: retry in a moment"),
    "form_busy": N_(
        "This form was sent a moment ago and is still being saved. Wait a few seconds and reload the page: it"
        " is recorded once, however often it is sent."
    ),
    "unavailable": N_("the store is unavailable: retry in a few seconds (with the same Idempotency-Key)"),
    "csrf": N_("The form has expired or did not come from this site. Go back, reload the page and try again."),
}

#: The ``code`` of an answer the web framework refuses by itself (an unknown path, a method, a size), by status.
HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def field_message(code: str, **params: Any) -> Message:
    """A field's validation message by its code."""
    return Message(code, FIELD_MESSAGES[code], params)


def request_message(code: str, **params: Any) -> Message:
    """A request's refusal by its code: the web layer's own, or the domain's."""
    template = REQUEST_MESSAGES[code] if code in REQUEST_MESSAGES else DOMAIN_MESSAGES[code]
    return Message(code, template, params)


def http_code(status: int) -> str:
    """The ``code`` of a refusal the web framework gives by itself."""
    return HTTP_CODES.get(status, f"http_{status}")


class Said(str):
    """A validation message as marshmallow keeps it: the English text (a ``str``) that knows its message.

    Given as a field's error message or a validator's ``error``, it is a template: marshmallow calls
    :meth:`format` with the parameters, which gives another ``Said``, so the code travels inside
    ``ValidationError.messages`` to :func:`field_messages`.
    """

    message: Message

    def __new__(cls, message: Message) -> Said:
        said = super().__new__(cls, str(message))
        said.message = message
        return said

    def format(self, *args: Any, **params: Any) -> Said:  # noqa: ARG002 - marshmallow passes keywords only
        return Said(Message(self.message.code, self.message.template, params))

    def __reduce__(self) -> tuple[Any, ...]:
        return Said, (self.message,)

    def __copy__(self) -> Said:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Said:
        return self


def said(code: str, **params: Any) -> Said:
    """A field's validation message by its code, as marshmallow takes it (an error message or a template)."""
    return Said(field_message(code, **params))


def _message(text: Any) -> Message:
    """One of marshmallow's messages as a Message (a string that is not :class:`Said` keeps its English)."""
    if isinstance(text, Said):
        return text.message
    return Message("invalid", str(text))


def _leaves(messages: Any) -> list[Message]:
    """The messages under one field, nested ones (a list's items) marked with where they apply."""
    if isinstance(messages, dict):
        return [m.inside(key) for key, inner in messages.items() for m in _leaves(inner)]
    if isinstance(messages, list | tuple):
        return [m for item in messages for m in _leaves(item)]
    return [_message(messages)]


def field_messages(messages: Any) -> dict[str, list[Message]]:
    """A ``ValidationError``'s messages as ``{field: [Message, ...]}`` (nested ones flattened into their field)."""
    if not isinstance(messages, dict):
        return {"_schema": _leaves(messages)}
    return {str(name): _leaves(inner) for name, inner in messages.items()}
