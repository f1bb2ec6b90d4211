"""Imports point one way: web -> projections -> domain -> eventsourcing and the standard library."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "projections", "web")
STDLIB = frozenset(sys.stdlib_module_names)

#: top-level packages each layer may import, besides the standard library and itself
ALLOWED = {
    "domain": {"eventsourcing"},
    "projections": {"domain", "eventsourcing", "psycopg"},
    "web": None,  # the composition root may import anything (but it is imported by nobody)
}
#: modules a layer must never import, even though their package is allowed
FORBIDDEN = {"projections": {"domain.application"}}


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in ``source``, relative imports resolved.

    ``from a import b`` yields ``a.b`` as well as ``a``, so that ``from domain import application`` is seen.
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
        if top == "web" and layer != "web":
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
    """The walk sees the three layers' modules (guards against a walk that silently finds nothing)."""
    layers = {layer for layer, _ in module_files()}
    assert layers == set(PACKAGES)
    assert (ROOT / "domain" / "rules.py") in {path for _, path in module_files()}


@pytest.mark.parametrize("layer", PACKAGES)
def test_imports_point_the_right_way(layer):
    """domain imports only stdlib and eventsourcing; projections adds domain (not its application) and psycopg;
    nobody imports web."""
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
        ("domain", "domain.rules", "from projections.store import Db\n", "projections.store"),
        ("domain", "domain.rules", "def f():\n    from web import config\n", "web"),
        ("domain", "domain.rules", "from ..web.config import Config\n", "web.config"),
        ("domain", "domain.rules", "import psycopg\n", "psycopg"),
        ("projections", "projections.log", "from domain.application import Tracker\n", "domain.application"),
        ("projections", "projections.log", "from domain import application\n", "domain.application"),
        ("projections", "projections.log", "import domain.application as app\n", "domain.application"),
        ("projections", "projections.log", "from ..domain.application import Tracker\n", "domain.application"),
        ("projections", "projections.log", "from web.config import Config\n", "web.config"),
        ("projections", "projections.log", "import flask\n", "flask"),
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
        ("web", "web.api", "import flask\nfrom domain.application import Tracker\nfrom web.config import Config\n"),
    ],
)
def test_the_checker_passes_a_good_module(layer, module, source):
    """Imports that follow the layering are not flagged."""
    assert violations(layer, source, f"{layer}/good.py", module) == []
