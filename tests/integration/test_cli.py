"""The `tracker` console script, run as a subprocess on a real store (an SQLite file in tmp_path, or a
PostgreSQL schema of the test's own): seed, users add, projections rebuild, audit digest/verify, export,
import, configuration errors. (`serve` is driven in test_crash.py and test_scale_out.py.)"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from backend import POSTGRES, Store, server_url

from application.seed import load_seed, load_seed_file, partnership_id_for
from domain.errors import DomainError
from projections.log import GENESIS_HASH, canonical, chain_hash

from .helpers import TODAY, bare_projection, cli_env, database_of, open_services, stored_count, tracker, view_rows

DIGEST = re.compile(r"^(\d+):([0-9a-f]{64})$")


def assert_one_line_error(result: Any) -> str:
    """Non-zero exit and exactly one stderr line starting with "error:"; returns that line."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def ok(tmp_path: Path, *args: str, **kwargs: Any) -> str:
    result = tracker(tmp_path, *args, **kwargs)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.decode("utf-8")


def export_bytes(tmp_path: Path, fmt: str = "jsonl") -> bytes:
    result = tracker(tmp_path, "export", "--format", fmt)
    assert result.returncode == 0, result.stderr
    return result.stdout


def digest_of(tmp_path: Path) -> str:
    out = ok(tmp_path, "audit", "digest").strip()
    assert DIGEST.match(out), out
    return out


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """tmp_path with the county's seed in its store."""
    ok(tmp_path, "seed")
    return tmp_path


def users_in(folder: Path) -> list[tuple[str, str, str | None]]:
    return Store(database_of(folder)).users()


def rechain(lines: list[dict[str, Any]]) -> bytes:
    """Export lines with positions renumbered and every hash recomputed (a consistent, forged file)."""
    previous, out = GENESIS_HASH, []
    for position, entry in enumerate(lines, start=1):
        entry = {**entry, "position": position}
        previous = chain_hash(previous, canonical(entry))
        out.append(json.dumps({**entry, "hash": previous}, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8")


def change_one_text_byte(line: bytes) -> bytes:
    """The same JSON line with one character of the partner's or note's text changed."""
    entry = json.loads(line)
    key = next(k for k in ("partner_name", "text", "note") if k in entry["data"])
    at = line.index(entry["data"][key].encode("utf-8")[:4])
    changed = b"Q" if line[at : at + 1] != b"Q" else b"R"
    return line[:at] + changed + line[at + 1 :]


# --- seed ------------------------------------------------------------------------------------


SEED_REGISTRATIONS = {
    "rome-ladispoli": ("IT", "2019-10-18"),
    "gurjaani": ("GE", "2018-09-20"),
    "novohrad-volynskyi-district": ("UA", "2007-01-25"),
    "novohrad-volynskyi-city": ("UA", "2012-07-28"),
    "bar": ("ME", "2009-03-27"),
}


def test_seed_writes_the_five_partnerships_with_their_dates(seeded: Path) -> None:
    """`tracker seed` registers the county's 5 partnerships on their real dates; Bar is suspended."""
    entries = [json.loads(line) for line in export_bytes(seeded).splitlines()]
    registrations = {e["partnership_id"]: e for e in entries if e["type"] == "partnership_registered"}
    assert len(registrations) == 5
    for key, (country, day) in SEED_REGISTRATIONS.items():
        reg = registrations[str(partnership_id_for(key))]
        assert reg["data"]["partner_country"] == country
        assert reg["occurred_on"] == day
    assert all(e["recorded_by"] == "seed" for e in entries)
    assert all(e["occurred_on"] and e["occurred_on"] <= date.today().isoformat() for e in entries)

    seed = load_seed_file()
    for p in seed["partnerships"]:  # every event of the data file, in order, with its date
        pid = str(partnership_id_for(p["key"]))
        written = [(e["type"], e["occurred_on"]) for e in entries if e["partnership_id"] == pid]
        expected = [("partnership_registered", p["registration"]["occurred_on"].isoformat())] + [
            (e["type"], e["occurred_on"].isoformat()) for e in p["events"]
        ]
        assert written == expected

    s = open_services(database_of(seeded))
    try:
        from projections import queries

        docs = {d["id"]: d for d in queries.list_partnerships(s.db, s.clock(), limit=100)["items"]}
    finally:
        s.close()
    assert len(docs) == 5
    assert docs[str(partnership_id_for("bar"))]["status"] == "suspended"
    assert {d["status"] for k, d in docs.items() if k != str(partnership_id_for("bar"))} == {"active"}
    rome = docs[str(partnership_id_for("rome-ladispoli"))]
    assert len(rome["schools"]) == 5
    assert rome["status_since"] == "2019-10-18"


def test_seed_twice_adds_nothing(seeded: Path) -> None:
    """A second `tracker seed` writes nothing and says so; the log's bytes are unchanged."""
    before = export_bytes(seeded)
    out = ok(seeded, "seed")
    assert "nothing written" in out
    assert export_bytes(seeded) == before
    assert stored_count(database_of(seeded)) == len(before.splitlines())


def test_seed_refused_midway_writes_nothing(tmp_path: Path) -> None:
    """A seed whose later event the domain refuses leaves no half-written partnership behind."""
    seed = load_seed_file()
    bad = seed["partnerships"][1]
    bad["events"].append({"type": "cooperation_resumed", "occurred_on": date(2020, 1, 1)})  # not suspended: 409
    s = open_services(database_of(tmp_path))
    try:
        with pytest.raises(DomainError):
            load_seed(s.tracker, today=TODAY, seed=seed)
        assert s.tracker.is_empty()
        written = load_seed(s.tracker, today=TODAY)  # the shipped seed then loads whole
        s.projection.catch_up()
        assert written == stored_count(database_of(tmp_path))
    finally:
        s.close()
    assert ok(tmp_path, "audit", "verify").startswith("intact:")


# --- users add -------------------------------------------------------------------------------


def test_users_add_prints_the_token_alone_on_the_last_line(tmp_path: Path) -> None:
    """`tracker users add` creates the user; the last stdout line is the URL-safe token, which authenticates."""
    out = ok(tmp_path, "users", "add", "ala", "--role", "officer", "--email", "ala@example.org", "--password", "x" * 12)
    token = out.splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", token), token
    assert users_in(tmp_path) == [("ala", "officer", "ala@example.org")]
    s = open_services(database_of(tmp_path))
    try:
        user = s.users.by_token(token)
        assert (user.name, user.role) == ("ala", "officer")
        assert s.users.check_password("ala", "x" * 12) is not None
    finally:
        s.close()
    second = ok(tmp_path, "users", "add", "ewa", "--role", "auditor").splitlines()[-1]
    assert second != token and re.fullmatch(r"[A-Za-z0-9_-]{32,}", second)
    assert stored_count(database_of(tmp_path)) == 0  # users are kept apart from the log


@pytest.mark.parametrize(
    "args",
    [
        ["ala", "--role", "auditor"],  # duplicate name
        ["bob", "--role", "boss"],
        ["bob", "--role", "officer", "--email", "not-an-address"],
        ["bob", "--role", "officer", "--password", "short"],
        ["bob smith", "--role", "officer"],
        ["", "--role", "officer"],
    ],
    ids=["duplicate", "role", "email", "password", "name-space", "name-empty"],
)
def test_users_add_refuses_bad_input_with_one_line(tmp_path: Path, args: list[str]) -> None:
    """Duplicate name, bad role, e-mail, password or name: a one-line error, non-zero exit, nothing created."""
    ok(tmp_path, "users", "add", "ala", "--role", "officer")
    before = users_in(tmp_path)
    result = tracker(tmp_path, "users", "add", *args)
    assert_one_line_error(result)
    assert result.stdout == b""
    assert users_in(tmp_path) == before


def test_users_add_without_role_is_refused(tmp_path: Path) -> None:
    """`users add` without --role fails with a usage error and creates nothing."""
    result = tracker(tmp_path, "users", "add", "bob")
    assert result.returncode != 0
    assert "--role" in result.stderr
    assert not Store(database_of(tmp_path, init=False)).exists() or users_in(tmp_path) == []


# --- projections rebuild -----------------------------------------------------------------------


def test_projections_rebuild_restores_damaged_read_models(seeded: Path) -> None:
    """`tracker projections rebuild` replays the log: damaged view rows come back exactly as they were."""
    database = database_of(seeded)
    before = view_rows(database)
    Store(database).execute(
        "DELETE FROM view_partnerships WHERE sort_name LIKE 'miasto bar%'",
        "UPDATE view_events SET recorded_by = 'mallory' WHERE version = 2",
        "DELETE FROM view_log WHERE position > 10",
    )
    assert tracker(seeded, "audit", "verify").returncode == 1
    out = ok(seeded, "projections", "rebuild")
    assert str(stored_count(database)) in out
    assert view_rows(database) == before
    assert ok(seeded, "audit", "verify").startswith("intact:")


def test_projections_rebuild_on_an_empty_store(tmp_path: Path) -> None:
    """Rebuilding an empty store succeeds and leaves the views empty."""
    ok(tmp_path, "projections", "rebuild")
    assert all(rows == [] for rows in view_rows(database_of(tmp_path)).values())


# --- audit digest / verify -------------------------------------------------------------------


def test_audit_digest_prints_position_and_hash_of_the_head(seeded: Path) -> None:
    """`tracker audit digest` prints POSITION:HASH of the last entry, the export's last hash."""
    out = ok(seeded, "audit", "digest")
    assert out.count("\n") == 1
    position, digest = DIGEST.match(out.strip()).groups()
    last = json.loads(export_bytes(seeded).splitlines()[-1])
    assert (int(position), digest) == (last["position"], last["hash"])
    assert ok(seeded, "audit", "digest") == out  # reading does not move it


def test_audit_digest_of_an_empty_store_is_accepted_by_verify(tmp_path: Path) -> None:
    """An empty store's digest is 0 and 64 zeros, and `verify --digest` takes it."""
    digest = digest_of(tmp_path)
    assert digest == f"0:{GENESIS_HASH}"
    assert tracker(tmp_path, "audit", "verify", "--digest", digest).returncode == 0
    assert tracker(tmp_path, "audit", "verify", "--digest", "0:" + "1" * 64).returncode == 1


def test_audit_verify_intact_store_exits_0(seeded: Path) -> None:
    """An untouched store verifies: exit 0 and the head in the output."""
    out = ok(seeded, "audit", "verify")
    assert out.startswith("intact: 18 entries")
    assert digest_of(seeded) in out


def test_audit_verify_catches_a_changed_stored_event(seeded: Path) -> None:
    """One byte changed in a stored event behind the tracker's back: exit 1 and the first bad position printed."""
    store = Store(database_of(seeded))
    position = 7
    state = store.stored_state(position)
    at = state.index(b'"recorded_by":"seed"') + len(b'"recorded_by":"')
    store.set_stored_state(position, state[:at] + b"S" + state[at + 1 :])
    result = tracker(seeded, "audit", "verify")
    assert result.returncode == 1
    first = result.stdout.decode().splitlines()[0]
    assert first.startswith(f"BROKEN at position {position}:"), first


def test_audit_verify_catches_an_unreadable_stored_event(seeded: Path) -> None:
    """A stored event whose bytes no longer decode: exit 1 at its position, no traceback."""
    store = Store(database_of(seeded))
    store.set_stored_state(4, store.stored_state(4)[:-1])
    result = tracker(seeded, "audit", "verify")
    assert result.returncode == 1, result.stderr
    assert result.stdout.decode().startswith("BROKEN at position 4:")
    assert "Traceback" not in result.stderr


def test_audit_verify_catches_an_unreadable_event_not_yet_projected(seeded: Path) -> None:
    """An event written while no view caught up, then made unreadable: verify still runs, exit 1 at its position."""
    store = Store(database_of(seeded))
    other, _ = bare_projection(store.database)  # writes without catching the views up
    try:
        for text in ("a", "b", "c"):
            other.record_event(
                partnership_id_for("bar"),
                "note_added",
                {"occurred_on": TODAY, "text": text},
                recorded_by="x",
                today=TODAY,
            )
    finally:
        other.close()
    store.set_stored_state(20, store.stored_state(20)[:-2])
    result = tracker(seeded, "audit", "verify")
    assert result.returncode == 1, result.stderr
    first = re.match(r"BROKEN at position (\d+):", result.stdout.decode())
    assert first and 19 <= int(first[1]) <= 20  # the views may stop before the batch holding it
    assert "position 20: unreadable" in result.stdout.decode()
    assert result.stderr == ""


def test_export_of_an_unreadable_log_is_a_one_line_error(seeded: Path) -> None:
    """`export` stops at a stored event it cannot read: one-line error naming the position, non-zero exit."""
    store = Store(database_of(seeded))
    store.set_stored_state(4, b"{" + store.stored_state(4))
    for fmt in ("jsonl", "csv"):
        result = tracker(seeded, "export", "--format", fmt)
        line = assert_one_line_error(result)
        assert "position 4" in line


def test_audit_verify_with_digest(seeded: Path) -> None:
    """`--digest` kept earlier: good -> 0 (also after more writes); wrong hash or beyond the head -> 1."""
    digest = digest_of(seeded)
    assert tracker(seeded, "audit", "verify", "--digest", digest).returncode == 0
    position, value = digest.split(":")
    wrong = f"{position}:{'0' if value[0] != '0' else '1'}{value[1:]}"
    result = tracker(seeded, "audit", "verify", "--digest", wrong)
    assert result.returncode == 1
    assert result.stdout.decode().startswith(f"BROKEN at position {position}:")
    assert tracker(seeded, "audit", "verify", "--digest", f"{int(position) + 1}:{value}").returncode == 1
    earlier = json.loads(export_bytes(seeded).splitlines()[4])
    assert tracker(seeded, "audit", "verify", "--digest", f"5:{earlier['hash'].upper()}").returncode == 0


def test_audit_verify_digest_catches_tampering_hidden_by_a_rebuild(seeded: Path) -> None:
    """A stored event changed and the views rebuilt to match: plain verify passes, the kept digest does not."""
    digest = digest_of(seeded)
    store = Store(database_of(seeded))
    store.set_stored_state(3, store.stored_state(3).replace(b'"seed"', b'"SEED"', 1))
    ok(seeded, "projections", "rebuild")
    assert tracker(seeded, "audit", "verify").returncode == 0
    result = tracker(seeded, "audit", "verify", "--digest", digest)
    assert result.returncode == 1
    assert "digest" in result.stdout.decode().splitlines()[0]


@pytest.mark.parametrize(
    "value", ["abc", "18", "18:", ":" + "a" * 64, "18:" + "a" * 63, "18:" + "g" * 64, "-1:" + "a" * 64, "x:" + "a" * 64]
)
def test_audit_verify_malformed_digest_is_a_one_line_error(seeded: Path, value: str) -> None:
    """A malformed --digest: one-line error naming the option, non-zero exit."""
    line = assert_one_line_error(tracker(seeded, "audit", "verify", "--digest", value))
    assert "--digest" in line


def test_audit_verify_file_without_a_database(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`verify --file` on an export in a folder with no database: good -> 0 and no database created."""
    elsewhere = tmp_path_factory.mktemp("auditor")
    export = elsewhere / "log.jsonl"
    export.write_bytes(export_bytes(seeded))
    env = cli_env(elsewhere, init=False, TRACKER_DATABASE=str(elsewhere / "none" / "events.db"))
    result = tracker(elsewhere, "audit", "verify", "--file", str(export), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("intact: 18 entries")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["log.jsonl"]
    digest = digest_of(seeded)
    assert tracker(elsewhere, "audit", "verify", "--file", str(export), "--digest", digest, env=env).returncode == 0


def test_audit_verify_file_with_one_byte_changed(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """One byte changed in an export line: exit 1, the position of that line named."""
    elsewhere = tmp_path_factory.mktemp("auditor")
    lines = export_bytes(seeded).splitlines(keepends=True)
    lines[8] = change_one_text_byte(lines[8])
    export = elsewhere / "log.jsonl"
    export.write_bytes(b"".join(lines))
    result = tracker(elsewhere, "audit", "verify", "--file", str(export), env=cli_env(elsewhere))
    assert result.returncode == 1
    assert result.stdout.decode().startswith("BROKEN at position 9:")


def break_utf8(line: bytes) -> bytes:
    """The line with the second byte of its first two-byte character replaced: no longer UTF-8."""
    at = next(i for i, b in enumerate(line) if 0xC2 <= b <= 0xDF)
    return line[: at + 1] + b"A" + line[at + 2 :]


def test_audit_verify_file_with_a_byte_that_breaks_utf8(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A changed byte that makes an export line invalid UTF-8: exit 1 naming that line's position, no traceback."""
    elsewhere = tmp_path_factory.mktemp("auditor")
    lines = export_bytes(seeded).splitlines(keepends=True)
    lines[0] = break_utf8(lines[0])
    export = elsewhere / "log.jsonl"
    export.write_bytes(b"".join(lines))
    result = tracker(elsewhere, "audit", "verify", "--file", str(export), env=cli_env(elsewhere))
    assert result.returncode == 1, result.stderr
    assert result.stdout.decode().startswith("BROKEN at position 1:")
    assert result.stderr == ""


def test_audit_verify_file_missing_is_a_one_line_error(tmp_path: Path) -> None:
    """`verify --file` naming no file: one-line error."""
    assert_one_line_error(tracker(tmp_path, "audit", "verify", "--file", str(tmp_path / "nope.jsonl")))


# --- export ----------------------------------------------------------------------------------


def test_export_jsonl_is_the_same_bytes_every_time(seeded: Path) -> None:
    """`tracker export` twice gives identical bytes: one JSON object a line, positions 1..N, chained hashes."""
    first, second = export_bytes(seeded), export_bytes(seeded, "jsonl")
    assert first == second
    assert first.endswith(b"\n")
    entries = [json.loads(line) for line in first.splitlines()]
    assert [e["position"] for e in entries] == list(range(1, 19))
    previous = GENESIS_HASH
    for entry in entries:
        previous = chain_hash(previous, canonical(entry))
        assert entry["hash"] == previous
    assert first.decode("utf-8")  # UTF-8, Polish letters kept as they are
    assert "Piaseczyński".encode() in first


def test_export_csv_has_a_header_and_a_row_per_event(seeded: Path) -> None:
    """`tracker export --format csv`: a header row, then one row per event in position order; stable bytes."""
    data = export_bytes(seeded, "csv")
    assert data == export_bytes(seeded, "csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["position", "partnership_id", "version", "type"]
    assert "hash" in header and "data" in header
    assert len(body) == 18
    jsonl = [json.loads(line) for line in export_bytes(seeded).splitlines()]
    for row, entry in zip(body, jsonl, strict=True):
        record = dict(zip(header, row, strict=True))
        assert int(record["position"]) == entry["position"]
        assert record["hash"] == entry["hash"]
        assert json.loads(record["data"]) == entry["data"]


def test_export_of_an_empty_store_is_empty(tmp_path: Path) -> None:
    """An empty store exports nothing in jsonl and only the header in csv."""
    assert export_bytes(tmp_path) == b""
    assert len(export_bytes(tmp_path, "csv").splitlines()) == 1


# --- import ----------------------------------------------------------------------------------


@pytest.fixture
def exported(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export of a seeded store with more history (a retraction and late entries), in its own folder."""
    s = open_services(database_of(seeded))
    try:
        pid = partnership_id_for("gurjaani")
        note = s.tracker.record_event(
            pid, "note_added", {"occurred_on": date(2020, 1, 1), "text": "ząb"}, recorded_by="ala", today=TODAY
        )
        s.tracker.record_event(
            pid,
            "event_retracted",
            {"occurred_on": date(2020, 1, 2), "retracts": note.version, "reason": "pomyłka"},
            recorded_by="ala",
            today=TODAY,
        )
        s.tracker.record_event(
            pid,
            "youth_exchange_held",
            {"occurred_on": date(2019, 5, 1), "ends_on": date(2019, 5, 8), "participants": 24},
            recorded_by="ala",
            today=TODAY,
        )
        s.projection.catch_up()
    finally:
        s.close()
    folder = tmp_path_factory.mktemp("export")
    (folder / "log.jsonl").write_bytes(export_bytes(seeded))
    return folder / "log.jsonl"


def test_import_into_an_empty_store_reproduces_the_log(
    seeded: Path, exported: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`tracker import` into an empty store: same digest, byte-identical export, identical read models."""
    target = tmp_path_factory.mktemp("target")
    out = ok(target, "import", str(exported))
    assert "imported 21 events" in out
    assert digest_of(target) == digest_of(seeded)
    assert export_bytes(target) == exported.read_bytes() == export_bytes(seeded)
    assert export_bytes(target, "csv") == export_bytes(seeded, "csv")
    assert view_rows(database_of(target)) == view_rows(database_of(seeded))
    assert ok(target, "audit", "verify").startswith("intact: 21 entries")
    # the imported store takes new writes on top of the imported history
    s = open_services(database_of(target))
    try:
        recorded = s.tracker.record_event(
            partnership_id_for("bar"),
            "cooperation_resumed",
            {"occurred_on": TODAY},
            recorded_by="ala",
            today=TODAY,
        )
        assert recorded.version == 4
    finally:
        s.close()
    assert ok(target, "audit", "verify").startswith("intact: 22 entries")


def test_import_into_a_non_empty_store_is_refused(seeded: Path, exported: Path) -> None:
    """Importing into a store that has events: one-line error, nothing written."""
    before = export_bytes(seeded)
    line = assert_one_line_error(tracker(seeded, "import", str(exported)))
    assert "empty" in line
    assert export_bytes(seeded) == before


def damaged_files(exported: Path) -> dict[str, bytes]:
    lines = exported.read_bytes().splitlines(keepends=True)
    entries = [json.loads(line) for line in lines]
    wrong_hash = [*lines]
    entry = json.loads(wrong_hash[10])
    entry["hash"] = ("f" if entry["hash"][0] != "f" else "e") + entry["hash"][1:]
    wrong_hash[10] = (json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    changed_byte = [*lines]
    changed_byte[12] = change_one_text_byte(changed_byte[12])
    broken_json = [*lines]
    broken_json[15] = broken_json[15][:40] + b"\n"
    unknown_type = [{**e, "type": "party_held"} if e["position"] == 14 else e for e in entries]
    duplicate_version = [*entries[:5], entries[4], *entries[5:]]
    return {
        "wrong-hash": b"".join(wrong_hash),
        "changed-byte": b"".join(changed_byte),
        "broken-json": b"".join(broken_json),
        "truncated-last-line": exported.read_bytes()[:-30],
        "not-utf8": b"".join([*lines[:2], break_utf8(lines[2]), *lines[3:]]),
        "not-an-object": b"".join(lines[:3]) + b"[1, 2]\n" + b"".join(lines[3:]),
        "unknown-type-rechained": rechain(unknown_type),
        "duplicate-version-rechained": rechain(duplicate_version),
        "unknown-field-rechained": rechain(
            [{**e, "data": {**e["data"], "colour": "red"}} if e["position"] == 3 else e for e in entries]
        ),
        # consistent chains the domain could not load: a version gap, an event before its registration,
        # a partnership with no registration, a retraction without the version it retracts
        "version-gap-rechained": rechain([*entries[:3], *entries[4:]]),
        "out-of-order-rechained": rechain([entries[1], entries[0], *entries[2:]]),
        "no-registration-rechained": rechain(entries[1:]),
        "second-registration-rechained": rechain([*entries, {**entries[0], "version": registration_next(entries)}]),
        "retraction-without-target-rechained": rechain(
            [*entries[:-1], {**entries[-1], "type": "event_retracted", "data": {"reason": "x"}}]
        ),
    }


def registration_next(entries: list[dict[str, Any]]) -> int:
    pid = entries[0]["partnership_id"]
    return max(e["version"] for e in entries if e["partnership_id"] == pid) + 1


@pytest.mark.parametrize(
    "damage",
    [
        "wrong-hash",
        "changed-byte",
        "broken-json",
        "truncated-last-line",
        "not-utf8",
        "not-an-object",
        "unknown-type-rechained",
        "duplicate-version-rechained",
        "unknown-field-rechained",
        "version-gap-rechained",
        "out-of-order-rechained",
        "no-registration-rechained",
        "second-registration-rechained",
        "retraction-without-target-rechained",
    ],
)
def test_import_of_a_damaged_file_is_refused_whole(exported: Path, tmp_path: Path, damage: str) -> None:
    """A damaged export (a wrong hash, a changed byte, broken JSON, a forged but re-chained entry) is refused whole."""
    target = tmp_path / "target"
    target.mkdir()
    bad = target / "bad.jsonl"
    bad.write_bytes(damaged_files(exported)[damage])
    assert_one_line_error(tracker(target, "import", str(bad)))
    assert stored_count(database_of(target)) == 0
    assert export_bytes(target) == b""
    assert digest_of(target) == f"0:{GENESIS_HASH}"
    # and the good file still goes in afterwards
    ok(target, "import", str(exported))
    assert export_bytes(target) == exported.read_bytes()


def test_import_of_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    """`tracker import` naming no file: one-line error, no store written."""
    assert_one_line_error(tracker(tmp_path, "import", str(tmp_path / "nope.jsonl")))


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "command"),
    [
        ("x", ["seed"]),
        ("0", ["audit", "digest"]),
        ("-3", ["users", "add", "ala", "--role", "officer"]),
        ("1.5", ["export"]),
        ("365 days", ["projections", "rebuild"]),
    ],
)
def test_bad_inactivity_days_is_a_one_line_error(tmp_path: Path, value: str, command: list[str]) -> None:
    """A bad TRACKER_INACTIVITY_DAYS: one-line error naming the variable, non-zero exit, no store created."""
    result = tracker(tmp_path, *command, env=cli_env(tmp_path, init=False, TRACKER_INACTIVITY_DAYS=value))
    line = assert_one_line_error(result)
    assert "TRACKER_INACTIVITY_DAYS" in line
    assert not Store(database_of(tmp_path, init=False)).exists()


@pytest.mark.parametrize("command", [["audit", "digest"], ["db", "init"], ["seed"]])
def test_database_in_a_missing_place_is_a_one_line_error(tmp_path: Path, command: list[str]) -> None:
    """TRACKER_DATABASE in a folder (SQLite) or a schema (PostgreSQL) that does not exist: one-line error."""
    if POSTGRES:
        missing = f"{server_url()}?schema=t_missing_{secrets.token_hex(4)}"
    else:
        missing = str(tmp_path / "no" / "such" / "events.db")
    env = cli_env(tmp_path, init=False, TRACKER_DATABASE=missing)
    line = assert_one_line_error(tracker(tmp_path, *command, env=env))
    assert "TRACKER_DATABASE" in line
    assert not Store(missing).exists()


def test_unknown_export_format_is_refused(seeded: Path) -> None:
    """`export --format xml` is a usage error with a non-zero exit and no output."""
    result = tracker(seeded, "export", "--format", "xml")
    assert result.returncode != 0
    assert result.stdout == b""


def test_serve_on_a_taken_port_says_so_in_one_line_and_touches_nothing(tmp_path: Path) -> None:
    """Another server holds the port: one line naming it (no traceback), a non-zero exit, and the new store
    gets no demo data (the port is checked before the store is opened)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = tracker(tmp_path, "serve", "--host", "127.0.0.1", "--port", str(port), timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"error: cannot serve on 127.0.0.1:{port}: Address already in use"
        " (another server is running there? choose another with --port)"
    ]
    assert "Traceback" not in result.stderr
    services = open_services(database_of(tmp_path))
    try:
        assert services.tracker.is_empty() and services.users.count() == 0
    finally:
        services.close()
