"""Driving Debian's chromium with Playwright against a served app, and axe-core inside the pages.

``playwright install`` cannot work here: the tests launch ``/usr/bin/chromium`` (``apt-get install
chromium``) and are skipped only when it is absent. axe-core comes from npm (``package.json``;
``npm ci`` installs it into ``node_modules``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: What axe checks: WCAG 2.0 and 2.1, levels A and AA, and its best practices (heading order, landmarks, ...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def have_chromium() -> bool:
    return Path(CHROMIUM).exists()


def axe_source() -> str:
    """axe-core's script, installed with ``npm ci`` first when it is missing."""
    if not AXE.exists() and shutil.which("npm"):
        subprocess.run(["npm", "ci", "--silent"], cwd=REPO, check=True, capture_output=True)
    if not AXE.exists():
        raise RuntimeError("axe-core is missing: run `npm ci` in the repository (it needs Node.js and npm)")
    return AXE.read_text(encoding="utf-8")


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app on 127.0.0.1 and a free port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def axe_violations(page: Any, source: str) -> list[dict[str, Any]]:
    """Run axe-core in the page (injected through the debugging protocol: the page's CSP allows no script)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return result["violations"]


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations, readable in a test failure."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {json.dumps(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)
