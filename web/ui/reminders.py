"""Managers acknowledge the reminders the inactivity scan opened (the same command as the API's)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from domain.errors import DomainError
from projections import queries
from web.auth import MANAGERS, current_user
from web.errors import ApiError
from web.schemas import AcknowledgeReminderSchema
from web.ui.common import role_required, services
from web.ui.forms import Form
from web.ui.partnerships import render_dashboard

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


@bp.post("/<rid>/acknowledge")
@role_required(*MANAGERS)
def acknowledge(rid: str) -> Any:
    s = services()
    reminder = queries.get_reminder(s.db, rid)
    if reminder is None:
        raise ApiError(404, f"reminder {rid} not found")
    form = Form(AcknowledgeReminderSchema)
    try:
        fields = form.load(request.form)
        if not reminder["open"]:
            raise ApiError(409, f"reminder {rid} is not open")
        s.tracker.acknowledge_reminder(
            UUID(reminder["partnership_id"]),
            reminder["flagged_version"],
            note=fields.get("note"),
            recorded_by=current_user().name,
            today=s.today(),
        )
    except (ValidationError, DomainError, ApiError) as e:
        return render_dashboard(form.refuse(e), ack_forms={rid: form})
    s.after_command()
    flash(_("The reminder is acknowledged."), "success")
    return redirect(url_for("partnerships.dashboard", _anchor="reminders"))
