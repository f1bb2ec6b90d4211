"""Who may record and retract what: the contract's roles table, checked in one place below the web layer.

:meth:`application.services.Services.record_event` (and its dry run) calls :func:`check_may_record` with the
user's role, so the API and the web UI refuse alike (403 in the API, a refusal on the form in the UI):

- an ``officer`` records and retracts events, but not the inactivity job's flags (``inactivity_flagged``)
  nor a manager's acknowledgement (``reminder_acknowledged``);
- a ``manager`` records nothing but the retraction of an acknowledgement;
- only an ``admin`` retracts a flag (and may do everything else);
- an ``auditor`` never writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.errors import NotPermitted
from domain.partnership import Partnership

RETRACTED = "event_retracted"

#: Who may retract an event of each type that not every writer may retract (admin: always).
RETRACTED_BY: Mapping[str, tuple[str, ...]] = {
    "inactivity_flagged": ("admin",),
    "reminder_acknowledged": ("manager", "admin"),
}
#: Who may retract any other event.
RETRACTORS: tuple[str, ...] = ("officer", "admin")
#: Who may record the other event types.
RECORDERS: tuple[str, ...] = ("officer", "admin")


def may_retract(role: str, retracted_type: str) -> bool:
    """Whether ``role`` may retract an event of ``retracted_type`` (for offering the control; the command
    checks again with :func:`check_may_record`)."""
    return role == "admin" or role in RETRACTED_BY.get(retracted_type, RETRACTORS)


def check_may_record_type(role: str, event_type: str) -> None:
    """Refuse (:class:`NotPermitted`) a type the role may never record, whatever the body (the API asks
    this before reading the body, so a manager's note is 403, not a 422 about its fields)."""
    if event_type != RETRACTED and role not in RECORDERS:
        raise NotPermitted("role_may_not_record", role=role, event_type=event_type)


def check_may_record(role: str, event_type: str, fields: Mapping[str, Any], partnership: Partnership) -> None:
    """Refuse (:class:`NotPermitted`) when ``role`` may not record ``event_type`` with ``fields`` on
    ``partnership`` as it stands. A retraction naming no event is left to the domain's own refusal."""
    check_may_record_type(role, event_type)
    if event_type != RETRACTED:
        return
    version = fields.get("retracts")
    target = next((f for f in partnership.fact_list() if f.version == version), None)
    if target is None:
        if role not in RECORDERS:  # a manager may not probe the log with retractions of nothing
            raise NotPermitted("role_may_not_record", role=role, event_type=event_type)
        return
    allowed = RETRACTED_BY.get(target.type, RETRACTORS)
    if role not in allowed:
        raise NotPermitted("role_may_not_retract", role=role, retracted_type=target.type, version=version)
