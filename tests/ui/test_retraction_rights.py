"""Issue 13: an officer may not undo the inactivity job's flag nor a manager's acknowledgement; the web UI
shows the refusal (the rights are checked below the web layer, as for the API)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask.testing import FlaskClient

from application import jobs
from application.services import Services
from projections import queries

from .helpers import log_position, post_form, record, register


def test_an_officer_is_refused_the_retraction_of_a_flag_and_of_an_acknowledgement(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    pid = register(services, "Gmina Cicha", occurred_on=date(2015, 1, 1))
    record(services, pid, "agreement_signed", date(2015, 2, 1), agreement_kind="partnership")
    assert jobs.scan_inactivity(services, services.today()).flagged
    flagged = 3  # registered, agreement, flag
    officer = signed_in("officer")
    before = log_position(services)
    refused = post_form(officer, f"/partnerships/{pid}/events/{flagged}/retract", {"reason": "Nie zgadzam się"})
    html = refused.get_data(as_text=True)
    assert refused.status_code >= 400, html  # the view answers 409 for any refusal not about a field
    assert "Twoja rola nie pozwala wycofać tego wpisu (zdarzenie 3)." in html
    assert log_position(services) == before

    rid = next(r["id"] for r in queries.list_reminders(services.db, is_open=True) if r["partnership_id"] == pid)
    services.acknowledge_reminder(rid, note=None, user="jan")
    acknowledged = 4
    refused = post_form(officer, f"/partnerships/{pid}/events/{acknowledged}/retract", {"reason": "Pomyłka"})
    assert refused.status_code >= 400
    assert "Twoja rola nie pozwala wycofać tego wpisu (zdarzenie 4)." in refused.get_data(as_text=True)
    assert log_position(services) == before + 1  # the acknowledgement only
