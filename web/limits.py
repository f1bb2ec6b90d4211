"""What keeps an exposed server standing: attempt limits, the trusted proxy, early body limits.

- **Sign-in attempts** (``POST /login``) are limited per client address and per user name with Flask-Limiter;
  only failed attempts count (a 401), and once a limit is reached every attempt in that window is refused
  with 429 and ``Retry-After``, a right password included.
- **Bad API tokens** (``Authorization: Bearer`` naming no user) are counted per client address the same
  way; past the limit the API answers 429 before it looks the token up.
- The counters live **in the memory of each server process** (Flask-Limiter's ``memory://`` storage): they
  start empty when the process starts, and with gunicorn each worker counts for itself (so N workers let
  through at most N times the numbers below). docs/security.md says what that means.
- Password hashing is bounded in ``application.passwords``; when every slot stays busy the answer is 503.
- **The trusted proxy** (``TRACKER_TRUSTED_PROXY``): only a request whose peer is that address has its
  ``X-Forwarded-For``/``-Proto``/``-Host``/``-Port`` believed (the client address the limits count, https for
  the Secure cookie and HSTS). Waitress rewrites the request itself when told the proxy
  (``entrypoints/cli.py``); under gunicorn the app does it here, so both modes behave alike.
- **Bodies** larger than the app's limit are refused by their ``Content-Length`` before anything reads them.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from application.passwords import PasswordsBusy
from web.errors import error_response
from web.messages import request_message

#: Failed sign-ins from one client address.
LOGIN_PER_ADDRESS = "10 per minute; 50 per hour"
#: Failed sign-ins for one user name, from anywhere (a guesser spread over many addresses).
LOGIN_PER_NAME = "5 per minute; 20 per hour"
#: Requests with an unknown API token from one client address.
TOKEN_FAILURES_PER_ADDRESS = "20 per minute; 200 per hour"

EXTENSION = "tracker_limits"
#: The largest request body (the app's MAX_CONTENT_LENGTH; waitress refuses larger ones before buffering).
MAX_BODY = 2 * 1024 * 1024


def client_address() -> str:
    """The client's address (the proxy's view of it only when the proxy is trusted, see :class:`TrustedProxy`)."""
    return request.remote_addr or "unknown"


def _login_name() -> str:
    """The user name a sign-in attempt is for, as the store compares it."""
    return "name:" + request.form.get("username", "").strip()[:1024]


def _failed(response: Response) -> bool:
    return response.status_code == 401


class TokenFailures:
    """Unknown API tokens per client address, in the limiter's storage (a moving window)."""

    def __init__(self, limiter: Limiter, limits: Iterable[RateLimitItem]) -> None:
        self.limiter = limiter
        self.limits = tuple(limits)

    def refuse_when_over(self, address: str) -> None:
        strategy = self.limiter.limiter
        for item in self.limits:
            if not strategy.test(item, "token-failures", address):
                reset = strategy.get_window_stats(item, "token-failures", address).reset_time
                raise TooManyRequests(retry_after=max(1, math.ceil(reset - time.time())))

    def failed(self, address: str) -> None:
        for item in self.limits:
            self.limiter.limiter.hit(item, "token-failures", address)


def token_attempt(lookup: Callable[[], Any]) -> Any:
    """Look a bearer token up, counting a miss against the client's address; 429 once too many missed."""
    failures: TokenFailures | None = current_app.extensions.get(EXTENSION)
    if failures is None:
        return lookup()
    address = client_address()
    failures.refuse_when_over(address)
    user = lookup()
    if user is None:
        failures.failed(address)
    return user


def init_limits(app: Flask, html: Callable[[int, Any], Any]) -> Limiter:
    """Limit sign-ins (``auth.login``) and bad tokens, answer 429/503/413 early, in the app's error shape."""
    limiter = Limiter(
        client_address,
        app=app,
        storage_uri="memory://",
        strategy="moving-window",
        headers_enabled=True,
    )
    app.extensions[EXTENSION] = TokenFailures(limiter, parse_many(TOKEN_FAILURES_PER_ADDRESS))
    if "auth.login" in app.view_functions:
        view = app.view_functions["auth.login"]
        view = limiter.limit(LOGIN_PER_ADDRESS, methods=["POST"], deduct_when=_failed, scope="login-address")(view)
        view = limiter.limit(
            LOGIN_PER_NAME, key_func=_login_name, methods=["POST"], deduct_when=_failed, scope="login-name"
        )(view)
        app.view_functions["auth.login"] = view

    def refusal(status: int, code: str, retry_after: int | None) -> Any:
        message = request_message(code)
        if request.path.startswith("/api/"):
            response = error_response(status, str(message), code)
        else:
            response = app.make_response(html(status, message))
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(429)
    def _too_many(error: TooManyRequests) -> Any:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is None and limiter.current_limit is not None:
            retry_after = math.ceil(limiter.current_limit.reset_at - time.time())
        return refusal(429, "too_many_attempts", max(1, int(retry_after or 60)))

    @app.errorhandler(PasswordsBusy)
    def _busy(error: PasswordsBusy) -> Any:
        return refusal(503, "passwords_busy", error.retry_after)

    @app.before_request
    def _refuse_large_bodies() -> None:
        """By ``Content-Length``, before a view (or the form parser) reads a byte of the body."""
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()

    return limiter


class TrustedProxy:
    """WSGI middleware: believe ``X-Forwarded-*`` (one hop) only from the trusted proxy's address."""

    def __init__(self, app: Any, address: str | None) -> None:
        self.app = app
        self.address = _normal(address) if address else None
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.address is not None and _normal(environ.get("REMOTE_ADDR") or "") == self.address:
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def _normal(address: str) -> str:
    """An address compared by value (``::ffff:127.0.0.1`` is ``127.0.0.1``); a host name as it is written."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip().lower()
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)
