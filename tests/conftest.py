"""Shared fixtures: a fresh real store per test (an SQLite file under tmp_path), the app over it,
and one user (with an API token) per role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from web import create_app
from web.config import Config
from web.services import Services, build_services

ROLES = ("officer", "auditor", "manager", "admin")
USER_NAMES = {"officer": "ala", "auditor": "ewa", "manager": "jan", "admin": "root"}


def backend_database(tmp_path: Path) -> str:
    """The TRACKER_DATABASE for this test: an SQLite file (default) or PostgreSQL when configured."""
    url = os.environ.get("TEST_DATABASE_URL")
    if os.environ.get("TEST_BACKEND", "sqlite") == "postgres" and url:
        return url
    return str(tmp_path / "events.db")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(database=backend_database(tmp_path))


@pytest.fixture
def services(config: Config) -> Iterator[Services]:
    s = build_services(config)
    yield s
    s.close()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(services: Services) -> dict[str, str]:
    """An API token per role (users ala, ewa, jan, root)."""
    return {role: services.users.add(USER_NAMES[role], role, email=f"{USER_NAMES[role]}@example.org") for role in ROLES}


@pytest.fixture
def headers(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """Authorization headers per role: ``headers["officer"]``."""
    return {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}


def log_position(services: Services) -> int:
    """How many events the store holds (the log's head)."""
    return services.tracker.recorder.max_notification_id() or 0


def with_today(config: Config, today: date) -> Config:
    return replace(config, fixed_today=today)
