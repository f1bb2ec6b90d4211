"""The dashboard, a partnership's page, and the officer's forms (register, one per event type, retract)."""

from __future__ import annotations

import math
import secrets
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from flask import (
    Blueprint,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from application import jobs
from application.replies import valid_key
from application.rights import may_retract
from domain import rules
from domain.dates import BusinessDate
from domain.errors import DomainError, InvalidField, NotAllowedInStatus, NotPermitted, PartnershipNotFound
from domain.event_types import RECORDABLE, RETRACTED_TYPE
from domain.event_types import event_type as type_row
from domain.values import AREAS, STATUSES
from projections import queries
from projections.documents import preview_document
from projections.log import entry_of
from web.api import REGISTRATION_IDS, partnership_id
from web.auth import EVERYONE, MANAGERS, WRITERS, current_user
from web.errors import ApiError
from web.identity import request_id
from web.messages import request_message
from web.schemas import EVENT_SCHEMAS, EventRetractedSchema, RegisterPartnershipSchema
from web.ui.chart import bar_chart
from web.ui.common import may, role_required, services
from web.ui.forms import Form
from web.ui.i18n import country_choices
from web.ui.once import ENTRY_FLASH, FLAGS, FORM_KEY, form_since, once_per_form, review_key
from web.ui.present import read_filters, read_moment, references, timeline
from web.ui.vocab import EVENT_TYPE_LABELS

bp = Blueprint("partnerships", __name__)

PAGE_SIZE = 20
#: The event forms offered on a partnership's page (a retraction is asked for on the event itself).
FORM_TYPES: tuple[str, ...] = tuple(t for t in RECORDABLE if t != "event_retracted")


#: Each form's own words for a field where the contract's general label says less (an exchange's date is
#: the day it started).
OWN_LABELS: dict[str, dict[str, Any]] = {
    "youth_exchange_held": {"occurred_on": _l("Started on")},
    "activity_held": {"occurred_on": _l("Started on")},
}
#: Fields a type's form does not ask for: a resolution's number is its reference.
NOT_ASKED: dict[str, tuple[str, ...]] = {"council_resolution_adopted": ("reference",)}
#: A retraction asks only why: its date is the office's today and it names the entry it retracts.
RETRACTION_NOT_ASKED = ("retracts", "occurred_on", "reference", "note")
#: A manager's acknowledgement is confirmed in the reminders' section, where the eye is after it.
REMINDERS_FLASH = f"{ENTRY_FLASH}reminders"


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
    reminders = queries.by_longest_silence(queries.list_reminders(s.db, is_open=True)) if may(*MANAGERS) else []
    today = s.today()
    for r in reminders:
        r["silent_days"] = (today - queries.silent_since(r)).days
    shown_in_reminders = [m for c, m in get_flashed_messages(with_categories=True) if c == REMINDERS_FLASH]
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
        "chart": bar_chart(queries.activity_per_year(s.db), through=today.year),
        "reminders": reminders,
        "names": queries.partnership_names(s.db, [r["partnership_id"] for r in reminders]),
        "ack_forms": ack_forms or {},
        "scan_run": _scan_run(s),
        # reminder mails the outbox set aside (an address or a name the mail format refuses): managers fix them
        "set_aside": jobs.set_aside_messages(s) if may(*MANAGERS) else [],
        "inactivity_days": s.config.inactivity_days,
    }
    context["form_key"] = lambda: secrets.token_urlsafe(18)  # each acknowledgement form its own (once_per_form)
    if shown_in_reminders:  # shown in the reminders' section, not at the top (base.html leaves them to the page)
        context["entry_confirmations"] = {"reminders": shown_in_reminders}
    return render_template("partnerships/dashboard.html", **context), 422 if errors and status == 200 else status


def _scan_run(s: Any) -> dict[str, Any] | None:
    """When the inactivity check last ran, and for which day when that was not the day it ran on."""
    run = jobs.last_run(s, jobs.INACTIVITY_SCAN)
    if run is None:
        return None
    try:
        ran_on = datetime.fromisoformat(run["at"]).astimezone(s.config.tz).date().isoformat()
    except ValueError:
        return None
    return {"at": run["at"], "as_of": run["today"] if run["today"] != ran_on else None}


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
    confirmations = {
        int(category.removeprefix(ENTRY_FLASH)): message
        for category, message in get_flashed_messages(with_categories=True)
        if category.startswith(ENTRY_FLASH) and category.removeprefix(ENTRY_FLASH).isdigit()
    }
    allowed = [t for t in FORM_TYPES if rules.allowed_in(t, current["status"])]
    page = render_template(
        "partnerships/partnership.html",
        entry_confirmations=confirmations,
        earlier_only=[t for t in FORM_TYPES if t not in allowed],
        current=current,
        doc=doc,
        events=timeline(events),
        refs=refs,
        resolutions=resolutions,
        as_of=as_of,
        known_at=known_at,
        moment_args=request.args,
        moment_errors=errors,
        form_types=allowed,
        # each entry's "retract" link is offered only to a role that may retract that kind of entry
        may_retract=lambda event_type: (user := current_user()) is not None and may_retract(user.role, event_type),
    )
    return page, 422 if errors else 404 if doc is None else 200


# --- writing (officers) ---------------------------------------------------------------------------


def _sent_before(doc: dict[str, Any]) -> Any:
    """When this sending repeats one whose outcome is unknown and that one recorded its entry: the redirect to
    it (the checks are not run again: the entry it made may be what they would now refuse). None otherwise."""
    since = form_since()
    if since is None:
        return None
    version = services().written_by_request(UUID(doc["id"]), request_id(), since)
    if version is None:
        return None
    flash(_("Recorded once: this is the entry the form made when it was first sent."), f"{ENTRY_FLASH}{version}")
    return redirect(url_for(".partnership", pid=doc["id"], _anchor=f"event-{version}"))


def _registration_review(form: Form, fields: dict[str, Any]) -> Any:
    """The registration's "check your answers" page: the entry as it would be recorded (the domain's own
    checks, run on a partnership not saved) and the partnerships it may duplicate, or None when the domain
    refuses it (the form then holds why). Nothing is appended."""
    s = services()
    try:
        new = s.preview_registration(fields, user=current_user().name)
    except DomainError as e:
        form.refuse(e)
        return None
    entry = timeline([preview_document(new.fact_list(), new.collect_events()[-1])])[0]
    return render_template(
        "partnerships/register_review.html",
        entry=entry,
        duplicates=queries.same_name_partnerships(s.db, fields["partner_country"], fields["partner_name"], s.clock()),
        kept=[(name, value) for name, value in request.form.items(multi=True) if name not in FLAGS],
        date_label=next((f.label for f in form.inputs if f.name == "occurred_on"), None),
        form_key=review_key(),
    )


@bp.route("/partnerships/new", methods=["GET", "POST"])
@role_required(*WRITERS)
@once_per_form
def register() -> Any:
    """The form; its submit shows the registration and any partnership of that name in that country to check
    first (a registration cannot be retracted), and only "Record it" registers it."""
    s = services()
    form = Form(RegisterPartnershipSchema, values={"local_party": s.organisation() or ""})

    def page(status: int = 200) -> tuple[str, int]:
        return render_template("partnerships/register.html", form=form, countries=country_choices()), status

    if request.method == "GET":
        return page()
    if request.form.get("change"):
        form.read(request.form)
        return page()
    try:
        fields = form.load(request.form)
    except ValidationError as e:
        return page(form.refuse(e))
    if not request.form.get("confirm"):
        return _registration_review(form, fields) or page(_refused(form))
    try:
        user = current_user().name
        # the id follows from the form's key (as the API's from an Idempotency-Key): a page sent again after an
        # unknown outcome finds the partnership its first sending registered
        key = request.form.get(FORM_KEY, "")
        pid = uuid5(REGISTRATION_IDS, f"{user}\nform:{key}") if valid_key(key) else None
        recorded = s.register_partnership(fields, user=user, partnership_id=pid, request_id=request_id())
    except DomainError as e:
        return page(form.refuse(e))
    flash(_("The partnership is registered."), f"{ENTRY_FLASH}{recorded.version}")
    return redirect(url_for(".partnership", pid=str(recorded.partnership_id), _anchor=f"event-{recorded.version}"))


def event_form(event_type: str, doc: dict[str, Any]) -> Form:
    """The form of one event type for this partnership (its own labels, its schools to pick from)."""
    schools = tuple(dict.fromkeys(school["name"] for school in doc["schools"]))
    return Form(
        EVENT_SCHEMAS[event_type],
        exclude=NOT_ASKED.get(event_type, ()),
        values={"occurred_on": services().today().isoformat()},
        labels=OWN_LABELS.get(event_type, {}),
        picks={"schools": schools} if event_type == "youth_exchange_held" else {},
    )


def early_problems(doc: dict[str, Any], event_type: str, payload: dict[str, Any]) -> list[DomainError]:
    """The domain's cheap checks on what was typed, all at once (the domain stops at the first): each date
    not after today, an end not before the start, and the status on the entry's own date allowing it."""
    s, kind = services(), type_row(event_type)
    dates: dict[str, BusinessDate] = {}
    for name in ("occurred_on", *kind.date_fields):
        raw = payload.get(name)
        if isinstance(raw, str):
            try:
                dates[name] = BusinessDate.parse(raw.strip())
            except ValueError:
                continue
    found: list[DomainError] = []
    start = dates.get("occurred_on")
    for name, when in dates.items():
        if name not in kind.future_fields and when.first > s.today():
            found.append(InvalidField(name, "not_after_today"))
        elif name != "occurred_on" and name not in kind.future_fields and start and when.last < start.first:
            found.append(InvalidField(name, "not_before_occurred_on"))
    if start is not None and start.first <= s.today() and event_type != RETRACTED_TYPE:
        facts = s.tracker.get_partnership(UUID(doc["id"])).fact_list()
        status = rules.state_on(facts, start.first).status
        if not rules.allowed_in(event_type, status):
            found.append(NotAllowedInStatus(event_type, status, start))
    return found


def _checked(form: Form, doc: dict[str, Any], event_type: str, extra: dict[str, Any]) -> dict[str, Any] | None:
    """What was typed, checked by the schema and the domain's cheap checks in one round: the fields, or None
    when refused (then every problem is in the form, each once)."""
    payload = {**form.read(request.form), **extra}
    fields = None
    try:
        fields = form.schema().load(payload)
    except ValidationError as e:
        form.refuse(e)
    for problem in early_problems(doc, event_type, {k: str(v) for k, v in payload.items()}):
        form.refuse(problem)
    form.errors = {name: list(dict.fromkeys(said)) for name, said in form.errors.items()}
    form.problems = list(dict.fromkeys(form.problems))
    return None if form.errors or form.problems else fields


def _refused(form: Form, error: Exception | None = None) -> int:
    """The status of a refused form: 422 when a field is wrong, 409 when only the partnership's state is."""
    if error is not None:
        form.refuse(error)
    return 409 if form.problems and not form.errors else 422


def _review(
    form: Form, doc: dict[str, Any], event_type: str, extra: dict[str, Any], action: str, target: Any = None
) -> Any:
    """The "check your answers" page (the entry as it would be recorded and its effect, the API's dry run), or
    None when what was typed is refused (the form then holds why). Nothing is appended."""
    fields = _checked(form, doc, event_type, extra)
    if fields is None:
        return None
    try:
        user = current_user()
        partnership, event = services().preview_event(
            UUID(doc["id"]), event_type, fields, user=user.name, role=user.role
        )
    except DomainError as e:
        form.refuse(e)
        return None
    preview = preview_document(partnership.fact_list(), event)
    same = [] if target is not None else queries.same_entries(services().db, doc["id"], entry_of(event, 0))
    return render_template(
        "partnerships/review.html",
        doc=doc,
        same=same,
        entry=timeline([preview])[0],
        kept=[(name, value) for name, value in request.form.items(multi=True) if name not in FLAGS],
        action=action,
        target=target,
        date_label=next((f.label for f in form.inputs if f.name == "occurred_on"), None),
        form_key=review_key(),
    )


@bp.route("/partnerships/<pid>/record/<event_type>", methods=["GET", "POST"])
@role_required(*WRITERS)
@once_per_form
def record_event(pid: str, event_type: str) -> Any:
    """The form; its submit shows the entry and its effect to check first, and only "Record it" appends it."""
    s, doc = services(), _known(pid)
    if event_type not in FORM_TYPES:
        raise ApiError(404, request_message("no_form", event_type=event_type))
    form = event_form(event_type, doc)

    def page(status: int = 200) -> tuple[str, int]:
        not_now = not rules.allowed_in(event_type, doc["status"])
        html = render_template("partnerships/record.html", form=form, doc=doc, event_type=event_type, not_now=not_now)
        return html, status

    if request.method == "GET":
        return page()
    if request.form.get("change"):
        form.read(request.form)
        return page()
    if not request.form.get("confirm"):
        action = url_for(".record_event", pid=doc["id"], event_type=event_type)
        return _review(form, doc, event_type, {}, action) or page(_refused(form))
    if (earlier := _sent_before(doc)) is not None:
        return earlier
    fields = _checked(form, doc, event_type, {})
    if fields is None:
        return page(_refused(form))
    try:
        recorded = s.record_event(
            UUID(doc["id"]),
            event_type,
            fields,
            user=current_user().name,
            since=form_since(),
            request_id=request_id(),
        )
    except DomainError as e:
        return page(_refused(form, e))
    flash(_("Recorded: %(what)s.", what=EVENT_TYPE_LABELS[event_type]), f"{ENTRY_FLASH}{recorded.version}")
    return redirect(url_for(".partnership", pid=doc["id"], _anchor=f"event-{recorded.version}"))


@bp.route("/partnerships/<pid>/events/<int:version>/retract", methods=["GET", "POST"])
@role_required(*WRITERS, *MANAGERS)
@once_per_form
def retract_event(pid: str, version: int) -> Any:
    """Asks only why (the server dates it today), shows what the partnership would become, then retracts.

    Offered to whoever may retract that entry (application/rights.py): officers most entries, managers an
    acknowledgement, only admins the inactivity job's flag; anyone else is refused before the form."""
    s, doc = services(), _known(pid)
    event = queries.get_event(s.db, doc["id"], version)
    if event is None:
        raise ApiError(404, request_message("no_such_event", version=version))
    role = current_user().role
    if not may_retract(role, event["type"]):
        raise NotPermitted("role_may_not_retract", role=role, retracted_type=event["type"], version=version)
    form = Form(EventRetractedSchema, exclude=RETRACTION_NOT_ASKED)
    extra = {"retracts": version, "occurred_on": s.today().isoformat()}
    shown = timeline([event])[0]

    def page(status: int = 200) -> tuple[str, int]:
        return render_template("partnerships/retract.html", form=form, doc=doc, event=shown), status

    if request.method == "GET":
        return page()
    if request.form.get("change"):
        form.read(request.form)
        return page()
    if not request.form.get("confirm"):
        action = url_for(".retract_event", pid=doc["id"], version=version)
        return _review(form, doc, RETRACTED_TYPE, extra, action, target=shown) or page(_refused(form))
    if (earlier := _sent_before(doc)) is not None:
        return earlier
    fields = _checked(form, doc, RETRACTED_TYPE, extra)
    if fields is None:
        return page(_refused(form))
    try:
        user = current_user()
        recorded = s.record_event(
            UUID(doc["id"]),
            RETRACTED_TYPE,
            fields,
            user=user.name,
            role=user.role,
            since=form_since(),
            request_id=request_id(),
        )
    except DomainError as e:
        return page(_refused(form, e))
    flash(_("The entry is retracted."), f"{ENTRY_FLASH}{recorded.version}")
    return redirect(url_for(".partnership", pid=doc["id"], _anchor=f"event-{recorded.version}"))
