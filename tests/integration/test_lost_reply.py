"""A write whose answer is lost is kept once and answered truthfully (issue 15, part 1), on a real store.

What the library does when the database commits an insert but the connection dies before the answer: it
retries the insert (``@retry`` on ``insert_events``), and the retry meets the rows the first attempt wrote,
so ``save`` raises ``RecordConflictError`` for a write that in fact succeeded. The tests reproduce exactly
that sequence on the real store (the save commits, then the conflict is raised as the retry would), and
check that the tracker recognises its own write: no second event, no 409 naming the client's own write, and
a registration retried with its ``Idempotency-Key`` finds the partnership it made; and a request that failed
after its write may have been committed (answered 503), retried with its key, finds that write.

The same through real processes, with a TCP proxy that drops PostgreSQL's answer to the COMMIT on the
wire: tests/integration/test_commit_reply_lost.py (PostgreSQL only).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import RecordConflictError
from flask.testing import FlaskClient

from application.services import Services
from domain.errors import StaleVersion
from integration.helpers import committed_then_failing
from projections import queries


@contextmanager
def answers_lost(services: Services, times: int = 1) -> Iterator[list[int]]:
    """The next ``times`` saves commit, then fail as the library's retried insert does; yields a list that
    counts them."""
    tracker = services.tracker
    original = tracker.save
    lost: list[int] = []

    def save(*aggregates: Any, **kwargs: Any) -> Any:
        recordings = original(*aggregates, **kwargs)  # committed
        if len(lost) < times:
            lost.append(1)
            raise RecordConflictError("the retried insert met the rows the first attempt wrote")
        return recordings

    tracker.save = save  # type: ignore[method-assign]
    try:
        yield lost
    finally:
        tracker.save = original  # type: ignore[method-assign]


def register(services: Services, name: str = "Miasto Bar") -> UUID:
    fields = {"partner_name": name, "partner_country": "ME", "partner_kind": "city", "local_party": "Powiat"}
    return services.register_partnership(fields, user="ala").partnership_id


def types(services: Services, pid: UUID) -> list[str]:
    return [e["type"] for e in queries.list_events(services.db, str(pid))]


def test_a_note_whose_answer_was_lost_is_written_once_and_answered_with_its_version(services: Services) -> None:
    pid = register(services)
    with answers_lost(services) as lost:
        recorded = services.record_event(pid, "note_added", {"occurred_on": date(2020, 1, 1), "text": "x"}, user="ala")
    assert lost == [1]
    assert types(services, pid) == ["partnership_registered", "note_added"]  # once, not twice
    assert recorded.version == 2


def test_with_if_match_the_lost_answer_is_not_reported_as_a_conflict_with_itself(services: Services) -> None:
    pid = register(services)
    with answers_lost(services):
        recorded = services.record_event(
            pid, "note_added", {"occurred_on": date(2020, 1, 1), "text": "x"}, user="ala", expected_version=1
        )
    assert recorded.version == 2 and types(services, pid) == ["partnership_registered", "note_added"]


def test_a_retry_with_if_match_after_the_write_went_through_finds_it(services: Services) -> None:
    """The client never got its 201 (the server died after the commit) and sends the same note again with
    the same If-Match: the answer is that write, not a 409 naming it as someone else's newer version."""
    pid = register(services)
    note = {"occurred_on": date(2020, 1, 1), "text": "x"}
    first = services.record_event(pid, "note_added", note, user="ala", expected_version=1)
    again = services.record_event(pid, "note_added", note, user="ala", expected_version=1)
    assert again.version == first.version == 2
    assert types(services, pid) == ["partnership_registered", "note_added"]
    with pytest.raises(StaleVersion):  # a different note with that If-Match is a real conflict
        services.record_event(pid, "note_added", {**note, "text": "y"}, user="ala", expected_version=1)


def test_a_real_race_is_still_a_race(services: Services) -> None:
    """Another user's event in the slot is not mistaken for this write: with If-Match, 409 as before."""
    pid = register(services)
    services.record_event(pid, "note_added", {"occurred_on": date(2020, 1, 1), "text": "jej"}, user="ewa")
    with pytest.raises(StaleVersion):
        services.record_event(
            pid, "note_added", {"occurred_on": date(2020, 1, 1), "text": "moja"}, user="ala", expected_version=1
        )


def test_a_registration_whose_answer_was_lost_is_answered_with_its_partnership(services: Services) -> None:
    fields = {"partner_name": "Gmina Kobuleti", "partner_country": "GE", "partner_kind": "municipality"}
    with answers_lost(services):
        recorded = services.register_partnership({**fields, "local_party": "Powiat"}, user="ala")
    assert [p["id"] for p in queries.list_partnerships(services.db, services.clock())["items"]] == [
        str(recorded.partnership_id)
    ]


def test_through_the_api_a_registration_retried_with_its_key_finds_itself(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]]
) -> None:
    """The first attempt commits and its answer is lost (the client sees a failure); the client retries with
    the same Idempotency-Key: 201 with the partnership its first attempt made, and there is one."""
    body = {"partner_name": "Gmina Kobuleti", "partner_country": "GE", "partner_kind": "municipality"}
    sent = {**headers["officer"], "Idempotency-Key": "kobuleti-1"}
    with answers_lost(services):
        first = client.post("/api/v1/partnerships", json=body, headers=sent)
    assert first.status_code == 201  # recognised as its own write even inside the first request
    with services.db.transaction(write=True) as tx:  # as if the first answer had never been kept (it died)
        tx.execute(f"DELETE FROM {services.replies.table}")
    retried = client.post("/api/v1/partnerships", json=body, headers=sent)
    assert retried.status_code == 201 and retried.json["id"] == first.json["id"]
    assert queries.list_partnerships(services.db, services.clock())["total"] == 1


def test_a_note_resumed_after_an_unknown_outcome_finds_its_earlier_write(services: Services) -> None:
    """The first attempt committed and then failed (the store went away, the client got a 503); the retry
    with the same Idempotency-Key is told since when the first attempt ran (``since``): the note is in the
    log, so it is the answer, not written again. A different note, or the same one by someone else, is
    written as usual."""
    from datetime import UTC, datetime, timedelta

    pid = register(services)
    began = datetime.now(UTC)
    note = {"occurred_on": date(2020, 1, 1), "text": "x"}
    first = services.record_event(pid, "note_added", note, user="ala")
    again = services.record_event(pid, "note_added", note, user="ala", since=began)
    assert again.version == first.version == 2
    assert types(services, pid) == ["partnership_registered", "note_added"]
    other = services.record_event(pid, "note_added", {**note, "text": "y"}, user="ala", since=began)
    by_someone_else = services.record_event(pid, "note_added", note, user="ewa", since=began)
    assert (other.version, by_someone_else.version) == (3, 4)
    # an identical note written before the first attempt began is another request's: this one is written
    later = services.record_event(pid, "note_added", note, user="ala", since=datetime.now(UTC) + timedelta(minutes=1))
    assert later.version == 5


def test_through_the_api_a_note_answered_503_after_its_commit_is_kept_once_when_retried_with_its_key(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]]
) -> None:
    """The save commits, then the store fails (as SQLite can report a failed COMMIT that did land, or
    PostgreSQL's connection dies before its answer and the library's retry cannot reach it): 503. The retry
    with the same key runs at once (no "still running") and answers with the note the first attempt wrote."""
    pid = register(services)
    body = {"type": "note_added", "occurred_on": "2020-01-01", "text": "x"}
    sent = {**headers["officer"], "Idempotency-Key": "note-1"}
    with committed_then_failing(services):
        first = client.post(f"/api/v1/partnerships/{pid}/events", json=body, headers=sent)
    assert first.status_code == 503 and first.json["code"] == "unavailable"
    retried = client.post(f"/api/v1/partnerships/{pid}/events", json=body, headers=sent)
    assert retried.status_code == 201, retried.json
    assert retried.json["version"] == 2
    assert types(services, pid) == ["partnership_registered", "note_added"]
    again = client.post(f"/api/v1/partnerships/{pid}/events", json=body, headers=sent)  # now kept
    assert again.status_code == 201 and again.json == retried.json


def test_through_the_api_an_acknowledgement_answered_503_after_its_commit_is_its_own_answer_when_retried(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]]
) -> None:
    """The manager's acknowledgement commits, then the store fails (503); the retry with the same key finds the
    reminder acknowledged by that very attempt and answers 200 with it, not 409 "not open". Another manager's
    retry-less acknowledgement of the same reminder is still refused."""
    pid = register(services)
    services.record_event(pid, "letter_of_intent_signed", {"occurred_on": date(2019, 5, 1)}, user="ala")
    assert services.flag_inactivity(pid, today=date(2026, 11, 30)) is not None
    (reminder,) = queries.list_reminders(services.db, is_open=True)
    url = f"/api/v1/reminders/{reminder['id']}/acknowledge"
    sent = {**headers["manager"], "Idempotency-Key": "ack-1"}
    with committed_then_failing(services):
        first = client.post(url, json={"note": "dzwoniłem"}, headers=sent)
    assert first.status_code == 503
    retried = client.post(url, json={"note": "dzwoniłem"}, headers=sent)
    assert retried.status_code == 200, retried.json
    assert retried.json["open"] is False and retried.json["note"] == "dzwoniłem"
    assert types(services, pid).count("reminder_acknowledged") == 1
    refused = client.post(url, json={"note": "dzwoniłem"}, headers={**headers["manager"], "Idempotency-Key": "ack-2"})
    assert refused.status_code == 409


def test_a_note_resumed_after_many_other_writes_still_finds_its_earlier_write(services: Services) -> None:
    """The fault run's case: the first attempt committed, its server died, and before the retry's claim went
    stale other writers added 150 events to the same partnership: the retry still finds its write, however far
    back, and is answered with it (not written a second time)."""
    from datetime import UTC, datetime

    pid = register(services)
    began = datetime.now(UTC)
    note = {"occurred_on": date(2020, 1, 1), "text": "the lost one"}
    first = services.record_event(pid, "note_added", note, user="ala")
    for n in range(150):
        services.record_event(pid, "note_added", {"occurred_on": date(2020, 1, 1), "text": f"other {n}"}, user="ewa")
    again = services.record_event(pid, "note_added", note, user="ala", since=began)
    assert again.version == first.version == 2
    assert [e["data"].get("text") for e in queries.list_events(services.db, str(pid))].count("the lost one") == 1


# --- the request's identity, kept with its event -----------------------------------------------------------------


def stored_events(services: Services, pid: UUID) -> list[Any]:
    return list(services.tracker.events.get(pid))


def test_the_event_keeps_the_identity_of_its_request_outside_its_canonical_content(services: Services) -> None:
    """The identity is stored with the event (read back from the store), and is in none of what the contract
    shows: the API's entries, the log, the hash chain stay as they were."""
    pid = register(services)
    note = {"occurred_on": date(2020, 1, 1), "text": "x"}
    services.record_event(pid, "note_added", note, user="ala", request_id="key:0123")
    assert [e.request_id for e in stored_events(services, pid)] == [None, "key:0123"]
    (entry,) = [e for e in queries.list_events(services.db, str(pid)) if e["type"] == "note_added"]
    assert "request_id" not in entry and "request_id" not in entry["data"]
    assert all("key:0123" not in str(e) for e in queries.log_page(services.db, after=0, limit=10)["items"])
    assert services.verify()["ok"] is True


def test_a_resumed_write_never_takes_another_requests_identical_event_for_its_own(services: Services) -> None:
    """The first attempt failed before its COMMIT (nothing written); meanwhile the same user sent the same note
    in another request (another key), which was recorded. The retry of the first finds no event of its own
    request and writes it: two notes, as the user sent two. (By content alone it would have taken the other
    request's note for its own, and the user's second note would be missing.)"""
    from datetime import UTC, datetime

    pid = register(services)
    began = datetime.now(UTC)
    note = {"occurred_on": date(2020, 1, 1), "text": "x"}
    other = services.record_event(pid, "note_added", note, user="ala", request_id="key:bbbb")
    retried = services.record_event(pid, "note_added", note, user="ala", since=began, request_id="key:aaaa")
    assert (other.version, retried.version) == (2, 3)
    assert [e.request_id for e in stored_events(services, pid)][1:] == ["key:bbbb", "key:aaaa"]


def test_a_resumed_termination_that_was_recorded_is_its_own_answer_not_a_refusal(services: Services) -> None:
    """A termination committed, then its answer was lost; the retry with the same key finds that event by its
    request and answers with it, although the partnership, now ended, would refuse a termination."""
    from datetime import UTC, datetime

    pid = register(services)
    began = datetime.now(UTC)
    ended = {"occurred_on": date(2022, 3, 1), "reason": "wojna"}
    first = services.record_event(pid, "partnership_terminated", ended, user="ala", request_id="key:end1")
    again = services.record_event(pid, "partnership_terminated", ended, user="ala", since=began, request_id="key:end1")
    assert again.version == first.version == 2
    assert types(services, pid) == ["partnership_registered", "partnership_terminated"]
    from domain.errors import NotAllowedInStatus

    with pytest.raises(NotAllowedInStatus):  # another request to terminate it is refused, as before
        services.record_event(pid, "partnership_terminated", ended, user="ala", since=began, request_id="key:end2")


def test_the_librarys_retry_is_recognised_by_the_identity_and_a_keyed_twin_is_a_race(services: Services) -> None:
    """The retried insert meets rows carrying this request's identity: its own write. With If-Match, an
    identical note of another keyed request in that slot is not this one: 409, not a false 201."""
    pid = register(services)
    note = {"occurred_on": date(2020, 1, 1), "text": "x"}
    with answers_lost(services):
        mine = services.record_event(pid, "note_added", note, user="ala", expected_version=1, request_id="key:c1")
    assert mine.version == 2 and types(services, pid).count("note_added") == 1
    with pytest.raises(StaleVersion):
        services.record_event(pid, "note_added", note, user="ala", expected_version=1, request_id="key:c2")
    # without the client's key (an identity the server made per sending), the same note sent again with the
    # same If-Match is still taken for the earlier write (the client cannot tell us otherwise)
    again = services.record_event(pid, "note_added", note, user="ala", expected_version=1, request_id="req:9")
    assert again.version == 2 and types(services, pid).count("note_added") == 1


def test_through_the_api_each_write_is_stored_with_its_requests_identity(
    client: FlaskClient, services: Services, headers: dict[str, dict[str, str]]
) -> None:
    """With a key the identity follows from the user and the key (the same for each sending); without one the
    server makes one per request; the key itself is not stored."""
    pid = register(services)
    body = {"type": "note_added", "occurred_on": "2020-01-01", "text": "x"}
    url = f"/api/v1/partnerships/{pid}/events"
    keyed = client.post(url, json=body, headers={**headers["officer"], "Idempotency-Key": "my-secret-key-1"})
    plain = client.post(url, json={**body, "text": "y"}, headers=headers["officer"])
    assert keyed.status_code == plain.status_code == 201
    ids = [e.request_id for e in stored_events(services, pid)][1:]
    assert ids[0].startswith("key:") and ids[1].startswith("req:") and ids[0] != ids[1]
    assert all("my-secret-key-1" not in i for i in ids)
