"""The auditor's screens: the global log, the integrity check (the CLI's verify), the digest, downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from application.export import FORMATS, MEDIA_TYPES, export_chunks
from projections import queries
from projections.audit import parse_digest
from web.auth import AUDITORS
from web.messages import field_message
from web.ui.common import role_required, services
from web.ui.i18n import say

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50


def render_log(report: dict[str, Any] | None = None, digest: str = "", errors: dict | None = None) -> Any:
    s = services()
    raw = request.args.get("after", "0")
    after = int(raw) if raw.isdigit() and raw.isascii() and len(raw) < 19 else 0
    page = queries.log_page(s.db, after=after, limit=PAGE_SIZE)
    context = {
        "page": page,
        "after": after,
        "previous": max(0, after - PAGE_SIZE) if after else None,
        "head": queries.head(s.db),
        "names": queries.partnership_names(s.db, [e["partnership_id"] for e in page["items"]]),
        "report": report,
        "digest": digest,
        "errors": errors or {},
        "page_size": PAGE_SIZE,
    }
    return render_template("audit/log.html", **context), 422 if errors else 200


@bp.get("/")
@role_required(*AUDITORS)
def log() -> Any:
    return render_log()


@bp.post("/verify")
@role_required(*AUDITORS)
def verify() -> Any:
    """Run the same check as ``tracker audit verify`` (with an optional digest kept earlier) and show it."""
    s = services()
    digest = request.form.get("digest", "").strip()
    try:
        kept = parse_digest(digest) if digest else None
    except ValueError:
        return render_log(digest=digest, errors={"digest": [say(field_message("not_a_digest"))]})
    return render_log(report=s.verify(kept), digest=digest)


@bp.get("/export.<fmt>")
@role_required(*AUDITORS)
def export(fmt: str) -> Response:
    """The whole log as ``tracker export`` writes it (the same bytes), as a download."""
    if fmt not in FORMATS:
        abort(404)
    s = services()
    position = queries.head(s.db)["position"]
    chunks = (chunk.encode("utf-8") for chunk in export_chunks(s.tracker, fmt))
    response = Response(stream_with_context(chunks), mimetype=MEDIA_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = MEDIA_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="tracker-log-{position}.{fmt}"'
    return response
