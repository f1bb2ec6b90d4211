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
    "other",
)
AGREEMENT_KINDS: tuple[str, ...] = ("partnership", "cooperation", "school_cooperation", "other")
SIDES: tuple[str, ...] = ("local", "partner")
ACTIVITY_KINDS: tuple[str, ...] = (
    "conference",
    "training",
    "visit",
    "cultural_event",
    "sports_event",
    "other",
)
REMINDER_KINDS: tuple[str, ...] = ("inactive", "exchange_overdue")

PROPOSED = "proposed"
INTENT = "intent"
ACTIVE = "active"
SUSPENDED = "suspended"
TERMINATED = "terminated"
STATUSES: tuple[str, ...] = (PROPOSED, INTENT, ACTIVE, SUSPENDED, TERMINATED)

#: Event types that count as activity for the inactivity rules.
ACTIVITY_TYPES: frozenset[str] = frozenset(
    {
        "letter_of_intent_signed",
        "agreement_signed",
        "council_resolution_adopted",
        "school_joined",
        "youth_exchange_held",
        "activity_held",
        "cooperation_resumed",
    }
)

#: Event types that do not make a partnership exist in business time.
NON_EXISTENCE_TYPES: frozenset[str] = frozenset(
    {"event_retracted", "note_added", "inactivity_flagged", "reminder_acknowledged"}
)

#: Event types only the system writes (never through the generic record door).
SYSTEM_TYPES: frozenset[str] = frozenset({"partnership_registered", "inactivity_flagged", "reminder_acknowledged"})

SYSTEM_USER = "system"
