"""Shared fixtures: a fresh real store per test, the app over it, and one user (with an API token) per role.

The store is an SQLite file under tmp_path, or, with ``TEST_BACKEND=postgres`` and
``TEST_DATABASE_URL``, a PostgreSQL schema of the test's own, exactly as new (pooled: put back
as new, or dropped, when the test ends; see ``tests/backend.py``). The same tests run on both;
``@pytest.mark.sqlite_only`` marks the few that are about the SQLite file itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import backend
import pytest
from backend import BACKEND, ORGANISATION, POSTGRES, Store, check_backend, database_for, drop_stores
from flask import Flask
from flask.testing import FlaskClient

from application.config import Config
from application.services import Services, build_services
from web import create_app

ROLES = ("officer", "auditor", "manager", "admin")
USER_NAMES = {"officer": "ala", "auditor": "ewa", "manager": "jan", "admin": "root"}


def pytest_configure(config: pytest.Config) -> None:
    problem = check_backend()
    if problem:
        raise pytest.UsageError(problem)


def pytest_report_header() -> str:
    return f"store backend: {BACKEND}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    if POSTGRES:
        backend.drop_pool()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if POSTGRES:
        stats = backend.pool_stats
        terminalreporter.write_line(
            f"PostgreSQL test schemas: {stats['made']} made, {stats['reused']} put back as new and reused,"
            f" {stats['dropped']} dropped"
        )


#: Fixtures through which a test reaches a store (every other store fixture depends on one of them).
STORE_FIXTURES = frozenset({"config", "database_url", "services", "tmp_path", "tmp_path_factory"})
#: Where the tests of pure logic live: without a store fixture they cannot tell the two stores apart.
PURE_PLACES = ("unit/", "test_architecture.py")
#: Tests about the HTTP servers alone (the store only answers the health check): run once, in the SQLite run.
SERVER_ONLY = ("integration/test_exposure.py::test_half_open_connections_block_nobody",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not POSTGRES:
        return
    skip = pytest.mark.skip(reason="about the SQLite file itself (TEST_BACKEND=postgres)")
    once = pytest.mark.skip(reason="about the HTTP server, not the store: run once, on SQLite")
    kept, pure = [], []
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)
        place = item.path.relative_to(Path(__file__).parent).as_posix()
        if f"{place}::{getattr(item, 'originalname', item.name)}" in SERVER_ONLY:
            item.add_marker(once)
        touches_store = STORE_FIXTURES & set(getattr(item, "fixturenames", ()))
        (pure if place.startswith(PURE_PLACES) and not touches_store else kept).append(item)
    if pure:  # they ran on SQLite already, and no store is involved: running them again proves nothing new
        config.hook.pytest_deselected(items=pure)
        items[:] = kept


@pytest.fixture(autouse=True)
def _drop_test_stores() -> Iterator[None]:
    """The PostgreSQL schemas a test used are put back as new, or dropped, after it (after every other
    fixture's teardown)."""
    yield
    drop_stores()


def backend_database(tmp_path: Path) -> str:
    """The TRACKER_DATABASE of this test's store: ``tmp_path/events.db`` (not created yet), or a PostgreSQL
    schema's URL whose tables are made as ``tracker db init`` makes them (a new store either way: in-process
    services open it with ``create_tables`` on, which makes the same tables and rows)."""
    return database_for(tmp_path)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The test's new store; in-process fixtures open it with table creation on (``create_tables``).

    The register is the county's (as ``TRACKER_ORGANISATION`` would say), so an omitted ``local_party`` is it.
    """
    return Config(database=backend_database(tmp_path), organisation=ORGANISATION)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """TRACKER_DATABASE for ``tracker`` subprocesses: the same store as ``config``, its tables made (db init)."""
    return database_for(tmp_path)


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
    """How many events the store holds (the log's head).

    Counted, not the highest notification id: PostgreSQL's sequence skips the numbers of rolled-back inserts.
    """
    return Store(services.config.database).stored_count()


def with_today(config: Config, today: date) -> Config:
    return replace(config, fixed_today=today)
