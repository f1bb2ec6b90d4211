"""Managing users (admin) and reading the access log (auditor, admin): the same commands as `tracker users`.

Every change is made as the signed-in admin, whose name the access log keeps. A new password or API token
is shown once, on the answer to the form that made it (never in a redirect, never stored in the clear).
A change that ends the user's sessions or API token at once (disabling, a new password, a new token, a
revocation) is asked for first and made only on "Confirm": the first post shows what it would do and changes
nothing. The form adding a user checks every field before anything is stored and reports all problems at once.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from application import access_log
from application.users import EMAIL_PATTERN, NAME_PATTERN, ROLES, UserError, session_limits
from web.auth import AUDITORS, current_user
from web.ui.common import role_required, services
from web.ui.once import keep_instead, once_per_form

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50
ADMINS = ("admin",)

#: What each access-log action is called on the page.
ACTION_LABELS = {
    "user_added": _l("user added"),
    "user_existing": _l("user already there when the access log began"),
    "user_disabled": _l("user disabled"),
    "user_enabled": _l("user enabled"),
    "role_changed": _l("role changed"),
    "password_reset": _l("new password"),
    "token_issued": _l("new API token"),
    "tokens_revoked": _l("API token and sessions revoked"),
}
#: A refused change, by the condition's code (``UserError.code``), in the page's language.
REFUSALS = {
    "bad_name": _l("Use 1 to 64 letters, digits, '.', '_', '@' or '-'."),
    "unknown_role": _l("Choose one of the roles."),
    "bad_email": _l("This is not an e-mail address."),
    "user_exists": _l("A user with this name already exists."),
    "unknown_user": _l("There is no such user."),
    "already_disabled": _l("This user is already disabled."),
    "not_disabled": _l("This user is not disabled."),
    "same_role": _l("The user already has this role."),
    "last_admin": _l("This is the last enabled administrator: nobody could manage users any more."),
    "password_too_short": _l("The password must have at least 8 characters."),
    "password_too_long": _l("The password must have at most 1024 characters."),
}
FIELD_NAMES = {"name": _l("User name"), "role": _l("Role"), "email": _l("E-mail"), "password": _l("Password")}
#: A refused change to an existing user, as one sentence naming the user (``%(name)s``).
USER_REFUSALS = {
    "unknown_user": _l("There is no user %(name)s."),
    "already_disabled": _l("%(name)s is already disabled."),
    "not_disabled": _l("%(name)s is not disabled."),
    "same_role": _l("%(name)s already has this role."),
    "last_admin": _l("%(name)s is the last enabled administrator: nobody could manage users any more."),
}
#: The add-user form's fields, in the form's order.
ADD_FIELDS = ("name", "role", "email")
#: The changes asked for before they are made, each ending the user's sessions or API token at once:
#: (title, what it does, the confirm button).
CONFIRMED = {
    "disable": (
        _l("Disable user %(name)s?"),
        _l("This ends their sessions and their API token at once. They cannot sign in until enabled again."),
        _l("Disable %(name)s"),
    ),
    "password": (
        _l("A new password for user %(name)s?"),
        _l("This ends their sessions and their API token at once; the old password stops working."),
        _l("Make a new password"),
    ),
    "token": (
        _l("A new API token for user %(name)s?"),
        _l("The old API token stops working at once: programs using it must get the new one."),
        _l("Make a new API token"),
    ),
    "revoke": (
        _l("Revoke the API token and sessions of user %(name)s?"),
        _l("This ends their sessions and their API token at once; they keep their password and can sign in again."),
        _l("Revoke"),
    ),
}


def _actor() -> str:
    return current_user().name


def _refusal(error: UserError, subject: str) -> str:
    """A refused change to the user ``subject`` as one sentence in the page's language."""
    if error.code in USER_REFUSALS:
        return str(USER_REFUSALS[error.code]) % {"name": subject}
    return str(REFUSALS.get(error.code, error.message))


def render_users(
    *,
    error: UserError | None = None,
    subject: str | None = None,
    added: dict | None = None,
    problems: dict[str, str] | None = None,
) -> Any:
    """The users page; ``error`` with ``subject``: a refused change to that user (shown at the top);
    ``problems``: the add-user form's field problems (shown above the form and beside each field)."""
    s = services()
    context = {
        "users": s.users.describe(**session_limits(s.config)),
        "roles": ROLES,
        "refusal": _refusal(error, subject or "") if error else None,
        "subject": subject,
        "added": added or {"name": "", "role": "", "email": ""},
        "problems": problems or {},
        "field_names": FIELD_NAMES,
        "add_fields": ADD_FIELDS,
        "me": current_user().name,
    }
    status = 200 if error is None and not problems else 404 if error and error.code == "unknown_user" else 422
    return render_template("admin/users.html", **context), status


#: What a repeat of a form whose answer showed a secret once is told instead (the secret is not kept).
SHOWN_ONCE = {
    "added": _l(
        "%(name)s was added by the first sending of this form; its password and API token were shown in that"
        " answer. If you did not see them, give %(name)s a new password."
    ),
    "password": _l(
        "A new password for %(name)s was made by the first sending of this form and shown in that answer. If you"
        " did not see it, make a new password again."
    ),
    "token": _l(
        "A new API token for %(name)s was made by the first sending of this form and shown in that answer. If you"
        " did not see it, make a new token again."
    ),
}


@bp.get("/users")
@role_required(*ADMINS)
def users() -> Any:
    return render_users()


@bp.post("/users")
@role_required(*ADMINS)
@once_per_form(always=True)  # a double click adds once; the second is told where the password was shown
def add_user() -> Any:
    """Create a user with a random password; shows the password and the API token once."""
    s = services()
    name = request.form.get("name", "").strip()
    role = request.form.get("role", "")
    email = request.form.get("email", "").strip() or None
    added = {"name": name, "role": role, "email": email or ""}
    problems = _add_problems(name, role, email)
    if problems:
        return render_users(added=added, problems=problems)
    password = s.users.new_password()
    try:
        token = s.users.add(name, role, email=email, password=password, actor=_actor())
    except UserError as e:  # the store's own refusal (a user of that name added meanwhile)
        field = e.field if e.field in ADD_FIELDS else "name"
        return render_users(added=added, problems={field: str(REFUSALS.get(e.code, e.message))})
    keep_instead(url_for("admin.users", _anchor=f"user-{name}"), "success", str(SHOWN_ONCE["added"]) % {"name": name})
    return render_template("admin/secret.html", subject=name, password=password, token=token, what="added")


def _add_problems(name: str, role: str, email: str | None) -> dict[str, str]:
    """Every field's problem at once (the store checks them again, one at a time, when adding)."""
    problems: dict[str, str] = {}
    if not NAME_PATTERN.match(name):
        problems["name"] = str(REFUSALS["bad_name"])
    elif services().users.get(name) is not None:
        problems["name"] = str(REFUSALS["user_exists"])
    if role not in ROLES:
        problems["role"] = str(REFUSALS["unknown_role"])
    if email is not None and not EMAIL_PATTERN.match(email):
        problems["email"] = str(REFUSALS["bad_email"])
    return problems


def _confirmed(name: str, change: str) -> Any:
    """None when the post confirms the change; else the page asking for it (or the refusal, when it cannot be
    made: no such user, already disabled, the last enabled administrator). Nothing is changed here."""
    if request.form.get("confirm") == "1":
        return None
    s = services()
    users = {u["name"]: u for u in s.users.describe(**session_limits(s.config))}
    user = users.get(name)
    refusal = None
    if user is None:
        refusal = UserError("name", f"no user {name!r}", "unknown_user")
    elif change == "disable" and user["disabled"]:
        refusal = UserError("name", f"user {name!r} is already disabled", "already_disabled")
    elif change == "disable" and user["role"] == "admin":
        if sum(1 for u in users.values() if u["role"] == "admin" and not u["disabled"]) <= 1:
            refusal = UserError("name", f"cannot disable {name!r}: the last enabled admin", "last_admin")
    if refusal:
        return render_users(error=refusal, subject=name)
    title, effect, button = CONFIRMED[change]
    return render_template(
        "admin/confirm.html",
        subject=name,
        target=user,  # not "user": base.html names the signed-in user so
        title=str(title) % {"name": name},
        effect=effect,
        button=str(button) % {"name": name},
        action=request.path,
    )


def _change(name: str, change: Any, message: str) -> Any:
    try:
        change()
    except UserError as e:
        return render_users(error=e, subject=name)
    flash(message, "success")
    return redirect(url_for("admin.users"))  # at the top, where the confirmation is shown (the row says it too)


@bp.post("/users/<name>/disable")
@role_required(*ADMINS)
@once_per_form(always=True)
def disable(name: str) -> Any:
    if (asked := _confirmed(name, "disable")) is not None:
        return asked
    return _change(
        name,
        lambda: services().users.disable(name, actor=_actor()),
        _("%(name)s is disabled: their sessions and API token have ended.", name=name),
    )


@bp.post("/users/<name>/enable")
@role_required(*ADMINS)
@once_per_form(always=True)
def enable(name: str) -> Any:
    return _change(
        name,
        lambda: services().users.enable(name, actor=_actor()),
        _("%(name)s is enabled again. Give them a new password or API token.", name=name),
    )


@bp.post("/users/<name>/role")
@role_required(*ADMINS)
@once_per_form(always=True)
def set_role(name: str) -> Any:
    role = request.form.get("role", "")
    return _change(
        name,
        lambda: services().users.set_role(name, role, actor=_actor()),
        _("%(name)s has a new role; their sessions have ended.", name=name),
    )


@bp.post("/users/<name>/revoke")
@role_required(*ADMINS)
@once_per_form(always=True)
def revoke(name: str) -> Any:
    if (asked := _confirmed(name, "revoke")) is not None:
        return asked
    return _change(
        name,
        lambda: services().users.revoke_tokens(name, actor=_actor()),
        _("The API token and every session of %(name)s have ended.", name=name),
    )


@bp.post("/users/<name>/password")
@role_required(*ADMINS)
@once_per_form(always=True)
def reset_password(name: str) -> Any:
    """A new random password, shown once; the user's sessions and API token end."""
    if (asked := _confirmed(name, "password")) is not None:
        return asked
    try:
        password = services().users.reset_password(name, actor=_actor())
    except UserError as e:
        return render_users(error=e, subject=name)
    keep_instead(
        url_for("admin.users", _anchor=f"user-{name}"), "success", str(SHOWN_ONCE["password"]) % {"name": name}
    )
    return render_template("admin/secret.html", subject=name, password=password, token=None, what="password")


@bp.post("/users/<name>/token")
@role_required(*ADMINS)
@once_per_form(always=True)
def new_token(name: str) -> Any:
    """A new API token, shown once; the old one stops working."""
    if (asked := _confirmed(name, "token")) is not None:
        return asked
    try:
        token = services().users.new_token(name, actor=_actor())
    except UserError as e:
        return render_users(error=e, subject=name)
    keep_instead(url_for("admin.users", _anchor=f"user-{name}"), "success", str(SHOWN_ONCE["token"]) % {"name": name})
    return render_template("admin/secret.html", subject=name, password=None, token=token, what="token")


# --- the access log ------------------------------------------------------------------------------------


#: The access log's orders (newest first unless asked otherwise).
ORDERS = {"newest": _l("Newest first"), "oldest": _l("Oldest first")}


def _cursor(raw: str | None) -> int | None:
    """A page's starting position from the query string (None when absent or not a position)."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def access_log_query() -> dict[str, Any]:
    """What the access-log page's query string asks for: the order, the user and actor filters, the cursor."""
    order = request.args.get("order", "")
    newest = order != "oldest"
    return {
        "newest": newest,
        "subject": request.args.get("subject", ""),
        "actor": request.args.get("actor", ""),
        "cursor": _cursor(request.args.get("before" if newest else "after")),
    }


def access_log_page_of(entries: list[dict], asked: dict[str, Any], limit: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of the matching entries in the asked order, with the cursors of the pages before and after it.

    The access log holds one entry per change to a user (hundreds, rarely thousands), so it is read whole and
    filtered here. ``after`` (oldest first) and ``before`` (newest first) are positions: a page stays the same
    page while new entries are appended. ``previous`` is None on the first page; on the second it is 0 (oldest
    first) or None with ``start`` true.
    """
    matching = [
        e
        for e in entries
        if (not asked["subject"] or e["subject"] == asked["subject"])
        and (not asked["actor"] or e["actor"] == asked["actor"])
    ]
    newest, cursor = asked["newest"], asked["cursor"]
    if newest:
        matching.reverse()
    if cursor is None:
        first = 0
    else:
        first = next(
            (i for i, e in enumerate(matching) if (e["position"] < cursor if newest else e["position"] > cursor)),
            len(matching),
        )
    items = matching[first : first + limit]
    has_next = first + limit < len(matching)
    start_of_previous = first - limit
    if first == 0:
        previous: dict[str, int] | None = None
    elif start_of_previous <= 0:
        previous = {}  # the first page
    else:
        previous = {"before" if newest else "after": matching[start_of_previous - 1]["position"]}
    return {
        "items": items,
        "total": len(matching),
        "next": {"before" if newest else "after": items[-1]["position"]} if has_next and items else None,
        "previous": previous,
    }


def render_access_log(report: dict | None = None, digest: str = "", digest_error: bool = False) -> Any:
    log = services().users.access_log
    entries = list(log.entries())
    asked = access_log_query()
    kept = {k: v for k, v in (("subject", asked["subject"]), ("actor", asked["actor"])) if v}
    if not asked["newest"]:
        kept["order"] = "oldest"
    page = access_log_page_of(entries, asked, PAGE_SIZE)
    for link in ("previous", "next"):  # the pager's links keep the order and the filters
        page[link] = None if page[link] is None else {**kept, **page[link]}
    context = {
        "page": page,
        "asked": asked,
        "kept": kept,
        "orders": ORDERS,
        "subjects": sorted({e["subject"] for e in entries}),
        "actors": sorted({e["actor"] for e in entries}),
        "head": access_log.format_digest(log.head()),
        "labels": ACTION_LABELS,
        "report": report,
        "digest": digest,
        "digest_error": digest_error,
    }
    return render_template("admin/access_log.html", **context), 422 if digest_error else 200


@bp.get("/access-log")
@role_required(*AUDITORS)
def access_log_page() -> Any:
    return render_access_log()


@bp.post("/access-log/verify")
@role_required(*AUDITORS)
def verify_access_log() -> Any:
    """The access log's chain (against an ``access:`` digest kept earlier) and the users against it."""
    digest = request.form.get("digest", "").strip()
    try:
        kept = access_log.parse_digest(digest) if digest else None
    except ValueError:
        return render_access_log(digest=digest, digest_error=True)
    return render_access_log(report=services().verify_access_log(kept), digest=digest)
