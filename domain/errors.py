"""Domain errors, named for the condition. No HTTP in here: the web layer maps them."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain can give."""


class PartnershipNotFound(DomainError):
    def __init__(self, partnership_id: object) -> None:
        super().__init__(f"partnership {partnership_id} not found")
        self.partnership_id = partnership_id


class ReminderNotFound(DomainError):
    def __init__(self, reminder_id: object) -> None:
        super().__init__(f"reminder {reminder_id} not found")


class Conflict(DomainError):
    """The command contradicts the partnership's state (the contract's 409)."""


class NotAllowedInStatus(Conflict):
    def __init__(self, event_type: str, status: str, as_of: object) -> None:
        super().__init__(f"{event_type} is not allowed while the partnership is {status} (as of {as_of})")
        self.event_type = event_type
        self.status = status


class InvalidRetraction(Conflict):
    pass


class ReminderNotOpen(Conflict):
    pass


class StaleVersion(Conflict):
    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"stale version: expected {expected}, the partnership is at {actual}")
        self.expected = expected
        self.actual = actual


class AlreadyExists(Conflict):
    pass


class InvalidField(DomainError):
    """A field value the domain refuses (the contract's 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
