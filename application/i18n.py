"""The Babel catalogues (Polish, English) shared by the web UI, the council report and the mails.

The sources are the ``<lang>/LC_MESSAGES/messages.po`` files in :data:`TRANSLATIONS`. A built package
carries them compiled (``setup.py`` compiles them into the wheel); a checkout or an install without the
``.mo`` files still speaks Polish, because :func:`compiled_translations` compiles what is missing at start.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

#: where the ``<lang>/LC_MESSAGES/messages.po`` (and compiled ``.mo``) catalogues live
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
CATALOGUE = Path("LC_MESSAGES") / "messages.po"
#: how much older than its ``.po`` a ``.mo`` may be and still count as compiled from it: installing a wheel
#: unpacks ``messages.mo`` a moment before ``messages.po``
UNPACKED_TOGETHER_SECONDS = 1.0


@functools.cache
def compiled_translations(source: Path = TRANSLATIONS, cache_home: Path | None = None) -> Path:
    """A translations directory whose ``.mo`` catalogues are up to date with the ``.po`` files in ``source``.

    ``source`` itself when its ``.mo`` files are there and no older than their ``.po``; otherwise they are
    compiled into ``source`` when it is writable, else into a per-user cache directory
    (``$XDG_CACHE_HOME`` or ``~/.cache``, ``exchange-tracker/translations-<hash of source>``). When neither
    can be written, ``source`` is returned as it is (with no ``.mo`` there the UI speaks English) and a
    warning is logged. Computed once per process and arguments.
    """
    for target in (source, _user_cache(source, cache_home)):
        try:
            for po in sorted(source.glob(f"*/{CATALOGUE}")):
                compile_if_stale(po, target / po.relative_to(source).with_suffix(".mo"))
        except OSError as error:
            log.debug("cannot compile the catalogues into %s: %s", target, error)
            continue
        return target
    log.warning("cannot compile the message catalogues of %s: serving them as they are", source)
    return source


def _user_cache(source: Path, cache_home: Path | None) -> Path:
    """This user's cache directory for the catalogues of ``source`` (one per installed copy)."""
    home = cache_home or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return home / "exchange-tracker" / f"translations-{hashlib.sha256(str(source).encode()).hexdigest()[:12]}"


def compile_if_stale(po: Path, mo: Path) -> None:
    """Compile ``po`` into ``mo`` when ``mo`` is missing or older (written whole, so a reader never sees half)."""
    if mo.exists() and mo.stat().st_mtime + UNPACKED_TOGETHER_SECONDS >= po.stat().st_mtime:
        return
    with po.open("rb") as f:
        catalog = read_po(f)
    mo.parent.mkdir(parents=True, exist_ok=True)
    part = mo.with_name(f"{mo.name}.{os.getpid()}.part")
    try:
        with part.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=True)
        os.replace(part, mo)
    finally:
        part.unlink(missing_ok=True)
