"""Imports point one way: entrypoints -> web -> application -> projections -> infrastructure, domain.

The layers (README, "How it is built"):

* ``domain``: the aggregate, the rules, the Tracker; stdlib and eventsourcing only;
* ``infrastructure``: the store's dialect, locks, mail transport; stdlib, eventsourcing and drivers;
* ``projections``: read models; domain (not its Tracker), infrastructure;
* ``application``: the front door for commands, configuration, users, jobs, seed, transfer, report;
* ``web``: the Flask app only; everything below it;
* ``entrypoints``: the ``tracker`` CLI and the scheduler process; everything.

Nothing outside ``web`` imports Flask (or its extensions, or werkzeug), not even the entry points, which start
the app through ``web.create_app``; nothing but the entry points imports ``web``; nothing imports the entry points.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "infrastructure", "projections", "application", "web", "entrypoints")
STDLIB = frozenset(sys.stdlib_module_names)

#: top-level packages each layer may import, besides the standard library and itself
ALLOWED: dict[str, set[str] | None] = {
    "domain": {"eventsourcing"},
    "infrastructure": {"eventsourcing", "psycopg"},
    "projections": {"domain", "infrastructure", "eventsourcing", "psycopg"},
    "application": {
        "domain",
        "projections",
        "infrastructure",
        "eventsourcing",
        "psycopg",
        "argon2",
        "babel",
        "jinja2",
        "markupsafe",
        "openpyxl",  # the auditor's spreadsheet (application/export.py)
        "weasyprint",  # the council report as a PDF (application/report.py)
    },
    "web": {
        "domain",
        "projections",
        "infrastructure",
        "application",
        "eventsourcing",
        "flask",
        "flask_babel",
        "flask_wtf",
        "flask_limiter",
        "limits",  # Flask-Limiter's rate-limit library (web/limits.py counts bad tokens with it)
        "werkzeug",
        "marshmallow",
        "apispec",
        "babel",
        "markupsafe",
        "jinja2",
    },
    "entrypoints": None,  # the entry points may import anything (and are imported by nobody)
}
#: modules a layer must never import, even though their package is allowed
FORBIDDEN = {"projections": {"domain.tracker"}}
#: the web framework and its extensions: only ``web`` may import these
FLASK = frozenset({"flask", "flask_babel", "flask_wtf", "flask_limiter", "werkzeug"})
#: who may import each layer from outside it (besides tests): ``web`` only the entry points; the entry points nobody
IMPORTED_ONLY_BY = {"web": {"entrypoints"}, "entrypoints": set()}


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in ``source``, relative imports resolved.

    ``from a import b`` yields ``a.b`` as well as ``a``, so that ``from domain import tracker`` is seen.
    """
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                up = node.level - 1
                # a relative import that climbs above the top level keeps its dots, so it is flagged
                base_parts = parts[: len(parts) - up] if up <= len(parts) else ["." * node.level]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def violations(layer: str, source: str, filename: str, module: str, is_package: bool = False) -> list[str]:
    """Messages naming the file, line and import for each import of ``source`` that points the wrong way."""
    allowed = ALLOWED[layer]
    forbidden = FORBIDDEN.get(layer, set())
    out = []
    for line, name in imported_modules(source, module, is_package):
        top = name.split(".")[0]
        if name.startswith("__future__"):
            continue
        wrong = False
        if top in IMPORTED_ONLY_BY and top != layer and layer not in IMPORTED_ONLY_BY[top]:
            wrong = True
        elif top in FLASK and layer != "web":
            wrong = True
        elif any(name == f or name.startswith(f + ".") for f in forbidden):
            wrong = True
        elif allowed is not None and top not in STDLIB and top != layer and top not in allowed:
            wrong = True
        if wrong:
            out.append(f"{filename}:{line}: {layer} must not import {name}")
    return sorted(set(out))


def module_files() -> list[tuple[str, Path]]:
    files = []
    for layer in PACKAGES:
        for path in sorted((ROOT / layer).rglob("*.py")):
            files.append((layer, path))
    return files


def module_name(path: Path) -> tuple[str, bool]:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def test_the_packages_have_python_files():
    """The walk sees every layer's modules (guards against a walk that silently finds nothing)."""
    layers = {layer for layer, _ in module_files()}
    assert layers == set(PACKAGES)
    assert (ROOT / "domain" / "rules.py") in {path for _, path in module_files()}


@pytest.mark.parametrize("layer", PACKAGES)
def test_imports_point_the_right_way(layer):
    """Each layer imports only the layers below it (see the module's docstring); Flask stays in web."""
    problems = []
    for file_layer, path in module_files():
        if file_layer != layer:
            continue
        module, is_package = module_name(path)
        source = path.read_text(encoding="utf-8")
        problems += violations(layer, source, str(path.relative_to(ROOT)), module, is_package)
    assert not problems, "imports pointing the wrong way:\n" + "\n".join(problems)


# --- the checker checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "module", "source", "offender"),
    [
        ("domain", "domain.rules", "import flask\n", "flask"),
        ("domain", "domain.rules", "from marshmallow import Schema\n", "marshmallow"),
        ("domain", "domain.rules", "from infrastructure.store import Db\n", "infrastructure.store"),
        ("domain", "domain.rules", "def f():\n    from web import config\n", "web"),
        ("domain", "domain.rules", "from ..application.config import Config\n", "application.config"),
        ("domain", "domain.rules", "import psycopg\n", "psycopg"),
        ("projections", "projections.log", "from domain.tracker import Tracker\n", "domain.tracker"),
        ("projections", "projections.log", "from domain import tracker\n", "domain.tracker"),
        ("projections", "projections.log", "import domain.tracker as app\n", "domain.tracker"),
        ("projections", "projections.log", "from ..domain.tracker import Tracker\n", "domain.tracker"),
        ("projections", "projections.log", "from application.config import Config\n", "application.config"),
        ("projections", "projections.log", "import flask\n", "flask"),
        ("infrastructure", "infrastructure.store", "from domain.rules import fold\n", "domain.rules"),
        ("infrastructure", "infrastructure.mail", "from application.config import Config\n", "application.config"),
        ("application", "application.jobs", "from flask import current_app\n", "flask"),
        ("application", "application.report", "from flask_babel import gettext\n", "flask_babel"),
        ("application", "application.services", "from web.schemas import EVENT_SCHEMAS\n", "web.schemas"),
        ("application", "application.services", "from werkzeug.exceptions import NotFound\n", "werkzeug.exceptions"),
        ("application", "application.cli", "from entrypoints.cli import main\n", "entrypoints.cli"),
        ("web", "web.api", "from entrypoints import cli\n", "entrypoints.cli"),
        ("entrypoints", "entrypoints.cli", "from flask import Flask\n", "flask"),
    ],
)
def test_the_checker_flags_a_bad_module(layer, module, source, offender):
    """The checker names the file and the import of a synthetic module that imports the wrong way."""
    found = violations(layer, source, f"{layer}/bad.py", module)
    assert found, f"{source!r} was not flagged"
    assert any(f"{layer}/bad.py:" in msg and msg.endswith(f"import {offender}") for msg in found), found


@pytest.mark.parametrize(
    ("layer", "module", "source"),
    [
        ("domain", "domain.rules", "from __future__ import annotations\nimport re\nfrom datetime import date\n"),
        ("domain", "domain.rules", "from eventsourcing.domain import Aggregate\nfrom domain.values import AREAS\n"),
        ("domain", "domain.rules", "from . import values\nfrom .errors import InvalidField\n"),
        ("projections", "projections.log", "from domain import rules\nfrom domain.partnership import Partnership\n"),
        ("projections", "projections.log", "import psycopg\nfrom eventsourcing.sqlite import SQLiteCursor\n"),
        ("projections", "projections.log", "from .store import Db\nfrom projections.documents import event_id\n"),
        ("web", "web.api", "import flask\nfrom domain.tracker import Tracker\nfrom application import config\n"),
        ("application", "application.jobs", "from projections import queries\nfrom infrastructure.mail import Mail\n"),
        ("infrastructure", "infrastructure.store", "import psycopg\nfrom eventsourcing.sqlite import SQLiteCursor\n"),
        ("entrypoints", "entrypoints.cli", "import click\nfrom web import create_app\n"),
    ],
)
def test_the_checker_passes_a_good_module(layer, module, source):
    """Imports that follow the layering are not flagged."""
    assert violations(layer, source, f"{layer}/good.py", module) == []
