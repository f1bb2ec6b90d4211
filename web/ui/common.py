"""What the HTML blueprints share: the services, who may see a page, safe redirects, error pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, url_for

from application.services import Services
from application.vocabulary import Message
from web.auth import current_user
from web.errors import ApiError
from web.messages import request_message
from web.ui.i18n import say

F = TypeVar("F", bound=Callable[..., Any])


def services() -> Services:
    return current_app.extensions["tracker"]


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (never another host: no open redirect), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):  # no CR/LF or other control in a Location header
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def login_redirect() -> Any:
    here = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=here if request.method == "GET" else None))


def role_required(*roles: str) -> Callable[[F], F]:
    """Anonymous visitors go to the login page; a role that may not gets the 403 page (admin may all)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return login_redirect()
            if not user.may(*roles):
                raise ApiError(403, request_message("forbidden", role=user.role))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def may(*roles: str) -> bool:
    """Whether the signed-in user's role may (for showing or hiding controls; the views check again)."""
    user = current_user()
    return bool(user and user.may(*roles))


def error_page(status: int, message: Message | None = None) -> tuple[str, int]:
    """The HTML page of a refusal, in the page's language."""
    return render_template("error.html", status=status, message=say(message) if message else None), status
