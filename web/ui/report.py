"""The council report from the UI: a year or a day, Polish or English, optionally as known at a moment.

``GET /report`` shows the form; submitted (``action``), it answers with the report itself, the same bytes
as ``tracker report`` gives for the same arguments: shown in the browser (``show``), downloaded as HTML
(``html``) or as a PDF to print (``pdf``). A field that cannot be read, a future year or day, or a
future "known at" answers 422 with the form, an error summary linking to the fields and the input as typed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from flask import Blueprint, Response, render_template, request
from werkzeug.datastructures import MultiDict

from application.report import (
    ReportPeriod,
    ReportRefused,
    check_known_at,
    render_report,
    report_filename,
    report_pdf,
    report_period,
)
from application.services import Services
from application.timeparse import parse_moment
from application.vocabulary import LANGUAGES
from web.auth import EVERYONE
from web.messages import field_message
from web.ui.common import role_required, services
from web.ui.i18n import language, say

bp = Blueprint("report", __name__)

PERIODS = ("year", "day")
ACTIONS = ("show", "html", "pdf")
#: The report page is standalone: its one inline style is allowed by its hash, nothing else loads.
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def read_report_form(args: MultiDict, s: Services) -> tuple[ReportPeriod | None, dict[str, list[str]]]:
    """The report's period from the form, or the problems of its fields (in the page's language)."""
    errors: dict[str, list[str]] = {}
    kind = args.get("period", "year")
    if kind not in PERIODS:
        errors["period"] = [say(field_message("one_of", choices=", ".join(PERIODS)))]
        kind = "year"
    asked = args.get(kind, "").strip()
    if not asked:
        errors[kind] = [say(field_message("required"))]
    else:
        try:
            report_period(asked, None, today=s.today(), tz=s.config.tz)
        except ReportRefused as e:
            errors[kind] = [say(e.message)]
    known_at = None
    raw = args.get("known_at", "").strip()
    if raw:
        try:
            known_at = check_known_at(parse_moment(raw, s.config.tz))
        except ReportRefused as e:
            errors["known_at"] = [say(e.message)]
        except ValueError:
            errors["known_at"] = [say(field_message("not_a_moment"))]
    if args.get("report_lang", language()[:2]) not in LANGUAGES:
        errors["report_lang"] = [say(field_message("one_of", choices=", ".join(LANGUAGES)))]
    if errors:
        return None, errors
    return report_period(asked, known_at, today=s.today(), tz=s.config.tz), {}


def _document(html: str, period: ReportPeriod, lang: str, action: str) -> Response:
    """The report as the browser shows or downloads it."""
    if action == "pdf":
        response = Response(report_pdf(html), mimetype="application/pdf")
    else:
        response = Response(html.encode("utf-8"), mimetype="text/html")
        styles = " ".join(
            "'sha256-{}'".format(base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii"))
            for css in _STYLE.findall(html)
        )
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src {styles}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
        )
    if action != "show":
        name = report_filename(period, lang, "pdf" if action == "pdf" else "html")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/report")
@role_required(*EVERYONE)
def page() -> Any:
    s = services()
    args = request.args
    lang = args.get("report_lang") or language()[:2]
    if "action" not in args:
        values = {"period": "year", "year": str(s.today().year), "day": "", "known_at": "", "report_lang": lang}
        return render_template("report/page.html", values=values, errors={})
    period, errors = read_report_form(args, s)
    if period is None:
        values = {name: args.get(name, "") for name in ("period", "year", "day", "known_at", "report_lang")}
        return render_template("report/page.html", values=values, errors=errors), 422
    html = render_report(s.db, s.clock(), period=period, lang=lang, organisation=s.organisation(), tz=s.config.tz)
    return _document(html, period, lang, args.get("action") if args.get("action") in ACTIONS else "show")
