"""The JSON API, ``/api/v1``: parse, one command or query, respond."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from uuid import UUID, uuid4, uuid5

from flask import Blueprint, Response, current_app, g, jsonify, request, session, url_for

from application.replies import KeyReused, Reply, StillRunning, any_of, fingerprint, valid_key
from application.rights import check_may_record_type
from application.services import Services
from application.timeparse import parse_moment
from domain.dates import BusinessDate
from domain.event_types import EVENT_TYPES
from domain.values import AREAS, STATUSES
from infrastructure.outage import RETRY_AFTER_S, store_outage
from projections import queries
from projections.documents import preview_document
from web.auth import AUDITORS, EVERYONE, MANAGERS, SESSION_KEY, WRITERS, current_user, requires
from web.errors import STORE_ERRORS, ApiError, invalid_query, unavailable_response
from web.identity import request_id, use_key
from web.messages import field_message, request_message
from web.schemas import EVENT_SCHEMAS, AcknowledgeReminderSchema, RegisterPartnershipSchema

bp = Blueprint("api", __name__, url_prefix="/api/v1")
logger = logging.getLogger("tracker.api")


def services() -> Services:
    return current_app.extensions["tracker"]


@bp.before_request
def _session_writes_need_json() -> None:
    """The API takes no CSRF token: a browser session may write only with a JSON body, which a cross-site
    form cannot send (a token in the Authorization header is not sent by browsers on their own)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.headers.get("Authorization"):
        return
    if session.get(SESSION_KEY) and not request.is_json:
        raise ApiError(400, "json_required")


# --- request parsing ------------------------------------------------------------------------


def json_body(*, allow_empty: bool = False) -> dict[str, Any]:
    """The request's JSON object; 400 when the body is not one."""
    if allow_empty and not request.get_data():
        return {}
    try:
        payload = request.get_json(force=True, silent=True)
    except RecursionError:  # nested deeper than the parser goes: not a body any client means
        raise ApiError(400, "malformed_json") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "malformed_json")
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # "\ud800" is valid JSON syntax but not text: it could be neither stored nor echoed in an error.
        raise ApiError(400, "not_unicode") from None
    return payload


def if_match() -> int | None:
    """``If-Match: N`` (or ``"N"``) as an integer; 400 for anything else."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not text.isdigit() or not text.isascii():
        raise ApiError(400, "malformed_if_match")
    return int(text)


#: The largest offset or position a query may carry (a database BIGINT); larger values mean "past the end".
MAX_QUERY_INT = 2**63 - 1


def query_int(name: str, default: int, *, low: int, high: int = MAX_QUERY_INT) -> int:
    """A non-negative integer query parameter; values above ``high`` are capped to it."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not raw.isascii():
        raise invalid_query(name, "below_minimum", low=low)
    digits = raw.lstrip("0") or "0"
    value = high if len(digits) > len(str(high)) else min(int(digits), high)
    if value < low:
        raise invalid_query(name, "below_minimum", low=low)
    return value


#: The longest search text (SQLite refuses LIKE patterns past 50,000 bytes; no name is this long).
MAX_QUERY_TEXT = 200


def query_text(name: str, longest: int) -> str | None:
    """A free-text query parameter of at most ``longest`` characters (422 naming it when longer)."""
    raw = request.args.get(name) or None
    if raw is not None and len(raw) > longest:
        raise invalid_query(name, "too_long", max=longest)
    return raw


def query_choice(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is not None and raw not in choices:
        raise invalid_query(name, "one_of", choices=", ".join(choices))
    return raw


def query_bool(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false", "1", "0"):
        raise invalid_query(name, "not_a_boolean")
    return raw.lower() in ("true", "1")


def query_date(name: str) -> BusinessDate | None:
    """A business date: a day, a month or a year (a month or a year stands for its first day)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return BusinessDate.parse(raw)
    except ValueError:
        raise invalid_query(name, "not_a_business_date") from None


def query_datetime(name: str) -> datetime | None:
    """An ISO 8601 date-time; without an offset it is taken as UTC."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return parse_moment(raw)
    except ValueError:
        raise invalid_query(name, "not_a_moment") from None


def partnership_id(raw: str) -> str:
    try:
        return str(UUID(raw))
    except ValueError:
        raise ApiError(404, request_message("partnership_not_found", partnership_id=raw)) from None


def created(body: dict[str, Any], location: str) -> Response:
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = location
    return response


# --- endpoints --------------------------------------------------------------------------------


@bp.get("/health")
def health() -> Response:
    """200 with the log's head; 503 with ``Retry-After`` and the reason when the store cannot serve. Bounded:
    on PostgreSQL the pool's short timeout, or at once while the store is known to be down."""
    try:
        position = queries.head(services().db)["position"]
    except STORE_ERRORS as error:
        outage = store_outage(error)
        if outage is None:
            raise
        response = jsonify({"status": "unavailable", "store": outage.reason})
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    return jsonify({"status": "ok", "position": position})


@bp.get("/partnerships")
@requires(*EVERYONE)
def list_partnerships() -> Response:
    country = request.args.get("country")
    if country is not None and (len(country) != 2 or not country.isascii() or not country.isalpha()):
        raise invalid_query("country", "not_a_country_code")
    page = queries.list_partnerships(
        services().db,
        services().clock(),
        status=query_choice("status", STATUSES),
        country=country,
        area=query_choice("area", AREAS),
        q=query_text("q", MAX_QUERY_TEXT),
        inactive=query_bool("inactive"),
        limit=query_int("limit", 50, low=1, high=1000),
        offset=query_int("offset", 0, low=0),
    )
    return jsonify(page)


#: The namespace of registration ids derived from a user's Idempotency-Key.
REGISTRATION_IDS = UUID("6f1c3a52-8d0e-4c7b-9a51-2f4e8b7d0c13")
#: How long a repeat waits for the first request with its Idempotency-Key to be answered (then 503, retry).
WAIT_FOR_FIRST = 5.0
#: Headers repeated with a kept answer.
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


def resumed_since() -> datetime | None:
    """When this request's key was first tried, when this is a repeat of an attempt that ended without an
    answer (a 5xx, or its process died) and may have written before it failed; None otherwise."""
    return g.get("resumed_since")


def idempotent(view: Callable[..., Any]) -> Callable[..., Response]:
    """Honour ``Idempotency-Key`` (the contract): a repeat of the same request by the same user gets the
    first answer and records nothing; the same key with another request is 422; while the first is still
    running, 409 with ``Retry-After``. Answers of 5xx, 401 and 429 are not kept. After a 5xx the claim is
    abandoned rather than released: the repeat runs again at once, told (:func:`resumed_since`) that the
    failed attempt may have written, so that it answers with that write instead of making a second.
    Goes under :func:`requires`, so the user is known."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not valid_key(key):
            raise ApiError(400, "bad_idempotency_key")
        user, replies = current_user().name, services().replies
        print_ = fingerprint(
            request.method,
            request.path,
            request.query_string,
            request.get_data(cache=True),
            request.headers.get("If-Match", ""),
        )
        try:  # while the same request is being answered, wait for that answer, which is this one's too
            kept, g.resumed_since = replies.resume_waiting(user, key, print_, wait_s=WAIT_FOR_FIRST, poll_s=0.05)
        except KeyReused:
            raise ApiError(
                422, "idempotency_key_reused", {"Idempotency-Key": [request_message("idempotency_key_reused")]}
            ) from None
        except StillRunning:  # not a 409: that would be a conflict with its own write
            busy = current_app.make_response(current_app.handle_user_exception(ApiError(503, "idempotency_key_busy")))
            busy.headers["Retry-After"] = "1"
            return busy
        if kept is not None:
            return Response(kept.body, status=kept.status, headers=kept.headers)
        use_key(user, key)  # every attempt at this request records under one identity: a retry finds its write
        try:
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except Exception as e:  # a refusal is an answer too: kept like the others
                response = current_app.make_response(current_app.handle_user_exception(e))
        except BaseException:
            replies.release(user, key)
            raise
        if response.status_code >= 500:
            try:  # it may have written before it failed: the repeat resumes it (checks) at once
                replies.abandon(user, key)
            except STORE_ERRORS:  # the store is down: the claim stays open, and goes stale (resumed then)
                logger.warning(
                    "could not abandon Idempotency-Key claim of %s; its repeat waits until it is stale", user
                )
        elif response.status_code in (401, 429):
            replies.release(user, key)
        else:
            body = response.get_data(as_text=True)
            replies.keep(user, key, Reply(response.status_code, body, any_of(response.headers, REPLAYED_HEADERS)))
        return response

    return wrapper


@bp.post("/partnerships")
@requires(*WRITERS)
@idempotent
def register_partnership() -> Response:
    fields = RegisterPartnershipSchema().load(json_body())
    s, user = services(), current_user().name
    key = request.headers.get("Idempotency-Key", "").strip()
    # with a key, the id follows from it: a retry after a lost answer finds its own partnership (exactly once)
    derived = uuid5(REGISTRATION_IDS, f"{user}\n{key}") if key else uuid4()
    try:
        recorded = s.register_partnership(fields, user=user, partnership_id=derived, request_id=request_id())
    except STORE_ERRORS as error:
        outage = store_outage(error)
        if outage is None or key:
            raise
        # Without a key a retry would register another partnership, while this one may have been recorded
        # (the store went away around its COMMIT): the answer names it, for the client to look it up first.
        logger.warning("503 for a registration without Idempotency-Key: %s (may be recorded)", outage.reason)
        response = unavailable_response(outage)
        response.set_data(json.dumps({**response.get_json(), "partnership_id": str(derived)}))
        return response
    pid = str(recorded.partnership_id)
    return created(queries.get_partnership(s.db, pid, s.clock()), url_for("api.get_partnership", pid=pid))


@bp.get("/partnerships/<pid>")
@requires(*EVERYONE)
def get_partnership(pid: str) -> Response:
    pid, s = partnership_id(pid), services()
    as_of, known_at = query_date("as_of"), query_datetime("known_at")

    def read() -> dict[str, Any] | None:
        if as_of is None and known_at is None:
            return queries.get_partnership(s.db, pid, s.clock())
        return queries.partnership_at(s.db, pid, s.clock(), as_of=as_of, known_at=known_at)

    doc = read()
    if doc is None:
        # the read models may lag the log (after an outage, a write answered 503 may be in the log): a
        # "not found" is said only of the log as it is now
        s.projection.catch_up()
        doc = read()
    if doc is None:
        raise ApiError(404, request_message("partnership_not_found_then", partnership_id=pid))
    return jsonify(doc)


@bp.get("/partnerships/<pid>/events")
@requires(*EVERYONE)
def list_events(pid: str) -> Response:
    events = queries.list_events(services().db, partnership_id(pid))
    if events is None:
        raise ApiError(404, request_message("partnership_not_found", partnership_id=pid))
    return jsonify({"items": events})


@bp.post("/partnerships/<pid>/events")
@requires(*WRITERS, *MANAGERS)  # a manager: only to retract an acknowledgement (application/rights.py)
@idempotent
def record_event(pid: str) -> Response:
    pid, s = partnership_id(pid), services()
    payload = json_body()
    expected = if_match()
    event_type = payload.pop("type", None)
    user = current_user()
    check_may_record_type(user.role, event_type)  # a manager: 403 for any other type, before the body is read
    if not isinstance(event_type, str) or event_type not in EVENT_SCHEMAS:
        if event_type is None:
            code = "required"
        elif not isinstance(event_type, str):
            code = "not_a_string"
        elif event_type in EVENT_TYPES:
            code = "system_type"
        else:
            code = "unknown_event_type"
        raise ApiError(422, "invalid_input", {"type": [field_message(code)]})
    fields = EVENT_SCHEMAS[event_type]().load(payload)
    if query_bool("dry_run"):
        partnership, event = s.preview_event(
            UUID(pid), event_type, fields, user=user.name, role=user.role, expected_version=expected
        )
        return jsonify(preview_document(partnership.fact_list(), event))
    recorded = s.record_event(
        UUID(pid),
        event_type,
        fields,
        user=user.name,
        role=user.role,
        expected_version=expected,
        since=resumed_since(),
        request_id=request_id(),
    )
    event = queries.get_event(s.db, pid, recorded.version)
    return created(event, url_for("api.list_events", pid=pid))


@bp.get("/events")
@requires(*AUDITORS)
def log() -> Response:
    page = queries.log_page(
        services().db, after=query_int("after", 0, low=0), limit=query_int("limit", 100, low=1, high=1000)
    )
    return jsonify(page)


@bp.get("/access-log")
@requires(*AUDITORS)
def access_log() -> Response:
    """Every change to users (who, when, what, to whom), hash-chained like the log."""
    page = services().users.access_log.page(
        after=query_int("after", 0, low=0), limit=query_int("limit", 100, low=1, high=1000)
    )
    return jsonify(page)


@bp.get("/audit/verify")
@requires(*AUDITORS)
def audit_verify() -> Response:
    return jsonify(services().verify())


@bp.get("/register")
@requires(*EVERYONE)
def register() -> Response:
    s = services()
    as_of = query_date("as_of") or BusinessDate.of(s.today())
    known_at = query_datetime("known_at")
    items = queries.register_at(s.db, s.clock(), as_of=as_of, known_at=known_at)
    return jsonify({"as_of": as_of.isoformat(), "known_at": known_at.isoformat() if known_at else None, "items": items})


@bp.get("/reminders")
@requires(*EVERYONE)
def list_reminders() -> Response:
    return jsonify({"items": queries.list_reminders(services().db, is_open=query_bool("open"))})


@bp.post("/reminders/<rid>/acknowledge")
@requires(*MANAGERS)
@idempotent
def acknowledge_reminder(rid: str) -> Response:
    fields = AcknowledgeReminderSchema().load(json_body(allow_empty=True))
    return jsonify(
        services().acknowledge_reminder(
            rid, note=fields.get("note"), user=current_user().name, since=resumed_since(), request_id=request_id()
        )
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    from web.openapi import openapi_document

    return jsonify(openapi_document())
