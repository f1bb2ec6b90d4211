"""What the UI calls things: the shared vocabulary (application/vocabulary.py) as lazy strings for the pages,
and the few words only the pages use (hints, error headings, the integrity check's findings)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from application import vocabulary


def _lazy(labels: Mapping[str, str]) -> dict[str, LazyString]:
    """The vocabulary's English labels, each translated when a page shows it."""
    return {value: lazy_gettext(label) for value, label in labels.items()}


ROLE_LABELS = _lazy(vocabulary.ROLE_LABELS)
STATUS_LABELS = _lazy(vocabulary.STATUS_LABELS)
PARTNER_KIND_LABELS = _lazy(vocabulary.PARTNER_KIND_LABELS)
AREA_LABELS = _lazy(vocabulary.AREA_LABELS)
AGREEMENT_KIND_LABELS = _lazy(vocabulary.AGREEMENT_KIND_LABELS)
SIDE_LABELS = _lazy(vocabulary.SIDE_LABELS)
ACTIVITY_KIND_LABELS = _lazy(vocabulary.ACTIVITY_KIND_LABELS)
REMINDER_KIND_LABELS = _lazy(vocabulary.REMINDER_KIND_LABELS)
EVENT_TYPE_LABELS = _lazy(vocabulary.EVENT_TYPE_LABELS)
EFFECT_LABELS = _lazy(vocabulary.EFFECT_LABELS)
FIELD_LABELS = _lazy(vocabulary.FIELD_LABELS)
#: The label of each value vocabulary, by field name.
CHOICE_LABELS = {name: _lazy(labels) for name, labels in vocabulary.CHOICE_LABELS.items()}

#: Hints shown under a field (tied to it with aria-describedby).
FIELD_HINTS = {
    "partner_country": _l("Choose from the list."),
    "occurred_on": _l(
        "A day (2019-10-18), a month (2008-01) or a year (2019): as precise as the record, never invented."
        " Not after today; history may be entered late."
    ),
    "effective_on": _l("When a notice period ends; leave empty when it took effect at once."),
    "days": _l("30 to 3650 days; leave empty for the register's default."),
    "signatories": _l("One per line."),
    "parties": _l("One per line."),
    "schools": _l("One per line."),
    "planned_for": _l("A day, a month or a year; may lie in the future."),
    "ends_on": _l("The last day (or month, or year); not before it began."),
    "schools_pick": _l("Tick the partnership's schools that took part; add any others below."),
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
    "access_log": _l("the access log (who changed which user) does not match its hash chain or the users' rights"),
}
