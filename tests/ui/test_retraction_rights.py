"""Issue 13: an officer may not undo the inactivity job's flag nor a manager's acknowledgement; the web UI
shows the refusal (the rights are checked below the web layer, as for the API)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from flask.testing import FlaskClient

from application import jobs
from application.services import Services
from projections import queries

from .helpers import log_position, post_and_confirm, post_form, record, register


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


def retract_links(client: FlaskClient, pid: str) -> set[int]:
    """The entries whose "retract" link the signed-in user is offered on the partnership's page."""
    html = client.get(f"/partnerships/{pid}").get_data(as_text=True)
    return {int(v) for v in re.findall(rf'href="/partnerships/{pid}/events/(\d+)/retract"', html)}


def test_each_role_is_offered_only_the_retractions_it_may_make_and_a_manager_undoes_an_acknowledgement(
    signed_in: Callable[..., FlaskClient], services: Services
) -> None:
    """Officers: the partnership's own entries, not the job's flag nor the acknowledgement; a manager: the
    acknowledgement only, and retracting it reopens the reminder; an admin: the flag too; an auditor: none."""
    pid = register(services, "Gmina Cicha", occurred_on=date(2015, 1, 1))
    record(services, pid, "agreement_signed", date(2015, 2, 1), agreement_kind="partnership")
    jobs.scan_inactivity(services, services.today())
    rid = next(r["id"] for r in queries.list_reminders(services.db, is_open=True) if r["partnership_id"] == pid)
    services.acknowledge_reminder(rid, note="Rozmowa z partnerem", user="jan")
    agreement, flag, acknowledgement = 2, 3, 4
    officer, manager, admin, auditor = (signed_in(r) for r in ("officer", "manager", "admin", "auditor"))
    assert retract_links(officer, pid) == {agreement}
    assert retract_links(manager, pid) == {acknowledgement}
    assert retract_links(admin, pid) == {agreement, flag, acknowledgement}
    assert retract_links(auditor, pid) == set()

    before = log_position(services)
    refused = officer.get(f"/partnerships/{pid}/events/{flag}/retract")  # typed by hand: refused before the form
    assert refused.status_code == 403
    assert "Twoja rola nie pozwala wycofać tego wpisu (zdarzenie 3)." in refused.get_data(as_text=True)
    assert manager.get(f"/partnerships/{pid}/events/{agreement}/retract").status_code == 403
    assert log_position(services) == before

    assert queries.get_reminder(services.db, rid)["acknowledged_by"] == "jan"
    done = post_and_confirm(manager, f"/partnerships/{pid}/events/{acknowledgement}/retract", {"reason": "Pomyłka"})
    assert done.status_code == 302 and done.headers["Location"].endswith("#event-5")
    assert log_position(services) == before + 1
    reopened = queries.get_reminder(services.db, rid)
    assert reopened is not None and reopened["acknowledged_by"] is None
