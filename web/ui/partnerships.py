"""The dashboard, a partnership's page, and the officer's forms (register, one per event type, retract)."""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from domain.errors import DomainError, PartnershipNotFound
from domain.event_types import RECORDABLE
from domain.values import AREAS, STATUSES
from projections import queries
from web.api import partnership_id
from web.auth import EVERYONE, MANAGERS, WRITERS, current_user
from web.errors import ApiError
from web.messages import request_message
from web.schemas import EVENT_SCHEMAS, EventRetractedSchema, RegisterPartnershipSchema
from web.ui.chart import bar_chart
from web.ui.common import may, role_required, services
from web.ui.forms import Form
from web.ui.i18n import country_choices
from web.ui.present import read_filters, read_moment, references, timeline
from web.ui.vocab import EVENT_TYPE_LABELS

bp = Blueprint("partnerships", __name__)

PAGE_SIZE = 20
#: The event forms offered on a partnership's page (a retraction is asked for on the event itself).
FORM_TYPES: tuple[str, ...] = tuple(t for t in RECORDABLE if t != "event_retracted")


def _known(pid: str) -> dict[str, Any]:
    s = services()
    doc = queries.get_partnership(s.db, partnership_id(pid), s.clock())
    if doc is None:
        raise PartnershipNotFound(pid)
    return doc


# --- reading ------------------------------------------------------------------------------------


def render_dashboard(status: int = 200, ack_forms: dict[str, Form] | None = None) -> tuple[str, int]:
    """The dashboard (also re-rendered by the reminders blueprint when an acknowledgement is refused)."""
    s = services()
    filters, errors = read_filters(request.args, AREAS)
    page_number = filters.pop("page")
    page = queries.list_partnerships(s.db, s.clock(), limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE, **filters)
    reminders = queries.list_reminders(s.db, is_open=True) if may(*MANAGERS) else []
    context = {
        "filters": filters,
        "query": {k: "1" if v is True else v for k, v in filters.items()},  # the pager's links keep the filters
        "filter_errors": errors,
        "page": page,
        "page_number": page_number,
        "pages": max(1, math.ceil(page["total"] / PAGE_SIZE)),
        "counts": queries.count_by_status(s.db),
        "statuses": STATUSES,
        "areas": AREAS,
        "countries": country_choices(queries.list_countries(s.db)),
        "chart": bar_chart(queries.activity_per_year(s.db)),
        "reminders": reminders,
        "names": queries.partnership_names(s.db, [r["partnership_id"] for r in reminders]),
        "ack_forms": ack_forms or {},
    }
    return render_template("partnerships/dashboard.html", **context), 422 if errors and status == 200 else status


@bp.get("/")
@role_required(*EVERYONE)
def dashboard() -> Any:
    return render_dashboard()


@bp.get("/partnerships/<pid>")
@role_required(*EVERYONE)
def partnership(pid: str) -> Any:
    s, current = services(), _known(pid)
    as_of, known_at, errors = read_moment(request.args, s.config.tz)
    if as_of is None and known_at is None:
        doc, events = current, queries.list_events(s.db, current["id"]) or []
    else:
        doc = queries.partnership_at(s.db, current["id"], s.clock(), as_of=as_of, known_at=known_at)
        events = queries.list_events_at(s.db, current["id"], as_of=as_of, known_at=known_at) or []
    refs, resolutions = references(events)
    page = render_template(
        "partnerships/partnership.html",
        current=current,
        doc=doc,
        events=timeline(events),
        refs=refs,
        resolutions=resolutions,
        as_of=as_of,
        known_at=known_at,
        moment_args=request.args,
        moment_errors=errors,
        form_types=FORM_TYPES,
    )
    return page, 422 if errors else 404 if doc is None else 200


# --- writing (officers) ---------------------------------------------------------------------------


@bp.route("/partnerships/new", methods=["GET", "POST"])
@role_required(*WRITERS)
def register() -> Any:
    s = services()
    form = Form(RegisterPartnershipSchema, values={"local_party": s.organisation() or ""})
    if request.method == "POST":
        try:
            recorded = s.register_partnership(form.load(request.form), user=current_user().name)
        except (ValidationError, DomainError) as e:
            status = form.refuse(e)
            return render_template("partnerships/register.html", form=form, countries=country_choices()), status
        flash(_("The partnership is registered."), "success")
        return redirect(url_for(".partnership", pid=str(recorded.partnership_id)))
    return render_template("partnerships/register.html", form=form, countries=country_choices())


@bp.route("/partnerships/<pid>/record/<event_type>", methods=["GET", "POST"])
@role_required(*WRITERS)
def record_event(pid: str, event_type: str) -> Any:
    s, doc = services(), _known(pid)
    if event_type not in FORM_TYPES:
        raise ApiError(404, request_message("no_form", event_type=event_type))
    form = Form(EVENT_SCHEMAS[event_type], values={"occurred_on": s.today().isoformat()})
    if request.method == "POST":
        try:
            fields = form.load(request.form)
            s.record_event(UUID(doc["id"]), event_type, fields, user=current_user().name)
        except (ValidationError, DomainError) as e:
            status = form.refuse(e)
            return render_template("partnerships/record.html", form=form, doc=doc, event_type=event_type), status
        flash(_("Recorded: %(what)s.", what=EVENT_TYPE_LABELS[event_type]), "success")
        return redirect(url_for(".partnership", pid=doc["id"], _anchor="timeline"))
    return render_template("partnerships/record.html", form=form, doc=doc, event_type=event_type)


@bp.route("/partnerships/<pid>/events/<int:version>/retract", methods=["GET", "POST"])
@role_required(*WRITERS)
def retract_event(pid: str, version: int) -> Any:
    s, doc = services(), _known(pid)
    event = queries.get_event(s.db, doc["id"], version)
    if event is None:
        raise ApiError(404, request_message("no_such_event", version=version))
    form = Form(EventRetractedSchema, exclude=("retracts",), values={"occurred_on": s.today().isoformat()})
    if request.method == "POST":
        try:
            fields = form.load(request.form, retracts=version)
            s.record_event(UUID(doc["id"]), "event_retracted", fields, user=current_user().name)
        except (ValidationError, DomainError) as e:
            status = form.refuse(e)
            return render_template("partnerships/retract.html", form=form, doc=doc, event=timeline([event])[0]), status
        flash(_("The entry is retracted."), "success")
        return redirect(url_for(".partnership", pid=doc["id"], _anchor="timeline"))
    return render_template("partnerships/retract.html", form=form, doc=doc, event=timeline([event])[0])
