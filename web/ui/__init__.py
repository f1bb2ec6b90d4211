"""The web UI: server-rendered pages in Polish and English over the same commands and queries as the API.

Sessions are signed cookies (HttpOnly, SameSite=Lax, Secure when the request came over https, also behind
the trusted proxy (``TRACKER_TRUSTED_PROXY``, see web/limits.py) when it says so in ``X-Forwarded-Proto``);
every form carries a CSRF token (the JSON API is exempt: it
takes tokens, and a browser session may write to it only with a JSON body); every answer carries a content
security policy that allows no script at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from application.i18n import compiled_translations
from web.auth import current_user
from web.messages import request_message
from web.ui import vocab
from web.ui.common import error_page, login_redirect, may
from web.ui.i18n import LANGUAGE_NAMES, LANGUAGES, country_name, day, language, moment, select_locale, time_tag
from web.ui.once import template_helpers

#: No script from anywhere, styles and images from this site only, no framing, forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: Endpoints an anonymous visitor may reach (besides the API, which answers 401 itself).
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.language", "static"})


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_ui(app: Flask) -> None:
    """Add the HTML blueprints, languages, CSRF protection and security headers to the app."""
    from web import api
    from web.ui import admin as user_admin
    from web.ui import audit, auth, partnerships, reminders
    from web.ui import report as council_report

    services = app.extensions["tracker"]
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "pl")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(compiled_translations()))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", services.config.timezone)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a form left open for hours still posts
    Babel(app, locale_selector=select_locale)
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)
    app.session_interface = SessionInterface()
    for blueprint in (auth.bp, partnerships.bp, audit.bp, audit.register_bp, reminders.bp, council_report.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(user_admin.bp)  # users (admin) and the access log (auditor, admin)

    app.jinja_env.globals.update(
        get_locale=language,
        current_user=current_user,
        may=may,
        vocab=vocab,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        here_without_lang=_here_without_lang,
    )
    app.context_processor(template_helpers)  # the forms' keys (web/ui/once.py)
    app.jinja_env.filters.update(country=country_name, day=day, moment=moment, time=time_tag)
    # a flashed confirmation of one entry ("entry-N"), shown beside it on a page that has it
    app.jinja_env.tests["beside_entry"] = lambda flashed, shown_there: shown_there and flashed[0].startswith("entry-")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.before_request
    def _only_login_for_anonymous() -> Any:
        if request.path.startswith("/api/") or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if current_user() is None:
            return login_redirect()
        return None

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
            headers.add("Vary", "Cookie, Accept-Language")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_refused(error: CSRFError) -> Any:
        if request.path.startswith("/api/"):  # pragma: no cover - the API is exempt
            return error
        return error_page(400, request_message("csrf"))


def _here_without_lang(req: Request | None = None) -> str:
    """The current page's path and query without ``lang`` (where the language switch returns to)."""
    req = req or request
    args = [(k, v) for k, v in req.args.items(multi=True) if k != "lang"]
    if req.method != "GET":
        return req.path
    return req.path + (f"?{urlencode(args)}" if args else "")
