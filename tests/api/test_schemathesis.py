"""Property-based: schemathesis drives every operation of the app's own OpenAPI document, in-process.

Each operation runs on a fresh store holding a small history (Bar, Montenegro: registered, active, suspended,
a late entry, a retraction, an open reminder), with schemathesis' whole default set of checks: no server
errors, documented statuses, content types, headers and response schemas, valid requests accepted and
invalid ones rejected. Requests carry an admin's Bearer token, given to schemathesis as the document's
``bearer`` scheme so that its negative cases can also leave it out (and expect 401).

Two things JSON Schema cannot say (occurred_on not after today, ends_on not before occurred_on) are taught
to the generator by a ``map_body`` hook; every check stays on. ``API_FUZZ_EXAMPLES`` (default 40) sets how
many examples each operation gets; on top come schemathesis' deterministic coverage-phase cases.

schemathesis' lazy ``from_fixture`` loader reaches into a pytest internal that pytest 9 no longer has
(``Node._nodeid``), so the operations are parametrized here and each one's strategy is drawn with ``@given``.
"""

from __future__ import annotations

import os
import re
from datetime import date
from uuid import UUID

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override

from domain.dates import BusinessDate
from web.openapi import openapi_document
from web.schemas import (
    BUSINESS_DATE_PATTERN,
    COUNTRY_CODES,
    COUNTRY_PATTERN,
    LINE_PATTERN,
    TEXT_PATTERN,
    CountryField,
    Text,
)

from .helpers import API, record, register

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "40"))


def runs():
    """(method, path, mode, known ids): positive always; negative where there is anything to break; and for
    operations on one partnership or reminder, both again with the id of one that exists."""
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            name = f"{method.upper()} {path}"
            yield pytest.param(method.upper(), path, GenerationMode.POSITIVE, False, id=f"{name} positive")
            if operation.get("parameters") or operation.get("requestBody") or operation.get("security"):
                yield pytest.param(method.upper(), path, GenerationMode.NEGATIVE, False, id=f"{name} negative")
            if "{" in path:
                yield pytest.param(method.upper(), path, GenerationMode.POSITIVE, True, id=f"{name} known id")
                yield pytest.param(method.upper(), path, GenerationMode.NEGATIVE, True, id=f"{name} known id negative")


@pytest.fixture
def history(client, services, headers, today):
    """Bar's story in the store, and an open inactivity reminder: the ids to aim at."""
    officer = headers["officer"]
    bar = register(client, officer, description="Czarnogóra, gmina nad Adriatykiem")
    pid = bar["id"]
    record(
        client,
        officer,
        pid,
        "council_resolution_adopted",
        "2009-03-27",
        purpose="establish",
        resolution_number="XXV/4/09",
    )
    record(client, officer, pid, "school_joined", "2010-09-01", school_name="LO Piaseczno", side="local")
    suspension = record(client, officer, pid, "cooperation_suspended", "2014-06-01", reason="Brak kontaktu")
    record(client, officer, pid, "activity_held", "2012-09-15", activity_kind="visit", title="Wizyta")
    record(client, officer, pid, "event_retracted", "2020-01-01", retracts=suspension["version"], reason="Błąd")
    record(client, officer, pid, "youth_exchange_planned", "2015-01-01", planned_for="2015-07-01")
    assert services.tracker.flag_inactivity(UUID(pid), today=today, days=365) is not None
    services.projection.catch_up()
    rid = client.get(f"{API}/reminders", headers=officer).get_json()["items"][0]["id"]
    return {"pid": pid, "rid": rid}


def feasible_dates(today: date):
    """A ``map_body`` hook: what JSON Schema cannot say about business dates (a day that its month has, a date
    that does not begin after today, an end not before its start) applied to generated bodies, so that valid
    requests are valid for the server too."""

    def parse(value):
        if not isinstance(value, str) or not re.fullmatch(BUSINESS_DATE_PATTERN, value):
            return None
        try:
            return BusinessDate.parse(value)
        except ValueError:  # a day its month does not have (30 February): the month's first day instead
            return BusinessDate.parse(value[:7] + "-01")

    def map_body(context, body):
        if not isinstance(body, dict):
            return body
        fixed = {k: parse(v) for k, v in body.items() if k in DATE_FIELDS}
        for name, when in fixed.items():
            if when is not None and name not in ("planned_for",) and when.first > today:
                fixed[name] = BusinessDate.of(today)
        starts, ends = fixed.get("occurred_on"), fixed.get("ends_on") or fixed.get("effective_on")
        if starts and ends and ends.last < starts.first:
            fixed["occurred_on"] = ends
        return {**body, **{k: str(v) for k, v in fixed.items() if v is not None}}

    return map_body


#: the body fields that hold business dates
DATE_FIELDS = ("occurred_on", "ends_on", "planned_for", "effective_on")


def load_schema(app, admin_token: str, today: date):
    """The app's own document, loaded in-process, with the admin's token as its bearer credentials."""
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearer": {"bearer": admin_token}}}})
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app, config=config)
    schema.hook(feasible_dates(today))
    return schema


@pytest.mark.parametrize(("method", "path", "mode", "known_ids"), list(runs()))
def test_api_conforms_to_its_openapi_document(app, tokens, today, history, method, path, mode, known_ids):
    """Every operation answers without server errors, in the documented statuses, types and shapes."""
    operation = load_schema(app, tokens["admin"], today)[path][method]
    ids = {name: history[name] for name in ("pid", "rid") if known_ids and f"{{{name}}}" in path}

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=ids or None))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate()

    check()


def test_api_passes_schemathesis_coverage_cases(app, tokens, today, history):
    """schemathesis' deterministic coverage cases (boundaries, missing or mistyped inputs, no token) all pass."""
    schema = load_schema(app, tokens["admin"], today)
    failures, count = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        ids = {name: history[name] for name in ("pid", "rid") if f"{{{name}}}" in operation.path}
        cases = CoverageGenerator(
            operation=operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
            auth_storage=None,
            override=Override(path_parameters=ids),
            feedback=FeedbackSources(),
            hooks=schema.hooks,
        )
        for case in cases:
            count += 1
            try:
                case.call_and_validate()
            except Exception as error:  # collect them all, then report
                failures.append(f"{operation.label}: {error}")
    assert count > 500
    assert not failures, "\n\n".join(failures[:5])


def test_the_schema_loads_with_the_api_base_path(app):
    """schemathesis takes /api/v1 from the document's servers entry, so operations are called where they live."""
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    assert schema.base_path.rstrip("/") == API
    assert {op.ok().path for op in schema.get_all_operations()} >= {"/health", "/partnerships/{pid}/events"}


@pytest.mark.parametrize(("max_length", "pattern"), [(200, LINE_PATTERN), (4000, TEXT_PATTERN)])
@given(
    text=st.text(alphabet=st.sampled_from("ab \t\r\n\x85\u2028\u2029\x00\x0b\x1f\u00a0"), max_size=8)
    | st.text(max_size=12)
)
@settings(max_examples=300, deadline=None)
def test_the_documented_text_pattern_is_what_the_server_accepts(max_length, pattern, text):
    """A string matches the document's text pattern exactly when the server's Text field accepts it: the
    single-line pattern for names and titles, the multi-line one for descriptions, notes and reasons."""
    field = Text(max_length=max_length)
    assert field.metadata["pattern"] == pattern
    try:
        field.deserialize(text)
        accepted = True
    except Exception:
        accepted = False
    assert bool(re.search(pattern, text)) == accepted


@given(st.one_of(st.text(max_size=4), st.sampled_from(sorted(COUNTRY_CODES)).map(str.lower)))
@settings(max_examples=300, deadline=None)
def test_the_documented_country_pattern_is_what_the_server_accepts(text):
    """A string matches the document's country pattern exactly when the server accepts it as a country."""
    try:
        CountryField().deserialize(text)
        accepted = True
    except Exception:
        accepted = False
    assert bool(re.search(COUNTRY_PATTERN, text)) == accepted
