"""Who is asking: a Bearer token on the API or the browser session, and what their role may do."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request, session

from application.users import User, session_limits
from application.vocabulary import N_, Message
from web.errors import ApiError
from web.limits import token_attempt
from web.messages import request_message

F = TypeVar("F", bound=Callable[..., Any])

WRITERS = ("officer",)
AUDITORS = ("auditor",)
MANAGERS = ("manager",)
EVERYONE = ("officer", "auditor", "manager")


def current_user() -> User | None:
    """The authenticated user of this request, or None (cached on ``g``)."""
    if "user" in g:
        return g.user
    services = current_app.extensions["tracker"]
    user = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            user = token_attempt(lambda: services.users.by_token(token.strip()))  # 429 after many misses
    elif session.get(SESSION_KEY):
        user = services.users.session_user(session[SESSION_KEY], **session_limits(services.config))
        if user is None:  # ended, expired or its user disabled: the cookie is worth nothing any more
            session.clear()
    g.user = user
    return user


#: A 401 for a token that was sent: the same code as no credentials, a message that says what is wrong.
BAD_TOKEN = N_("the token is not valid: it is unknown, was replaced by a new one or revoked, or its user is disabled")

#: The signed cookie's key for the server-side session id (``application.users.UserStore.open_session``).
SESSION_KEY = "sid"


def requires(*roles: str) -> Callable[[F], F]:
    """Refuse with 401 without credentials and 403 when the role may not (admin may everything)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.headers.get("Authorization"):  # sent, but names no enabled user's current token
                    raise ApiError(401, Message("unauthorised", BAD_TOKEN, {}))
                raise ApiError(401, "unauthorised")
            if not user.may(*roles):
                raise ApiError(403, request_message("forbidden", role=user.role))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
