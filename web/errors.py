"""The one place where refusals become HTTP answers: ``{"error", "fields"}`` with the contract's status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from domain.errors import (
    Conflict,
    DomainError,
    InvalidField,
    PartnershipNotFound,
    ReminderNotFound,
)


class ApiError(Exception):
    """A refusal raised by a view: status, message and optional per-field messages."""

    def __init__(self, status: int, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}


def flatten_messages(messages: Any, prefix: str = "") -> list[str]:
    """Nested marshmallow messages as a flat list of strings (``"0: Not a valid string."``)."""
    if isinstance(messages, str):
        return [f"{prefix}{messages}"]
    if isinstance(messages, dict):
        return [m for k, v in messages.items() for m in flatten_messages(v, f"{prefix}{k}: ")]
    return [m for item in messages or [] for m in flatten_messages(item, prefix)]


def field_errors(messages: Any) -> dict[str, list[str]]:
    """marshmallow's messages as ``{field: [message, ...]}`` (nested errors flattened)."""
    if not isinstance(messages, dict):
        return {"_schema": flatten_messages(messages)}
    return {str(k): flatten_messages(v) for k, v in messages.items()}


def error_response(status: int, message: str, fields: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def to_api_error(error: Exception) -> ApiError:
    """Map a domain or validation error to the contract's status and shape."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, ValidationError):
        return ApiError(422, "invalid input", field_errors(error.messages))
    if isinstance(error, InvalidField):
        return ApiError(422, "invalid input", {error.field: [error.message]})
    if isinstance(error, PartnershipNotFound | ReminderNotFound):
        return ApiError(404, str(error))
    if isinstance(error, Conflict):
        return ApiError(409, str(error))
    if isinstance(error, DomainError):
        return ApiError(422, str(error))
    raise error


#: Renders a refusal outside the API as an HTML page: (status, message or None) -> response.
HtmlErrorPage = Callable[[int, str | None], Any]


def register_error_handlers(app: Flask, html: HtmlErrorPage | None = None) -> None:
    """JSON errors under ``/api/``; elsewhere the ``html`` page when given (the web UI's)."""

    def is_api() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(ApiError)
    @app.errorhandler(ValidationError)
    @app.errorhandler(DomainError)
    def _domain(error: Exception) -> Any:
        api_error = to_api_error(error)
        if html is not None and not is_api():
            return html(api_error.status, api_error.message)
        return error_response(api_error.status, api_error.message, api_error.fields)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        if not is_api():
            return html(error.code or 500, None) if html is not None else error
        response = error_response(error.code or 500, error.description or error.name)
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response
