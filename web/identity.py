"""The identity of a write request, kept with the event it records (``request_id``, see
:class:`domain.partnership.Partnership.Event`).

Every attempt at one request carries the same identity, so a retry whose first attempt's outcome is unknown
(the store went away around its COMMIT, the process died) finds that attempt's event exactly, and an event
of another request never passes for it, however alike. With the client's ``Idempotency-Key`` (or a UI
form's own key) the identity follows from the user and the key (``key:...``); without one the server makes
one for the request (``req:...``), which still tells the library's own retry of an insert from a lost race
(a later request without a key may be the same write sent again: the domain then compares content).
"""

from __future__ import annotations

from uuid import UUID, uuid4, uuid5

from flask import g

from domain.tracker import KEYED

#: The prefix of an identity the server made for one request without a key.
MADE = "req:"
#: The namespace of request identities derived from a user's key.
REQUEST_IDS = UUID("0c7f6a1e-5b2d-4e8a-9f3c-7d1b2a6e4f90")


def derived(user: str, key: str) -> str:
    """The identity of every request by ``user`` with ``key``: ``key:`` and 32 hex digits (the key itself is
    not kept). The domain trusts it across requests (:func:`domain.tracker.is_client_identity`)."""
    return KEYED + uuid5(REQUEST_IDS, f"{user}\n{key}").hex


def use_key(user: str, key: str) -> None:
    """This request is the one ``user`` sent with ``key`` (an ``Idempotency-Key``, a form's key)."""
    g.request_id = derived(user, key)


def request_id() -> str:
    """This request's identity: from its key, or made now (once per request)."""
    if "request_id" not in g:
        g.request_id = MADE + uuid4().hex
    return str(g.request_id)
