"""The one place where refusals become HTTP answers: ``{"error", "code", "fields", "field_codes"}`` with the
contract's status. ``error`` and ``fields`` are the English texts; ``code`` and ``field_codes`` the stable codes
(web/messages.py, domain/errors.py) the UI translates and a client may rely on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from application.vocabulary import Message, domain_message
from domain.errors import (
    Conflict,
    DomainError,
    InvalidField,
    NotPermitted,
    PartnershipNotFound,
    ReminderNotFound,
)
from infrastructure.outage import RETRY_AFTER_S, Outage, store_errors, store_outage
from web.messages import field_message, field_messages, http_code, request_message

log = logging.getLogger("tracker.store")

#: The errors a store can raise (the library's, the PostgreSQL driver's, SQLite's): an outage among them is a
#: 503 with Retry-After (infrastructure/outage.py decides which); any other stays a 500.
STORE_ERRORS: tuple[type[Exception], ...] = store_errors()


class ApiError(Exception):
    """A refusal raised by a view: its status, its message (a code of web/messages.py or the domain's, by
    name, or a :class:`Message` with parameters) and the messages of the fields it names."""

    def __init__(self, status: int, message: Message | str, fields: dict[str, list[Message]] | None = None) -> None:
        self.status = status
        self.message = message if isinstance(message, Message) else request_message(message)
        self.fields = fields or {}
        super().__init__(str(self.message))

    @property
    def code(self) -> str:
        return self.message.code


def invalid_query(name: str, code: str, **params: Any) -> ApiError:
    """422 naming one query parameter, with its message by code."""
    return ApiError(422, "invalid_query", {name: [field_message(code, **params)]})


def error_response(status: int, message: str, code: str, fields: dict[str, list[Message]] | None = None) -> Response:
    """The contract's error shape, with the codes: ``{"error", "code", "fields"?, "field_codes"?}``."""
    body: dict[str, Any] = {"error": message, "code": code}
    if fields:
        body["fields"] = {name: [str(m) for m in messages] for name, messages in fields.items()}
        body["field_codes"] = {name: [m.code for m in messages] for name, messages in fields.items()}
    response = jsonify(body)
    response.status_code = status
    return response


def to_api_error(error: Exception) -> ApiError:
    """Map a domain or validation error to the contract's status and shape."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, ValidationError):
        return ApiError(422, "invalid_input", field_messages(error.messages))
    if isinstance(error, InvalidField):
        return ApiError(422, "invalid_input", {error.field: [domain_message(error)]})
    if isinstance(error, NotPermitted):
        return ApiError(403, domain_message(error))
    if isinstance(error, PartnershipNotFound | ReminderNotFound):
        return ApiError(404, domain_message(error))
    if isinstance(error, Conflict):
        return ApiError(409, domain_message(error))
    if isinstance(error, DomainError):
        return ApiError(422, domain_message(error))
    raise error


#: Renders a refusal outside the API as an HTML page: (status, message or None) -> response.
HtmlErrorPage = Callable[[int, Message | None], Any]


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
        return error_response(api_error.status, str(api_error.message), api_error.code, api_error.fields)

    def _store(error: Exception) -> Any:
        outage = store_outage(error)
        if outage is None:
            raise error  # a programming error: Flask answers 500 and logs it
        log.warning("503 for %s %s: %s (%s)", request.method, request.path, outage.reason, type(error).__name__)
        return unavailable_response(outage, html if not is_api() else None)

    for store_error in STORE_ERRORS:
        app.register_error_handler(store_error, _store)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        if not is_api():
            return html(error.code or 500, None) if html is not None else error
        status = error.code or 500
        response = error_response(status, error.description or error.name, http_code(status))
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response


def unavailable_response(outage: Outage, html: HtmlErrorPage | None = None) -> Response:
    """503 with ``Retry-After``: the contract's JSON (``code`` "unavailable"), or the ``html`` page."""
    message = request_message("unavailable")
    if html is not None:
        if "user" not in g:
            g.user = None  # the page must not ask the store who is signed in: it is down
        response = current_app.make_response(html(503, message))
    else:
        response = error_response(503, str(message), message.code)
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    response.headers["Cache-Control"] = "no-store"
    return response
