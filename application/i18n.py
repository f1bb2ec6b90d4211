"""The Babel catalogues (Polish, English) shared by the web UI, the council report and the mails."""

from __future__ import annotations

from pathlib import Path

#: where the ``<lang>/LC_MESSAGES/messages.po`` (and compiled ``.mo``) catalogues live
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
