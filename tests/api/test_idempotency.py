"""`Idempotency-Key` on every POST (the contract): a repeat of the same request by the same user records
nothing new and answers as the first did; the same key with a different request is 422; other users' keys
are theirs; refusals are kept, server errors and 401 are not."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from application.services import Services

from .helpers import API, assert_error, log_position, nothing_recorded, record, register


def key(headers: dict[str, str], value: str, **more: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": value, **more}


def test_a_registration_sent_twice_with_one_key_is_recorded_once_and_answered_alike(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]]
) -> None:
    body = {"partner_name": "Gmina Kobuleti", "partner_country": "GE", "partner_kind": "municipality"}
    first = client.post(f"{API}/partnerships", json=body, headers=key(headers["officer"], "reg-1"))
    assert first.status_code == 201
    position = log_position(services)
    again = client.post(f"{API}/partnerships", json=body, headers=key(headers["officer"], "reg-1"))
    assert (again.status_code, again.json, again.headers["Location"]) == (201, first.json, first.headers["Location"])
    assert log_position(services) == position
    # the same body with another key is another request: a second partnership
    other = client.post(f"{API}/partnerships", json=body, headers=key(headers["officer"], "reg-2"))
    assert other.status_code == 201 and other.json["id"] != first.json["id"]


def test_json_key_order_and_spacing_do_not_make_another_request(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]], bar: dict[str, Any]
) -> None:
    path = f"{API}/partnerships/{bar['id']}/events"
    sent = client.post(
        path,
        data='{"type": "note_added", "occurred_on": "2020-01-01", "text": "Rozmowa"}',
        content_type="application/json",
        headers=key(headers["officer"], "note-1"),
    )
    assert sent.status_code == 201
    with nothing_recorded(services, client):
        again = client.post(
            path,
            data='{"text":"Rozmowa","type":"note_added","occurred_on":"2020-01-01"}',
            content_type="application/json",
            headers=key(headers["officer"], "note-1"),
        )
    assert again.status_code == 201 and again.json == sent.json


def test_the_same_key_with_a_different_request_is_422_and_records_nothing(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]], bar: dict[str, Any]
) -> None:
    path = f"{API}/partnerships/{bar['id']}/events"
    note = {"type": "note_added", "occurred_on": "2020-01-01", "text": "Pierwsza"}
    assert client.post(path, json=note, headers=key(headers["officer"], "k")).status_code == 201
    with nothing_recorded(services, client):
        changed = client.post(path, json={**note, "text": "Druga"}, headers=key(headers["officer"], "k"))
        error = assert_error(changed, 422, "Idempotency-Key")
        assert error["code"] == "idempotency_key_reused"
        elsewhere = client.post(f"{API}/partnerships", json=note, headers=key(headers["officer"], "k"))
        assert assert_error(elsewhere, 422, "Idempotency-Key")["code"] == "idempotency_key_reused"
        precondition = client.post(path, json=note, headers=key(headers["officer"], "k", **{"If-Match": "2"}))
        assert assert_error(precondition, 422)["code"] == "idempotency_key_reused"


def test_keys_are_each_users_own(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]], bar: dict[str, Any]
) -> None:
    """Two officers who happen to pick the same key make two requests."""
    path = f"{API}/partnerships/{bar['id']}/events"
    note = {"type": "note_added", "occurred_on": "2020-01-01", "text": "Notatka"}
    assert client.post(path, json=note, headers=key(headers["officer"], "shared")).status_code == 201
    before = log_position(services)
    assert client.post(path, json=note, headers=key(headers["admin"], "shared")).status_code == 201
    assert log_position(services) == before + 1


def test_a_refusal_is_kept_and_a_fixed_request_needs_a_new_key(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]], bar: dict[str, Any]
) -> None:
    path = f"{API}/partnerships/{bar['id']}/events"
    bad = {"type": "note_added", "occurred_on": "2020-02-30", "text": "x"}
    with nothing_recorded(services, client):
        first = client.post(path, json=bad, headers=key(headers["officer"], "bad-1"))
        again = client.post(path, json=bad, headers=key(headers["officer"], "bad-1"))
    assert first.status_code == again.status_code == 422 and again.json == first.json
    fixed = client.post(path, json={**bad, "occurred_on": "2020-02-28"}, headers=key(headers["officer"], "bad-2"))
    assert fixed.status_code == 201


def test_an_unauthenticated_attempt_does_not_use_up_the_key(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]], bar: dict[str, Any]
) -> None:
    path = f"{API}/partnerships/{bar['id']}/events"
    note = {"type": "note_added", "occurred_on": "2020-01-01", "text": "x"}
    with nothing_recorded(services, client):
        refused = client.post(path, json=note, headers={"Idempotency-Key": "k", "Authorization": "Bearer nope"})
        assert refused.status_code == 401
    assert client.post(path, json=note, headers=key(headers["officer"], "k")).status_code == 201
    assert services.replies.count() >= 1


@pytest.mark.parametrize("value", [" ", "x" * 256, "klucz-\xe9", "a\tb"])
def test_a_key_that_is_not_printable_ascii_of_at_most_255_is_400(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]], value: str
) -> None:
    body = {"partner_name": "Gmina X", "partner_country": "GE", "partner_kind": "municipality"}
    with nothing_recorded(services, client):
        sent = client.post(f"{API}/partnerships", json=body, headers={**headers["officer"], "Idempotency-Key": value})
        assert assert_error(sent, 400)["code"] == "bad_idempotency_key"


def test_an_acknowledgement_repeated_with_its_key_answers_as_the_first(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]]
) -> None:
    from application import jobs

    bar = register(client, headers["officer"])
    record(client, headers["officer"], bar["id"], "agreement_signed", "2015-01-01", agreement_kind="partnership")
    jobs.scan_inactivity(services, services.today())
    rid = next(r["id"] for r in client.get(f"{API}/reminders?open=true", headers=headers["manager"]).json["items"])
    first = client.post(f"{API}/reminders/{rid}/acknowledge", json={}, headers=key(headers["manager"], "ack"))
    assert first.status_code == 200
    with nothing_recorded(services, client):
        again = client.post(f"{API}/reminders/{rid}/acknowledge", json={}, headers=key(headers["manager"], "ack"))
    assert again.status_code == 200 and again.json == first.json  # not 409 "not open": the first answer
    without_key = client.post(f"{API}/reminders/{rid}/acknowledge", json={}, headers=headers["manager"])
    assert without_key.status_code == 409  # without the key, a second acknowledgement is refused as usual
