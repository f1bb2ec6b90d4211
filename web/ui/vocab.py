"""What the UI calls things: translatable labels of the contract's values, event types and fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "officer": _l("International-cooperation officer"),
    "auditor": _l("Auditor"),
    "manager": _l("Manager"),
    "admin": _l("Administrator"),
}

STATUS_LABELS = {
    "proposed": _l("Proposed"),
    "intent": _l("Letter of intent"),
    "active": _l("Active"),
    "suspended": _l("Suspended"),
    "terminated": _l("Terminated"),
}

PARTNER_KIND_LABELS = {
    "municipality": _l("Municipality"),
    "district": _l("District"),
    "city": _l("City"),
    "region": _l("Region"),
    "school": _l("School"),
    "organisation": _l("Organisation"),
}

AREA_LABELS = {
    "education": _l("Education"),
    "culture": _l("Culture"),
    "sport": _l("Sport"),
    "economy": _l("Economy"),
    "tourism": _l("Tourism"),
    "environment": _l("Environment"),
    "agriculture": _l("Agriculture"),
    "youth": _l("Youth"),
    "social": _l("Social affairs"),
    "local_government": _l("Local government"),
    "health": _l("Health"),
    "other": _l("Other areas"),
}

AGREEMENT_KIND_LABELS = {
    "partnership": _l("Partnership agreement"),
    "cooperation": _l("Cooperation agreement"),
    "school_cooperation": _l("School cooperation agreement"),
    "other": _l("Another kind of agreement"),
}

SIDE_LABELS = {
    "local": _l("Ours (local)"),
    "partner": _l("The partner's"),
}

ACTIVITY_KIND_LABELS = {
    "conference": _l("Conference"),
    "training": _l("Training"),
    "visit": _l("Visit"),
    "cultural_event": _l("Cultural event"),
    "sports_event": _l("Sports event"),
    "other": _l("Another kind of activity"),
}

REMINDER_KIND_LABELS = {
    "inactive": _l("No activity"),
    "exchange_overdue": _l("Planned youth exchange overdue"),
}

EVENT_TYPE_LABELS = {
    "partnership_registered": _l("Partnership registered"),
    "letter_of_intent_signed": _l("Letter of intent signed"),
    "agreement_signed": _l("Agreement signed"),
    "council_resolution_adopted": _l("Council resolution adopted"),
    "school_joined": _l("School joined"),
    "youth_exchange_planned": _l("Youth exchange planned"),
    "youth_exchange_held": _l("Youth exchange held"),
    "activity_held": _l("Activity held"),
    "cooperation_suspended": _l("Cooperation suspended"),
    "cooperation_resumed": _l("Cooperation resumed"),
    "partnership_terminated": _l("Partnership terminated"),
    "note_added": _l("Note added"),
    "event_retracted": _l("Entry retracted"),
    "inactivity_flagged": _l("Inactivity flagged"),
    "reminder_acknowledged": _l("Reminder acknowledged"),
}

FIELD_LABELS = {
    "partner_name": _l("Partner's name"),
    "partner_country": _l("Partner's country"),
    "partner_kind": _l("Kind of partner"),
    "local_party": _l("Our party"),
    "areas": _l("Areas of cooperation"),
    "description": _l("Description"),
    "occurred_on": _l("Date it happened"),
    "reference": _l("Reference (document or resolution number)"),
    "note": _l("Note"),
    "signatories": _l("Signatories"),
    "agreement_kind": _l("Kind of agreement"),
    "parties": _l("Parties"),
    "resolution_number": _l("Resolution number"),
    "body": _l("Adopted by"),
    "school_name": _l("School's name"),
    "side": _l("Side"),
    "town": _l("Town"),
    "planned_for": _l("Planned for"),
    "ends_on": _l("Ended on"),
    "participants": _l("Number of participants"),
    "host_town": _l("Host town"),
    "schools": _l("Schools"),
    "activity_kind": _l("Kind of activity"),
    "title": _l("Title"),
    "reason": _l("Reason"),
    "text": _l("Text"),
    "retracts": _l("Retracted entry"),
    "kind": _l("Kind"),
    "last_activity_on": _l("Last activity"),
    "flagged_version": _l("Reminder"),
    "registered_on": _l("Registered on"),
}

#: Hints shown under a field (tied to it with aria-describedby).
FIELD_HINTS = {
    "partner_country": _l("Choose from the list."),
    "occurred_on": _l("Not after today. History may be entered late: give the day it really happened."),
    "signatories": _l("One per line."),
    "parties": _l("One per line."),
    "schools": _l("One per line."),
    "planned_for": _l("May lie in the future."),
    "ends_on": _l("Not before the day it began."),
}

#: The label of each value vocabulary, by field name.
CHOICE_LABELS = {
    "partner_kind": PARTNER_KIND_LABELS,
    "areas": AREA_LABELS,
    "agreement_kind": AGREEMENT_KIND_LABELS,
    "side": SIDE_LABELS,
    "activity_kind": ACTIVITY_KIND_LABELS,
    "kind": REMINDER_KIND_LABELS,
    "status": STATUS_LABELS,
}

#: The heading of an error page, by HTTP status.
ERROR_TITLES = {
    400: _l("The request could not be understood"),
    401: _l("Please sign in"),
    403: _l("You may not do this"),
    404: _l("Not found"),
    405: _l("Not possible here"),
    409: _l("Not possible now"),
    413: _l("Too much data"),
    422: _l("Something was not right"),
}
ERROR_TITLE_OTHER = _l("Something went wrong")

#: What an integrity check found, by the kind of problem ``verify_store`` reports.
PROBLEM_LABELS = {
    "position": _l("a gap or a jump in the positions"),
    "entry": _l("an entry with a field missing"),
    "hash": _l("the content does not match its chained hash"),
    "digest": _l("the log differs from the digest kept earlier"),
    "missing": _l("an entry is missing from the log view"),
    "extra": _l("the log view has an entry the store does not"),
    "unreadable": _l("a stored event cannot be read"),
    "read_model": _l("a view differs from a fresh replay"),
    "syntax": _l("a line is not valid"),
}
