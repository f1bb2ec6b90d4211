"""Value vocabularies of the contract: kinds, areas, statuses.

Values are stored in events as plain strings (JSON-friendly, stable across
versions); these tuples are the single source of what is allowed.
"""

from __future__ import annotations

PARTNER_KINDS: tuple[str, ...] = (
    "municipality",
    "district",
    "city",
    "region",
    "school",
    "organisation",
)
AREAS: tuple[str, ...] = (
    "education",
    "culture",
    "sport",
    "economy",
    "tourism",
    "environment",
    "agriculture",
    "youth",
    "social",
    "local_government",
    "health",
    "civil_protection",
    "science",
    "transport",
    "humanitarian_aid",
    "other",
)
AGREEMENT_KINDS: tuple[str, ...] = (
    "partnership",
    "cooperation",
    "friendship",
    "protocol",
    "school_cooperation",
    "other",
)
RESOLUTION_PURPOSES: tuple[str, ...] = (
    "establish",
    "authorise_signing",
    "amend",
    "suspend",
    "resume",
    "terminate",
    "other",
)
SIDES: tuple[str, ...] = ("local", "partner")
ACTIVITY_KINDS: tuple[str, ...] = (
    "conference",
    "training",
    "visit",
    "cultural_event",
    "sports_event",
    "aid_delivery",
    "other",
)
REMINDER_KINDS: tuple[str, ...] = ("inactive", "exchange_overdue")

PROPOSED = "proposed"
INTENT = "intent"
ACTIVE = "active"
SUSPENDED = "suspended"
TERMINATED = "terminated"
STATUSES: tuple[str, ...] = (PROPOSED, INTENT, ACTIVE, SUSPENDED, TERMINATED)

#: The bounds of a partnership's own inactivity period (``inactivity_period_set``), in days.
MIN_INACTIVITY_DAYS, MAX_INACTIVITY_DAYS = 30, 3650

SYSTEM_USER = "system"
