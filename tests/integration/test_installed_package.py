"""The package as someone who installs it gets it: a wheel built from the sources alone (no ``.mo`` files, as
in a fresh clone), installed into a fresh virtual environment, and its ``tracker`` command run from there.

The build compiles the catalogues into the wheel, so the installed server speaks Polish (and English on
request) without ``make``; and when the compiled catalogues are missing, the server compiles them at start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from backend import POSTGRES

from .helpers import REPO, Server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(POSTGRES, reason="about the package, not the store: the SQLite run covers it"),
]

#: files beside the packages that the build needs
BUILD_FILES = ("pyproject.toml", "setup.py", "README.md")
CATALOGUES = ("pl", "en")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site: Path  # the installed packages' folder
    seconds: dict[str, float]

    @property
    def tracker(self) -> Path:
        return self.venv / "bin" / "tracker"

    def mo(self, lang: str) -> Path:
        return self.site / "application" / "translations" / lang / "LC_MESSAGES" / "messages.mo"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command (by default in this environment :func:`outside` the checkout); its output."""
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env or outside(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def top_level_packages() -> list[str]:
    packages = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    return sorted({p.split(".")[0] for p in packages})


def copy_sources(to: Path) -> None:
    """What a fresh clone holds for the build: the packages and build files, no compiled catalogues."""
    to.mkdir()
    for name in BUILD_FILES:
        shutil.copy2(REPO / name, to / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "*.part")
    for package in top_level_packages():
        shutil.copytree(REPO / package, to / package, ignore=ignore)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """The project built into a wheel and installed, with its dependencies, into a fresh virtual environment."""
    root = tmp_path_factory.mktemp("package")
    seconds = {}
    start = time.monotonic()
    copy_sources(root / "src")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run(*pip, "wheel", "--no-deps", "--quiet", "--wheel-dir", root / "dist", root / "src", cwd=root)
    (wheel,) = (root / "dist").glob("*.whl")
    seconds["build"] = time.monotonic() - start
    start = time.monotonic()
    venv = root / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root)  # the outer pip installs into it
    run(*pip, "--python", venv / "bin" / "python", "install", "--quiet", wheel, cwd=root)
    seconds["install"] = time.monotonic() - start
    where = run(venv / "bin" / "python", "-c", "import application; print(application.__file__)", cwd=root)
    site = Path(where.strip()).parent.parent
    assert site.is_relative_to(venv), where
    yield Installed(wheel, venv, site, seconds)
    print(f"\nwheel built in {seconds['build']:.1f} s, installed in {seconds['install']:.1f} s")


def outside() -> dict[str, str]:
    """This environment without anything that points Python or the tracker at the checkout."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "PYTHON", "VIRTUAL_ENV"))}


def tracker_env(tmp_path: Path) -> dict[str, str]:
    """The environment of the installed ``tracker``: a store and a cache folder in tmp_path."""
    return {**outside(), "TRACKER_DATABASE": str(tmp_path / "events.db"), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def get(url: str, accept_language: str) -> str:
    request = urllib.request.Request(url, headers={"Accept-Language": accept_language})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return response.read().decode("utf-8")


def login_pages(installed: Installed, tmp_path: Path) -> dict[str, str]:
    """The login page in each language, from the installed ``tracker serve`` (stopped afterwards)."""
    server = Server(tmp_path, tracker_env(tmp_path), "serve", program=installed.tracker)
    try:
        assert get(f"{server.base}/static/tracker.css", "pl")
        return {lang: get(f"{server.base}/login", lang) for lang in ("pl", "en")}
    finally:
        server.stop()


def test_the_wheel_carries_the_data_files_and_compiled_catalogues(installed: Installed) -> None:
    """Templates, static files, the seed, the report template and a ``.mo`` per ``.po`` are in the wheel."""
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    data = {
        path.relative_to(REPO).as_posix()
        for package in top_level_packages()
        for path in (REPO / package).rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc", ".mo", ".part")
    }
    assert "application/seed_data/piaseczno.json" in data
    assert "application/templates/report/council.html" in data
    assert "web/templates/auth/login.html" in data
    assert "web/static/tracker.css" in data
    assert data <= names, f"missing from the wheel: {sorted(data - names)}"
    for lang in CATALOGUES:
        assert f"application/translations/{lang}/LC_MESSAGES/messages.mo" in names


def test_the_installed_server_speaks_polish_and_english(installed: Installed, tmp_path: Path) -> None:
    """``tracker serve`` from the installed package: Polish for Accept-Language pl, English for en, with the
    wheel's own catalogues (nothing recompiled, nothing cached)."""
    compiled = {lang: installed.mo(lang).stat().st_mtime_ns for lang in CATALOGUES}
    pages = login_pages(installed, tmp_path)
    assert "Zaloguj się" in pages["pl"]
    assert "Nazwa użytkownika" in pages["pl"]
    assert "Sign in" in pages["en"]
    assert "Zaloguj" not in pages["en"]
    assert {lang: installed.mo(lang).stat().st_mtime_ns for lang in CATALOGUES} == compiled
    assert not (tmp_path / "cache").exists()


def test_without_compiled_catalogues_the_server_compiles_them_at_start(installed: Installed, tmp_path: Path) -> None:
    """An install without the ``.mo`` files (or with older ones) still serves Polish: they are compiled at start."""
    for lang in CATALOGUES:
        installed.mo(lang).unlink()
    pages = login_pages(installed, tmp_path)
    assert "Zaloguj się" in pages["pl"]
    assert "Sign in" in pages["en"]
    assert all(installed.mo(lang).exists() for lang in CATALOGUES)


def test_the_installed_tracker_seeds_a_store(installed: Installed, tmp_path: Path) -> None:
    """``tracker seed`` from the installed package finds its seed data; a second run adds nothing."""
    env = tracker_env(tmp_path)
    first = run(installed.tracker, "seed", cwd=tmp_path, env=env)
    assert first.startswith("seed: ") and first.split()[1].isdigit() and int(first.split()[1]) > 0, first
    assert run(installed.tracker, "seed", cwd=tmp_path, env=env).strip() == "seed: already loaded, nothing written"
