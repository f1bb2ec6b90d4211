"""The OpenAPI 3 document of ``/api/v1``, built from the same marshmallow schemas the API loads with."""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from application.access_log import ACTIONS
from domain.values import AREAS, STATUSES
from web import schemas as s
from web.schemas import BUSINESS_DATE_PATTERN

ERRORS = {
    "400": "Malformed request (body not a JSON object, bad If-Match)",
    "401": "No or bad credentials",
    "403": "The role may not do this",
    "404": "Unknown id",
    "409": "Conflict: stale If-Match version, or not allowed in the partnership's status",
    "422": "A field is invalid",
    "429": "Too many failed attempts (bad tokens) from this address: wait as Retry-After says",
    "503": "The store is unavailable (database unreachable, disk full): retry after Retry-After seconds, with the"
    " same Idempotency-Key",
}


def _responses(ok: str, schema: str, *errors: str) -> dict[str, Any]:
    out: dict[str, Any] = {ok: {"description": "OK", "content": {"application/json": {"schema": schema}}}}
    codes = (*errors, "429") if "401" in errors else errors  # credentials are checked: failures are limited
    for code in (*codes, "503"):  # every answer needs the store
        out[code] = {"description": ERRORS[code], "content": {"application/json": {"schema": "Error"}}}
    return out


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"in": "query", "name": name, "required": False, "schema": schema, "description": description}


PID = {"in": "path", "name": "pid", "required": True, "schema": {"type": "string", "format": "uuid"}}
RID = {"in": "path", "name": "rid", "required": True, "schema": {"type": "string", "format": "uuid"}}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string", "pattern": '^(?:[0-9]+|"[0-9]+")$'},
    "description": 'The partnership\'s version as a plain integer (a quoted "N" is accepted).',
}


#: One entry of the access log (``application.access_log``).
ACCESS_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["position", "recorded_at", "actor", "action", "subject", "data", "hash"],
    "properties": {
        "position": {"type": "integer", "minimum": 1, "description": "1, 2, 3 … with no gaps"},
        "recorded_at": {"type": "string", "format": "date-time"},
        "actor": {"type": "string", "description": "who made the change: a user's name, cli:<account> or system"},
        "action": {"type": "string", "enum": list(ACTIONS)},
        "subject": {"type": "string", "description": "the user changed"},
        "data": {"type": "object", "description": "role_changed: from, to; user_added: role, email"},
        "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
}


@cache
def openapi_document() -> dict[str, Any]:
    spec = APISpec(
        title="Exchange-programme tracker",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "The register of a county's foreign partnerships, kept as an append-only event log."},
        servers=[{"url": "/api/v1"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name in (
        "Partnership",
        "PartnershipList",
        "Event",
        "EventList",
        "LogEntry",
        "LogPage",
        "Verify",
        "Health",
        "Reminder",
        "ReminderList",
        "Register",
        "Error",
        "RegisterPartnership",
        "AcknowledgeReminder",
    ):
        spec.components.schema(name, schema=getattr(s, f"{name}Schema"))
    spec.components.schema("AccessEntry", component=ACCESS_ENTRY)
    spec.components.schema(
        "AccessLogPage",
        component={
            "type": "object",
            "required": ["items", "next"],
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/AccessEntry"}},
                "next": {"type": "integer", "nullable": True},
            },
        },
    )
    variants = []
    for event_type, schema in s.EVENT_SCHEMAS.items():
        name = schema.__name__.removesuffix("Schema")
        spec.components.schema(name, schema=schema)
        body = spec.components.schemas[name]
        body["properties"] = {"type": {"type": "string", "enum": [event_type]}, **body["properties"]}
        body["required"] = ["type", *body.get("required", [])]
        body["additionalProperties"] = False
        variants.append({"$ref": f"#/components/schemas/{name}"})
    spec.components.schemas["RegisterPartnership"]["additionalProperties"] = False
    spec.components.schemas["AcknowledgeReminder"]["additionalProperties"] = False
    secured = [{"bearer": []}]

    def body(schema: Any) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    spec.path(
        "/health",
        operations={
            "get": {
                "summary": "Liveness and the log's head position",
                "security": [],
                "responses": {
                    **_responses("200", "Health"),
                    "503": {
                        "description": 'The store is unavailable: {"status": "unavailable", "store": the reason}',
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                },
            }
        },
    )
    spec.path(
        "/partnerships",
        operations={
            "get": {
                "summary": "The partnership list",
                "security": secured,
                "parameters": [
                    _query("status", {"type": "string", "enum": list(STATUSES)}),
                    _query("country", {"type": "string", "pattern": "^[A-Za-z]{2}$"}),
                    _query("area", {"type": "string", "enum": list(AREAS)}),
                    _query("q", {"type": "string", "maxLength": 200}, "text search in names and descriptions"),
                    _query("inactive", {"type": "boolean"}),
                    _query(
                        "limit", {"type": "integer", "minimum": 1, "default": 50}, "page size; above 1000 gives 1000"
                    ),
                    _query("offset", {"type": "integer", "minimum": 0, "default": 0}),
                ],
                "responses": _responses("200", "PartnershipList", "401", "403", "422"),
            },
            "post": {
                "summary": "Register a partnership",
                "security": secured,
                "requestBody": body("RegisterPartnership"),
                "responses": _responses("201", "Partnership", "400", "401", "403", "409", "422"),
            },
        },
    )
    spec.path(
        "/partnerships/{pid}",
        operations={
            "get": {
                "summary": "One partnership, now or as it stood",
                "security": secured,
                "parameters": [
                    PID,
                    _query("as_of", {"type": "string", "pattern": BUSINESS_DATE_PATTERN}, "business date"),
                    _query("known_at", {"type": "string", "format": "date-time"}, "record time"),
                ],
                "responses": _responses("200", "Partnership", "401", "403", "404", "422"),
            }
        },
    )
    spec.path(
        "/partnerships/{pid}/events",
        operations={
            "get": {
                "summary": "The partnership's events, oldest first",
                "security": secured,
                "parameters": [PID],
                "responses": _responses("200", "EventList", "401", "403", "404"),
            },
            "post": {
                "summary": "Record an event",
                "security": secured,
                "parameters": [PID, IF_MATCH],
                "requestBody": body({"oneOf": variants, "discriminator": {"propertyName": "type"}}),
                "responses": _responses("201", "Event", "400", "401", "403", "404", "409", "422"),
            },
        },
    )
    spec.path(
        "/events",
        operations={
            "get": {
                "summary": "The whole log with positions and hashes (auditor, admin)",
                "security": secured,
                "parameters": [
                    _query("after", {"type": "integer", "minimum": 0, "default": 0}, "the previous page's next"),
                    _query(
                        "limit", {"type": "integer", "minimum": 1, "default": 100}, "page size; above 1000 gives 1000"
                    ),
                ],
                "responses": _responses("200", "LogPage", "401", "403", "422"),
            }
        },
    )
    spec.path(
        "/access-log",
        operations={
            "get": {
                "summary": "Every change to users: who, when, what, to whom, hash-chained (auditor, admin)",
                "security": secured,
                "parameters": [
                    _query("after", {"type": "integer", "minimum": 0, "default": 0}, "the previous page's next"),
                    _query(
                        "limit", {"type": "integer", "minimum": 1, "default": 100}, "page size; above 1000 gives 1000"
                    ),
                ],
                "responses": _responses("200", "AccessLogPage", "401", "403", "422"),
            }
        },
    )
    spec.path(
        "/audit/verify",
        operations={
            "get": {
                "summary": "Check the hash chain and the read models against a replay (auditor, admin)",
                "security": secured,
                "responses": _responses("200", "Verify", "401", "403"),
            }
        },
    )
    spec.path(
        "/register",
        operations={
            "get": {
                "summary": "Every partnership as it stood on a day",
                "security": secured,
                "parameters": [
                    _query("as_of", {"type": "string", "pattern": BUSINESS_DATE_PATTERN}),
                    _query("known_at", {"type": "string", "format": "date-time"}),
                ],
                "responses": _responses("200", "Register", "401", "403", "422"),
            }
        },
    )
    spec.path(
        "/reminders",
        operations={
            "get": {
                "summary": "Inactivity reminders",
                "security": secured,
                "parameters": [_query("open", {"type": "boolean"})],
                "responses": _responses("200", "ReminderList", "401", "403", "422"),
            }
        },
    )
    spec.path(
        "/reminders/{rid}/acknowledge",
        operations={
            "post": {
                "summary": "Acknowledge a reminder (manager, admin)",
                "security": secured,
                "parameters": [RID],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": "AcknowledgeReminder"}},
                },
                "responses": _responses("200", "Reminder", "400", "401", "403", "404", "409", "422"),
            }
        },
    )
    spec.path(
        "/openapi.json",
        operations={
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3 document"}},
            }
        },
    )
    return spec.to_dict()
