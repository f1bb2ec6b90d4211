"""The message catalogues are compiled when missing or older: into the package, else into the user's cache."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
from babel.support import Translations

from application.i18n import TRANSLATIONS, compiled_translations

LANGS = ("pl", "en")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A copy of the catalogues' sources, with no compiled ``.mo`` (as in a fresh clone)."""
    to = tmp_path / "translations"
    for lang in LANGS:
        (to / lang / "LC_MESSAGES").mkdir(parents=True)
        shutil.copy2(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", to / lang / "LC_MESSAGES")
    return to


def mo(folder: Path, lang: str) -> Path:
    return folder / lang / "LC_MESSAGES" / "messages.mo"


def polish(folder: Path) -> str:
    return Translations.load(str(folder), ["pl"]).gettext("Sign in")


def age(path: Path, seconds: float) -> None:
    """Set the file's modification time ``seconds`` before its ``.po``'s."""
    stamp = path.with_suffix(".po").stat().st_mtime - seconds
    os.utime(path, (stamp, stamp))


def test_missing_catalogues_are_compiled_into_the_package(source: Path, tmp_path: Path) -> None:
    """A checkout without ``.mo`` files gets them beside the ``.po`` files, and speaks Polish."""
    assert compiled_translations(source, tmp_path / "cache") == source
    assert all(mo(source, lang).exists() for lang in LANGS)
    assert polish(source) == "Zaloguj się"
    assert not (tmp_path / "cache").exists()


def test_older_catalogues_are_compiled_again_but_those_unpacked_with_their_sources_are_kept(
    source: Path, tmp_path: Path
) -> None:
    """A ``.mo`` older than its ``.po`` is recompiled; one unpacked a moment before it (a wheel's) is kept."""
    for lang in LANGS:
        mo(source, lang).write_bytes(b"stale")
    age(mo(source, "pl"), 60)
    age(mo(source, "en"), 0.01)
    compiled_translations(source, tmp_path / "cache")
    assert polish(source) == "Zaloguj się"
    assert mo(source, "en").read_bytes() == b"stale"


def test_a_package_that_cannot_take_them_gets_them_in_the_users_cache(source: Path, tmp_path: Path) -> None:
    """When the package folder cannot be written (here a folder squats the ``.mo``'s name), the per-user
    cache holds the compiled catalogues, and that is the folder to read them from."""
    mo(source, "pl").mkdir()
    age(mo(source, "pl"), 60)
    found = compiled_translations(source, tmp_path / "cache")
    assert found.is_relative_to(tmp_path / "cache" / "exchange-tracker")
    assert all(mo(found, lang).is_file() for lang in LANGS)
    assert polish(found) == "Zaloguj się"
    assert not any(p.name.endswith(".part") for p in source.rglob("*"))


def test_when_nothing_can_be_written_the_sources_folder_is_kept_and_said(
    source: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No writable place (the cache's parent is a file): the catalogues are served as they are, with a warning."""
    mo(source, "pl").mkdir()
    age(mo(source, "pl"), 60)
    (tmp_path / "not-a-folder").write_text("")
    with caplog.at_level(logging.WARNING, logger="application.i18n"):
        assert compiled_translations(source, tmp_path / "not-a-folder") == source
    assert "cannot compile the message catalogues" in caplog.text
