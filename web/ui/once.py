"""Forms that count once: a double click, a page sent again after a lost answer or a 503, the browser's Back
and resend. Each form carries a key (``form_key``); the first answer to it is kept per user (as the API keeps
an ``Idempotency-Key``'s, :mod:`application.replies`), and the write carries the identity derived from it
(:mod:`web.identity`), so a repeat after an unknown outcome finds that write instead of making a second.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from flask import current_app, flash, g, redirect, request, session
from flask_babel import gettext as _

from application.replies import KeyReused, Reply, StillRunning, fingerprint, valid_key
from web.auth import current_user
from web.errors import STORE_ERRORS, ApiError
from web.identity import use_key
from web.ui.common import services

#: The hidden field of a form that makes its sending count once (:func:`once_per_form`).
FORM_KEY = "form_key"
#: How long a repeated sending waits for the first to finish before it is told to retry.
REPEAT_WAIT = 10.0
#: The flash category that puts a confirmation beside the entry it confirms (``entry-N``).
ENTRY_FLASH = "entry-"
#: What the review page's buttons post besides the form's own values.
FLAGS = ("csrf_token", "confirm", "change", FORM_KEY)
#: The hidden field of an entry form, made when the form is first shown and carried through its "check your
#: answers" page and "Change": the review's key follows from it and the values (:func:`review_key`).
FORM_NONCE = "form_nonce"


def once_per_form(view: Callable[..., Any] | None = None, *, always: bool = False) -> Any:
    """A confirmed form is recorded once, however often it arrives (a double click, a page sent again after a
    lost answer): each rendered "check your answers" page carries its own key (``form_key``), and the first
    answer to it, the redirect to the new entry, is kept (as the API keeps an ``Idempotency-Key``'s). A repeat
    while the first is still running waits for it (then a 503 "try again in a moment"); a refused confirmation
    (the form again) is not kept. The write carries the identity of the form (:mod:`web.identity`); when an
    attempt fails on the server's side (the store went away around its COMMIT), the page sent again finds
    that attempt's write, if it was made, instead of making a second (as the API's repeats do).

    ``always``: for a form without a "check your answers" step (the admin's one-click changes). A view whose
    answer is a page that must not be kept (a password shown once) sets :func:`keep_instead`: the redirect
    a repeat gets instead, with what it says."""
    if view is None:
        return lambda v: once_per_form(v, always=always)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.form.get(FORM_KEY, "")
        if request.method != "POST" or not (always or request.form.get("confirm")) or not valid_key(key):
            return view(*args, **kwargs)
        user, replies, form_key = current_user().name, services().replies, f"form:{key}"
        print_ = fingerprint("POST", request.path, b"", b"")
        try:  # while its first sending is being saved, wait for that answer
            kept, g.resumed_since = replies.resume_waiting(user, form_key, print_, wait_s=REPEAT_WAIT, poll_s=0.1)
        except KeyReused:
            raise ApiError(409, "idempotency_key_reused") from None
        except StillRunning:  # not a conflict: its own first sending is still being saved
            busy = current_app.make_response(current_app.handle_user_exception(ApiError(503, "form_busy")))
            busy.headers["Retry-After"] = "2"
            return busy
        if kept is not None:  # already recorded: where the first went, the entry it made, saying so
            category = kept.headers.get("Flash-Category")
            if category and category.removeprefix(ENTRY_FLASH).isdigit():  # beside an entry of the timeline
                flash(_("Recorded once: this is the entry the form made when it was first sent."), category)
            elif category:
                flash(kept.headers.get("Flash-Message", ""), category)
            return redirect(kept.headers.get("Location") or request.path, code=303)
        use_key(user, form_key)
        flashed = len(session.get("_flashes", []))
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception:
            _abandon(replies, user, form_key)  # it may have written before it failed: the next sending checks
            raise
        except BaseException:
            replies.release(user, form_key)
            raise
        instead = g.get("keep_instead")
        if response.status_code in (302, 303) and "Location" in response.headers:
            kept_headers = {"Location": response.headers["Location"]}
            said = session.get("_flashes", [])[flashed:]
            if said:  # what the first answer said, for a repeat to say again (the first's page may never show)
                kept_headers.update({"Flash-Category": said[-1][0], "Flash-Message": str(said[-1][1])})
            replies.keep(user, form_key, Reply(303, "", kept_headers))
        elif instead is not None and response.status_code == 200:
            location, category, message = instead
            kept_headers = {"Location": location, "Flash-Category": category, "Flash-Message": str(message)}
            replies.keep(user, form_key, Reply(303, "", kept_headers))
        elif response.status_code >= 500:
            _abandon(replies, user, form_key)
        else:
            replies.release(user, form_key)
        return response

    return wrapper


def form_nonce() -> str:
    """The entry form's nonce: the one it was first shown with (sent back by "Change"), or a new one."""
    sent = request.form.get(FORM_NONCE, "") if request.method == "POST" else ""
    return sent if valid_key(sent) and len(sent) <= 64 else secrets.token_urlsafe(18)


def review_key() -> str:
    """The key of a "check your answers" page (:func:`once_per_form`): the same for the same form (its nonce)
    with the same values, so a review page shown again (the browser's Back, then "resend") records once; new
    values, or a form opened anew, make a new key. Without a nonce (a client that sends none), a new one."""
    nonce = request.form.get(FORM_NONCE, "")
    if not valid_key(nonce) or len(nonce) > 64:
        return secrets.token_urlsafe(18)
    values = sorted((name, value) for name, value in request.form.items(multi=True) if name not in FLAGS)
    digest = hashlib.sha256(json.dumps([request.path, values], ensure_ascii=False).encode()).hexdigest()
    return f"r{digest[:40]}"


def keep_instead(location: str, category: str, message: str) -> None:
    """For :func:`once_per_form`: this answer (a page shown once) is not kept; a repeat of the form is sent to
    ``location`` and told ``message``."""
    g.keep_instead = (location, category, message)


def _abandon(replies: Any, user: str, key: str) -> None:
    try:
        replies.abandon(user, key)
    except STORE_ERRORS:  # the store is down: the claim stays open and goes stale (then resumed)
        pass


def form_since() -> datetime | None:
    """When this form's first sending began, when this sending repeats one that ended without an answer."""
    return g.get("resumed_since")


def template_helpers() -> dict[str, Any]:
    """For the templates: an entry form's nonce, and a new key for a form rendered once per page."""
    return {"form_nonce": form_nonce, "new_form_key": lambda: secrets.token_urlsafe(18)}
