"""The Flask app only: ``create_app()``, the JSON API, the HTML UI, auth, schemas, OpenAPI.

Only the entry points import ``web``; nothing outside it imports Flask (``tests/test_architecture.py``)."""

from __future__ import annotations

from flask import Flask

from application.config import Config, load_config
from application.services import Services, build_services


def create_app(config: Config | None = None, services: Services | None = None) -> Flask:
    """Build the Flask app over one store (the composition root)."""
    from web import api
    from web.errors import register_error_handlers
    from web.limits import MAX_BODY, TrustedProxy, init_limits
    from web.ui import init_ui
    from web.ui.common import error_page

    config = config or (services.config if services else load_config())
    services = services or build_services(config)
    app = Flask(__name__)
    app.extensions["tracker"] = services
    app.config.update(
        SECRET_KEY=services.secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=MAX_BODY,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    register_error_handlers(app, html=error_page)
    app.register_blueprint(api.bp)
    init_ui(app)
    init_limits(app, error_page)
    app.wsgi_app = TrustedProxy(app.wsgi_app, config.trusted_proxy)  # type: ignore[method-assign]
    return app
