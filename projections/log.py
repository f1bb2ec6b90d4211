"""The log as an auditor sees it: contiguous positions and a SHA-256 hash chain.

An entry's *canonical content* is the JSON object

    {"data": {...}, "occurred_on": "YYYY-MM-DD" | "YYYY-MM" | "YYYY" | null, "partnership_id": "<uuid>",
     "position": N, "recorded_at": "<ISO 8601, UTC>", "recorded_by": "...",
     "type": "...", "version": N}

serialized with keys sorted, no whitespace (separators ``,`` and ``:``), non-ASCII
characters kept as they are, encoded as UTF-8. Dates inside ``data`` are ISO
strings. Its hash is ``sha256(previous_hash + content)`` as lowercase hex, where
``previous_hash`` is the previous entry's hash in ASCII hex, and 64 zeros before
position 1. ``docs/audit.md`` states the same recipe for independent verifiers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.dates import BusinessDate
from domain.partnership import Partnership, event_data, event_type_of

GENESIS_HASH = "0" * 64
CANONICAL_KEYS = (
    "data",
    "occurred_on",
    "partnership_id",
    "position",
    "recorded_at",
    "recorded_by",
    "type",
    "version",
)


def jsonable(value: Any) -> Any:
    """Plain JSON values: dates and datetimes as ISO strings, UUIDs as strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | BusinessDate):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def entry_of(event: Partnership.Event, position: int) -> dict[str, Any]:
    """The log entry (canonical fields only) of a domain event at ``position``."""
    return {
        "data": jsonable(event_data(event)),
        "occurred_on": jsonable(event.occurred_on),
        "partnership_id": str(event.originator_id),
        "position": position,
        "recorded_at": jsonable(event.timestamp),
        "recorded_by": event.recorded_by,
        "type": event_type_of(event),
        "version": event.originator_version,
    }


def canonical(entry: Mapping[str, Any]) -> str:
    """The canonical JSON text of an entry (only the canonical keys are taken)."""
    body = {k: entry[k] for k in CANONICAL_KEYS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(previous_hash: str, content: str) -> str:
    return hashlib.sha256((previous_hash + content).encode("utf-8")).hexdigest()
