"""Real histories of other local governments, recorded as an officer would and read back as they stood.

``real_histories.json`` holds the partner-town histories of five Polish local governments (a city, a
town, three powiats) taken from their own published pages: every fact with its source URL and the
sentence it rests on, dated only as precisely as the page dates it (``"1992"``, ``"2019-09"``), in the
order an officer would type them (some back-dated). They include the March 2022 council resolutions
that ended Łódź's Russian and Belarusian partnerships and suspended Skarżysko-Kamienna's Grodno, a
resolution that authorised signing, a rename after the decommunisation of Ukrainian names, and aid
to a Ukrainian partner.

Each history is recorded through the HTTP API of a real ``tracker serve`` process (waitress), with
each register's own ``local_party`` and no TRACKER_ORGANISATION, then read back with ``as_of``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from backend import module_database
from integration.helpers import Server, add_user, request_json

DATA = json.loads((Path(__file__).parent / "real_histories.json").read_text(encoding="utf-8"))
PARTNERSHIPS = [(h, p) for h in DATA["histories"] for p in h["partnerships"]]
#: what a fact in the data file carries besides the event's own fields
PROVENANCE = {"type", "source_url", "quote"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One served store for the module, with every history recorded into it by an officer."""
    tmp_path = tmp_path_factory.mktemp("real")
    database, drop = module_database(tmp_path)  # outlives each test of the module (PostgreSQL: its schema)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}  # no TRACKER_ORGANISATION
    env["TRACKER_DATABASE"] = database
    token = add_user(tmp_path, env, "urzedniczka", "officer")
    server = Server(tmp_path, env, "real")
    recorded: dict[str, Any] = {}
    try:
        for history, p in PARTNERSHIPS:
            recorded[p["key"]] = record_history(server.base, token, history, p)
        yield server.base, token, recorded
    finally:
        server.stop()
        drop()


def record_history(base: str, token: str, history: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    body = {k: p[k] for k in ("partner_name", "partner_country", "partner_kind", "areas")}
    status, doc = request_json(
        "POST", f"{base}/api/v1/partnerships", token, {**body, "local_party": history["local_government"]}
    )
    assert status == 201, doc
    answers = []
    for fact in p["events"]:
        event = {k: v for k, v in fact.items() if k not in PROVENANCE - {"type"}}
        status, answer = request_json("POST", f"{base}/api/v1/partnerships/{doc['id']}/events", token, event)
        assert status == 201, (fact["source_url"], fact["quote"], answer)
        answers.append(answer)
    return {"id": doc["id"], "answers": answers}


def test_every_fact_has_its_source() -> None:
    """The data is taken from public pages: each fact names its page and quotes it."""
    assert len(DATA["histories"]) >= 3
    for _, p in PARTNERSHIPS:
        for fact in p["events"]:
            assert fact["source_url"].startswith(("https://", "http://")), fact
            assert fact["quote"].strip(), fact


def test_dates_are_kept_as_precise_as_the_pages_give_them(served: Any) -> None:
    """A year stays a year and a month a month, in what the API answers (nothing invents a day)."""
    base, token, recorded = served
    for _, p in PARTNERSHIPS:
        answers = recorded[p["key"]]["answers"]
        for fact, answer in zip(p["events"], answers, strict=True):
            assert answer["occurred_on"] == fact["occurred_on"]
            assert "effect" in answer
    years = [f for _, p in PARTNERSHIPS for f in p["events"] if len(f["occurred_on"]) == 4]
    months = [f for _, p in PARTNERSHIPS for f in p["events"] if len(f["occurred_on"]) == 7]
    assert years and months


@pytest.mark.parametrize(
    ("key", "expect"),
    [(p["key"], e) for _, p in PARTNERSHIPS for e in p["expect"]],
    ids=lambda v: v if isinstance(v, str) else v["as_of"],
)
def test_the_register_as_it_stood(served: Any, key: str, expect: dict[str, Any]) -> None:
    """As of each day the pages speak of, the partnership's status, name, since when and precision."""
    base, token, recorded = served
    pid = recorded[key]["id"]
    status, doc = request_json("GET", f"{base}/api/v1/partnerships/{pid}?as_of={expect['as_of']}", token)
    if expect.get("not_found"):
        assert status == 404, doc
        return
    assert status == 200, doc
    assert doc["status"] == expect["status"]
    assert doc["partner_name"] == expect["partner_name"]
    if "status_since" in expect:
        assert doc["status_since"] == expect["status_since"]
    if "approximate" in expect:
        assert doc["approximate"] is expect["approximate"]
    if "schools" in expect:
        assert sorted(doc["schools"], key=lambda s: s["name"]) == sorted(expect["schools"], key=lambda s: s["name"])
    assert doc["status_since"] is None or doc["status_since"][:4] <= expect["as_of"][:4]


def test_the_2022_resolutions_ended_and_suspended_what_they_say(served: Any) -> None:
    """Łódź's March 2022 resolutions ended its Russian and Belarusian partnerships; Skarżysko's suspended Grodno."""
    base, token, recorded = served
    for key, status in (
        ("lodz-iwanowo", "terminated"),
        ("lodz-minsk", "terminated"),
        ("skarzysko-grodno", "suspended"),
    ):
        code, doc = request_json("GET", f"{base}/api/v1/partnerships/{recorded[key]['id']}", token)
        assert code == 200 and doc["status"] == status, doc
        assert doc["status_since"].startswith("2022-03")


def test_search_finds_old_names_without_diacritics(served: Any) -> None:
    """The renamed district is found by its old name, and "zmerynka" finds Żmerynka."""
    base, token, recorded = served
    for q, key in (("czerwonograd", "siemiatycze-czerwonograd"), ("zmerynka", "skarzysko-zmerynka")):
        status, page = request_json("GET", f"{base}/api/v1/partnerships?q={quote(q)}", token)
        assert status == 200, page
        assert recorded[key]["id"] in {item["id"] for item in page["items"]}, (q, page)
