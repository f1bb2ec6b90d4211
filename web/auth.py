"""Who is asking: a Bearer token on the API or the browser session, and what their role may do."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request, session

from application.users import User
from web.errors import ApiError
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
            user = services.users.by_token(token.strip())
    elif session.get("user"):
        user = services.users.get(session["user"])
    g.user = user
    return user


def requires(*roles: str) -> Callable[[F], F]:
    """Refuse with 401 without credentials and 403 when the role may not (admin may everything)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                raise ApiError(401, "unauthorised")
            if not user.may(*roles):
                raise ApiError(403, request_message("forbidden", role=user.role))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
