"""Domain errors, named for the condition, each with a stable ``code`` and its parameters.

No HTTP and no language in here: the web layer maps the classes to statuses, and
every reader (the API's English ``error`` text, the UI, the CLI) turns the code and
parameters into words through :data:`MESSAGES` (English, the API's and the CLI's text)
or the Babel catalogues (whose message ids are these same English templates).
"""

from __future__ import annotations

from typing import Any


def N_(template: str) -> str:  # noqa: N802 - gettext's conventional no-op marker
    """Mark ``template`` for the catalogues (``pybabel extract`` reads this file) and return it as it is."""
    return template


#: The English wording of every code; ``{name}`` placeholders are the error's parameters.
#: The Babel catalogues translate these exact strings (they are the message ids).
MESSAGES: dict[str, str] = {
    # InvalidField
    "required": N_("is required"),
    "not_after_today": N_("must not be after today"),
    "not_before_occurred_on": N_("must not be before occurred_on"),
    "unknown_field": N_("unknown field"),
    "not_recordable": N_("cannot record {event_type!r} this way"),
    "not_a_version": N_("must be the version of an earlier event"),
    "unknown_event_type": N_("unknown event type {event_type!r}"),
    "unknown_fields": N_("unknown fields {fields} for {event_type}"),
    "out_of_range": N_("must be between {low} and {high}"),
    "not_one_of": N_("must be one of: {choices}"),
    "local_party_required": N_("is required (no TRACKER_ORGANISATION is configured to stand in for it)"),
    "not_a_business_date": N_("must be a date (YYYY-MM-DD), a month (YYYY-MM) or a year (YYYY)"),
    # refusals (409)
    "not_allowed_in_status": N_("{event_type} is not allowed while the partnership is {status} (as of {as_of})"),
    "no_such_event": N_("there is no event {version} in this partnership"),
    "registration_not_retractable": N_("the registration cannot be retracted"),
    "retraction_not_retractable": N_("a retraction cannot be retracted"),
    "already_retracted": N_("event {version} is already retracted"),
    "stale_version": N_("stale version: expected {expected}, the partnership is at {actual}"),
    "partnership_exists": N_("partnership {partnership_id} already exists"),
    "store_not_empty": N_("the store is not empty: import needs an empty store"),
    "reminder_not_open": N_("reminder {reminder_id} is not open"),
    # the role may not (403): who may record and retract what (application/rights.py)
    "role_may_not_record": N_("the role {role!r} may not record {event_type}"),
    "role_may_not_retract": N_("the role {role!r} may not retract {retracted_type} (event {version})"),
    # not found (404)
    "partnership_not_found": N_("partnership {partnership_id} not found"),
    "reminder_not_found": N_("reminder {reminder_id} not found"),
}


def message(code: str, params: dict[str, Any]) -> str:
    """The English sentence for ``code`` with its parameters filled in."""
    return MESSAGES[code].format(**params)


class DomainError(Exception):
    """Base of every refusal the domain can give: a ``code`` and its ``params``."""

    code = "domain_error"

    def __init__(self, code: str | None = None, **params: Any) -> None:
        self.code = code or type(self).code
        self.params = params
        super().__init__(message(self.code, params))


class PartnershipNotFound(DomainError):
    code = "partnership_not_found"

    def __init__(self, partnership_id: object) -> None:
        super().__init__(partnership_id=partnership_id)
        self.partnership_id = partnership_id


class ReminderNotFound(DomainError):
    code = "reminder_not_found"

    def __init__(self, reminder_id: object) -> None:
        super().__init__(reminder_id=reminder_id)


class Conflict(DomainError):
    """The command contradicts the partnership's state (the contract's 409)."""


class NotAllowedInStatus(Conflict):
    code = "not_allowed_in_status"

    def __init__(self, event_type: str, status: str, as_of: object) -> None:
        super().__init__(event_type=event_type, status=status, as_of=as_of)
        self.event_type = event_type
        self.status = status


class NotPermitted(DomainError):
    """The user's role may not record this event (``role_may_not_record``) or retract that one
    (``role_may_not_retract``): the contract's roles table, checked in application/rights.py."""


class InvalidRetraction(Conflict):
    """``code``: ``no_such_event``, ``registration_not_retractable``, ``retraction_not_retractable`` or
    ``already_retracted``."""


class ReminderNotOpen(Conflict):
    code = "reminder_not_open"

    def __init__(self, reminder_id: object) -> None:
        super().__init__(reminder_id=reminder_id)


class StaleVersion(Conflict):
    code = "stale_version"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(expected=expected, actual=actual)
        self.expected = expected
        self.actual = actual


class AlreadyExists(Conflict):
    """``code``: ``partnership_exists`` or ``store_not_empty``."""


class InvalidField(DomainError):
    """A field value the domain refuses (the contract's 422): the field, a code and its parameters."""

    def __init__(self, field: str, code: str, **params: Any) -> None:
        super().__init__(code, **params)
        self.field = field
        self.message = message(code, params)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"
