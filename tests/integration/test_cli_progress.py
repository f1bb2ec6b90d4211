"""Long exports and imports show their progress on a terminal, and stay quiet in pipes."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

TRACKER = [sys.executable, "-m", "entrypoints.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str], cwd: Path, *, tty: bool) -> tuple[int, bytes, str]:
    """Run the CLI; with ``tty`` its stderr is a pseudo-terminal. Returns (code, stdout, stderr)."""
    if not tty:
        done = subprocess.run(TRACKER + args, env=env, cwd=cwd, capture_output=True, timeout=120)
        return done.returncode, done.stdout, done.stderr.decode()
    main, secondary = pty.openpty()
    proc = subprocess.Popen(TRACKER + args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    out = proc.stdout.read()
    err = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    os.close(main)
    return proc.wait(timeout=120), out, err.decode(errors="replace")


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return {**os.environ, "TRACKER_DATABASE": database_url, "PYTHONPATH": str(ROOT)}


def test_export_and_import_show_progress_on_a_terminal_only(env: dict[str, str], tmp_path: Path) -> None:
    """On a terminal export and import report how far they got; piped, stderr stays empty."""
    assert _run(["seed"], env, tmp_path, tty=False)[0] == 0
    code, exported, err = _run(["export"], env, tmp_path, tty=True)
    assert code == 0
    assert "export: " in err and "18" in err
    code, piped, quiet = _run(["export"], env, tmp_path, tty=False)
    assert code == 0 and piped == exported and quiet == ""
    (tmp_path / "log.jsonl").write_bytes(exported)
    other = (
        {**env, "TRACKER_DATABASE": str(tmp_path / "copy.db")} if "postgresql" not in env["TRACKER_DATABASE"] else None
    )
    if other is None:
        pytest.skip("importing needs a second empty store; the SQLite run covers it")
    code, out, err = _run(["import", str(tmp_path / "log.jsonl")], other, tmp_path, tty=True)
    assert code == 0, err
    assert "import: " in err and "checking the chain" in err
    assert b"imported 18 events" in out
