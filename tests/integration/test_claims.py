"""An ``Idempotency-Key``'s claim left open by a process that died is resumed at once by the repeat when that
process ran on this machine, instead of the repeat being told "still running" for a minute (issue 15).

The claim is made by a real child process that then dies (SIGKILL, as a crashed server), on the test's real
store; the repeat is this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from application.config import Config
from application.replies import STALE_AFTER, StillRunning, fingerprint
from application.services import Services

PRINT = fingerprint("POST", "/api/v1/partnerships/x/events", b"", b'{"type":"note_added"}')

CHILD = """
import sys, time
from application.config import Config
from application.services import build_services
s = build_services(Config(database=sys.argv[1], organisation="Powiat"), catch_up=False)
assert s.replies.claim("ala", "k-1", sys.argv[2]) is None
print("claimed", flush=True)
time.sleep(600)
"""


def claim_and_die(config: Config) -> None:
    """A real process claims the key for ala, and is killed before it answers."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, config.database, PRINT], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "claimed"
    finally:
        child.kill()
        child.wait()


def test_a_claim_left_by_a_process_that_died_here_is_resumed_at_once(config: Config, services: Services) -> None:
    before = datetime.now(UTC)
    claim_and_die(config)
    kept, began = services.replies.resume("ala", "k-1", PRINT)
    assert kept is None  # this repeat runs the request again
    assert began is not None and before - timedelta(seconds=1) <= began <= datetime.now(UTC)  # checking since then


def test_a_claim_of_a_running_process_is_still_running(services: Services) -> None:
    assert services.replies.claim("ala", "k-2", PRINT) is None  # this process holds it, and lives
    with pytest.raises(StillRunning):
        services.replies.resume("ala", "k-2", PRINT)


def test_a_claim_of_another_machines_process_waits_until_it_is_stale(config: Config, services: Services) -> None:
    """Whether a process on another machine (or in another container) lives cannot be told from here."""
    claim_and_die(config)
    with services.db.transaction(write=True) as tx:  # as if made elsewhere: another boot of another kernel
        row = tx.execute(f"SELECT headers FROM {services.replies.table} WHERE idem_key = 'k-1'").fetchone()
        owner = json.loads(row["headers"])
        owner["owner"]["boot"] = "another-machine"
        tx.execute(f"UPDATE {services.replies.table} SET headers = ? WHERE idem_key = 'k-1'", (json.dumps(owner),))
    with pytest.raises(StillRunning):
        services.replies.resume("ala", "k-1", PRINT)
    later = datetime.now(UTC) + STALE_AFTER + timedelta(seconds=1)
    kept, began = services.replies.resume("ala", "k-1", PRINT, now=later)
    assert kept is None and began is not None


def test_a_claim_whose_abandon_could_not_be_written_is_resumed_at_once_by_this_process(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store was down as the request failed, so its claim could not be marked abandoned: a repeat reaching
    the same process knows the attempt is no longer running there, and resumes it (no minute of "busy")."""
    from eventsourcing.persistence import OperationalError

    before = datetime.now(UTC)
    assert services.replies.claim("ala", "k-3", PRINT) is None
    real = services.replies.db.transaction

    def down(*args, **kwargs):
        raise OperationalError("the store is down")

    monkeypatch.setattr(services.replies.db, "transaction", down)
    with pytest.raises(OperationalError):
        services.replies.abandon("ala", "k-3")
    monkeypatch.setattr(services.replies.db, "transaction", real)
    kept, began = services.replies.resume("ala", "k-3", PRINT)
    assert kept is None and began is not None and began >= before - timedelta(seconds=1)
    with pytest.raises(StillRunning):  # and now this repeat is the one running
        services.replies.resume("ala", "k-3", PRINT)
