"""Signing in and out (the API's users and passwords), and the language switch."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from application.users import session_limits
from web.auth import SESSION_KEY, current_user
from web.ui.common import safe_next, services
from web.ui.i18n import LANGUAGE_COOKIE, LANGUAGES

bp = Blueprint("auth", __name__)

#: Longest user name or password looked at (argon2 would hash a megabyte happily).
MAX_INPUT = 1024


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if current_user() is not None:
            return redirect(url_for("partnerships.dashboard"))
        return render_template("auth/login.html", username="", failed=False)
    name = request.form.get("username", "").strip()[:MAX_INPUT]
    password = request.form.get("password", "")[:MAX_INPUT]
    user = services().users.check_password(name, password) if name and password else None
    if user is None:
        return render_template("auth/login.html", username=name, failed=True), 401
    _end_session()
    s = services()
    session[SESSION_KEY] = s.users.open_session(user.name, **session_limits(s.config))
    return redirect(safe_next(request.args.get("next")) or url_for("partnerships.dashboard"))


@bp.post("/logout")
def logout() -> Any:
    _end_session()
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


def _end_session() -> None:
    """End this browser's session on the server (its row is deleted: a copy of the cookie stops working too)."""
    if session.get(SESSION_KEY):
        services().users.end_session(session[SESSION_KEY])
    session.clear()


@bp.get("/language/<code>")
def language(code: str) -> Any:
    """Remember the chosen language in a cookie and go back where the switch was."""
    if code not in LANGUAGES:
        abort(404)
    response = redirect(safe_next(request.args.get("next")) or url_for("partnerships.dashboard"))
    response.set_cookie(
        LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax", secure=request.is_secure
    )
    return response
