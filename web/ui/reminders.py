"""Managers acknowledge the reminders the inactivity scan opened (the same command as the API's)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from domain.errors import DomainError, ReminderNotFound
from projections import queries
from web.auth import MANAGERS, current_user
from web.errors import ApiError
from web.identity import request_id
from web.schemas import AcknowledgeReminderSchema
from web.ui.common import role_required, services
from web.ui.forms import Form
from web.ui.once import form_since, once_per_form
from web.ui.partnerships import REMINDERS_FLASH, render_dashboard

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


@bp.post("/<rid>/acknowledge")
@role_required(*MANAGERS)
@once_per_form  # a double click acknowledges once, and the second lands where the first did
def acknowledge(rid: str) -> Any:
    s = services()
    if queries.get_reminder(s.db, rid) is None:
        raise ReminderNotFound(rid)
    form = Form(AcknowledgeReminderSchema)
    try:
        fields = form.load(request.form)
        s.acknowledge_reminder(
            rid, note=fields.get("note"), user=current_user().name, since=form_since(), request_id=request_id()
        )
    except (ValidationError, DomainError, ApiError) as e:
        return render_dashboard(form.refuse(e), ack_forms={rid: form})
    flash(_("The reminder is acknowledged."), REMINDERS_FLASH)
    return redirect(url_for("partnerships.dashboard", _anchor="reminders"))
