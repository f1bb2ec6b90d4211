"""Fixtures of the HTTP API tests (the store, app, client, users and tokens come from ``tests/conftest.py``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from application.services import Services

from .helpers import register


@pytest.fixture
def today(services: Services) -> date:
    """The server's "today" (the office's calendar)."""
    return services.today()


@pytest.fixture
def bar(client: FlaskClient, headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Bar, Montenegro, freshly registered by the officer (version 1, proposed)."""
    return register(client, headers["officer"])


@pytest.fixture
def bulk_register(services: Services):  # noqa: ANN201 - a function
    """Register ``n`` partnerships straight through the application (fast), then catch the read models up."""

    def run(n: int, prefix: str = "Partner") -> None:
        for i in range(n):
            services.tracker.register_partnership(
                {
                    "partner_name": f"{prefix} {i:04d}",
                    "partner_country": "IT",
                    "partner_kind": "city",
                    "local_party": "Powiat Piaseczyński",
                },
                recorded_by="ala",
                today=services.today(),
            )
        services.projection.catch_up()

    return run
