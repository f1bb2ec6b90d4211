"""Users, roles, API tokens and browser sessions: kept apart from the partnerships' log.

Passwords are hashed with argon2; API tokens are random URL-safe strings of
which only the SHA-256 is stored (a token has 256 bits of entropy, so a fast
hash is enough and lets a request find its user with one indexed lookup).
A revoked token's hash is replaced by ``revoked:<random>``, which no token hashes to.

Browser sessions live on the server (``tracker_sessions``): the signed cookie carries only a random
session id, of which the table keeps the SHA-256. Signing out deletes the row; disabling a user, a new
password, a revocation and a role change delete all of the user's rows, so a copied cookie stops working
at once. A session also ends after an idle timeout and an absolute lifetime (``Config``).

Every change to a user is appended to the access log (``application.access_log``) in the same transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from application.access_log import APPEND_LOCK, AccessLog
from application.config import Config
from application.passwords import DEFAULT_SLOTS, PasswordHasherGate
from infrastructure.store import Db, Tx

ROLES: tuple[str, ...] = ("officer", "auditor", "manager", "admin")
NAME_PATTERN = re.compile(r"^[\w.@-]{1,64}$")
EMAIL_PATTERN = re.compile(r"^[^@\s\x00]+@[^@\s\x00]+$")  # no NUL: PostgreSQL text cannot hold one

DDL = (
    """CREATE TABLE IF NOT EXISTS {users} (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        email TEXT,
        password_hash TEXT,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        disabled_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS {settings} (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {sessions} (
        id_hash TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_seen BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS tracker_sessions_user ON {sessions} (user_name)",
)
#: What a revoked token's hash becomes: no SHA-256 hex digest contains a colon, so no token matches it.
REVOKED = "revoked:"
#: How often (seconds) a session's ``last_seen`` is written: not on every request.
TOUCH_EVERY = 60
#: Length of a generated password (URL-safe characters, about 6 bits each).
GENERATED_PASSWORD_BYTES = 12


class UserError(ValueError):
    """A user cannot be created or changed as asked; ``field`` names the culprit, ``code`` the condition."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


class UnknownUser(UserError):
    """No user has that name."""

    def __init__(self, name: str) -> None:
        super().__init__("name", f"no user {name!r}", "unknown_user")
        self.name = name


@dataclass(frozen=True)
class User:
    name: str
    role: str
    email: str | None
    disabled: bool = False

    def may(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    def __init__(self, db: Db, *, create_tables: bool = True, password_slots: int = DEFAULT_SLOTS) -> None:
        self.db = db
        self.users = db.table("tracker_users")
        self.settings = db.table("tracker_settings")
        self.sessions = db.table("tracker_sessions")
        self.access_log = AccessLog(db)
        self.passwords = PasswordHasherGate(password_slots)  # argon2 at most `slots` at once (memory)
        self.hasher = self.passwords.hasher
        if create_tables:
            db.run_ddl(
                [s.format(users=self.users, settings=self.settings, sessions=self.sessions) for s in DDL]
                + self.access_log.ddl()
            )
            self._upgrade()

    def _upgrade(self) -> None:
        """Bring a store made by an earlier version up to date: the ``disabled_at`` column, and one
        ``user_existing`` entry in the access log for each user that existed before the access log did."""
        if self.db.dialect == "postgres":
            self.db.run_ddl([f"ALTER TABLE {self.users} ADD COLUMN IF NOT EXISTS disabled_at TEXT"])
        else:
            with self.db.transaction(write=False) as tx:
                columns = {r["name"] for r in tx.execute("PRAGMA table_info(tracker_users)").fetchall()}
            if "disabled_at" not in columns:
                self.db.run_ddl([f"ALTER TABLE {self.users} ADD COLUMN disabled_at TEXT"])
        with self.db.transaction(write=True) as tx:
            tx.lock(APPEND_LOCK)
            if tx.scalar(f"SELECT COUNT(*) FROM {self.access_log.table}"):
                return
            rows = tx.execute(f"SELECT name, role, disabled_at FROM {self.users} ORDER BY name").fetchall()
            for row in rows:
                data = {"role": row["role"], "disabled": row["disabled_at"] is not None}
                self.access_log.append(tx, actor="system", action="user_existing", subject=row["name"], data=data)

    def add(
        self,
        name: str,
        role: str,
        *,
        email: str | None = None,
        password: str | None = None,
        actor: str = "system",
    ) -> str:
        """Create a user as ``actor`` (kept in the access log); returns the new API token (shown once, stored
        only hashed)."""
        if not NAME_PATTERN.match(name or ""):
            raise UserError("name", "use 1-64 letters, digits, '.', '_', '@' or '-'", "bad_name")
        if role not in ROLES:
            raise UserError("role", f"must be one of {', '.join(ROLES)}", "unknown_role")
        if email is not None and not EMAIL_PATTERN.match(email):
            raise UserError("email", "is not an e-mail address", "bad_email")
        if password is not None:
            check_password_rules(password)
        token = secrets.token_urlsafe(32)
        password_hash = self.hasher.hash(password) if password else None
        with self.db.transaction(write=True) as tx:
            if tx.scalar(f"SELECT COUNT(*) FROM {self.users} WHERE name = ?", (name,)):
                raise UserError("name", f"user {name!r} already exists", "user_exists")
            tx.execute(
                f"INSERT INTO {self.users} (name, role, email, password_hash, token_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, role, email, password_hash, token_hash(token), datetime.now(UTC).isoformat()),
            )
            self.access_log.append(
                tx, actor=actor, action="user_added", subject=name, data={"role": role, "email": email}
            )
        return token

    def _one(self, where: str, value: str) -> dict | None:
        if "\x00" in value:  # no stored name holds a NUL (PostgreSQL refuses even to compare one)
            return None
        with self.db.transaction(write=False) as tx:
            return tx.execute(
                f"SELECT name, role, email, password_hash, disabled_at FROM {self.users} WHERE {where} = ?", (value,)
            ).fetchone()

    def get(self, name: str) -> User | None:
        """The user of that name, enabled or not (None when there is none)."""
        row = self._one("name", name)
        return _user(row) if row else None

    def by_token(self, token: str) -> User | None:
        """The enabled user whose API token this is (a disabled user's or a revoked token: None)."""
        row = self._one("token_hash", token_hash(token))
        return _user(row) if row and row["disabled_at"] is None else None

    def check_password(self, name: str, password: str) -> User | None:
        row = self._one("name", name)
        # an unknown name (or no password) costs one argon2 check too: the timing tells no names
        if not self.passwords.verify(row["password_hash"] if row else None, password):
            return None
        if row["disabled_at"] is not None:  # the same answer as a wrong password
            return None
        return _user(row)

    def list(self, role: str | None = None, *, include_disabled: bool = False) -> list[User]:
        """The users (of one role), by name; disabled ones only when asked (they get no mail)."""
        sql, params = f"SELECT name, role, email, disabled_at FROM {self.users} WHERE 1 = 1", ()
        if role:
            sql, params = sql + " AND role = ?", (role,)
        if not include_disabled:
            sql += " AND disabled_at IS NULL"
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(sql + " ORDER BY name", params).fetchall()
        return [_user(r) for r in rows]

    def count(self) -> int:
        with self.db.transaction(write=False) as tx:
            return tx.scalar(f"SELECT COUNT(*) FROM {self.users}") or 0

    def get_setting(self, name: str) -> str | None:
        """A named setting, or None when it was never set."""
        with self.db.transaction(write=False) as tx:
            return tx.scalar(f"SELECT value FROM {self.settings} WHERE name = ?", (name,))

    def setting(self, name: str, default: str) -> str:
        """A named setting, created with ``default`` on first use (first writer wins)."""
        with self.db.transaction(write=True) as tx:
            tx.execute(
                f"INSERT INTO {self.settings} (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                (name, default),
            )
            return tx.scalar(f"SELECT value FROM {self.settings} WHERE name = ?", (name,))

    def put_setting(self, name: str, value: str) -> None:
        """Set a named setting, replacing what it held (the last writer wins)."""
        with self.db.transaction(write=True) as tx:
            tx.execute(
                f"INSERT INTO {self.settings} (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    # --- the lifecycle: every change in one transaction with its access-log entry -----------

    def describe(self, *, idle_seconds: int, lifetime_seconds: int) -> list[dict]:
        """Every user with what an admin needs to see (no secrets): role, state, password and token set,
        live sessions, when created and disabled."""
        now = int(time.time())
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                f"SELECT u.name, u.role, u.email, u.created_at, u.disabled_at,"
                f" u.password_hash IS NOT NULL AS has_password, u.token_hash NOT LIKE 'revoked:%' AS has_token,"
                f" (SELECT COUNT(*) FROM {self.sessions} s WHERE s.user_name = u.name"
                f"  AND s.last_seen >= ? AND s.created_at >= ?) AS sessions"
                f" FROM {self.users} u ORDER BY u.name",
                (now - idle_seconds, now - lifetime_seconds),
            ).fetchall()
        return [
            {
                **r,
                "disabled": r["disabled_at"] is not None,
                "has_password": bool(r["has_password"]),
                "has_token": bool(r["has_token"]),
                "sessions": int(r["sessions"]),
            }
            for r in rows
        ]

    def disable(self, name: str, *, actor: str) -> int:
        """The user may no longer sign in: every session and the API token end now; the sessions ended."""
        with self.db.transaction(write=True) as tx:
            row = self._locked(tx, name)
            if row["disabled_at"] is not None:
                raise UserError("name", f"user {name!r} is already disabled", "already_disabled")
            self._keep_an_admin(tx, row, "disable")
            tx.execute(
                f"UPDATE {self.users} SET disabled_at = ?, token_hash = ? WHERE name = ?",
                (datetime.now(UTC).isoformat(), _revoked(), name),
            )
            ended = self._end_sessions(tx, name)
            self.access_log.append(tx, actor=actor, action="user_disabled", subject=name)
        return ended

    def enable(self, name: str, *, actor: str) -> None:
        """The user may sign in again (the old API token stays revoked: issue a new one)."""
        with self.db.transaction(write=True) as tx:
            row = self._locked(tx, name)
            if row["disabled_at"] is None:
                raise UserError("name", f"user {name!r} is not disabled", "not_disabled")
            tx.execute(f"UPDATE {self.users} SET disabled_at = NULL WHERE name = ?", (name,))
            self.access_log.append(tx, actor=actor, action="user_enabled", subject=name)

    def set_role(self, name: str, role: str, *, actor: str) -> int:
        """Give the user another role; their sessions end (they sign in again under it); the sessions ended."""
        if role not in ROLES:
            raise UserError("role", f"must be one of {', '.join(ROLES)}", "unknown_role")
        with self.db.transaction(write=True) as tx:
            row = self._locked(tx, name)
            if row["role"] == role:
                raise UserError("role", f"user {name!r} already has role {role!r}", "same_role")
            if role != "admin":
                self._keep_an_admin(tx, row, "demote")
            tx.execute(f"UPDATE {self.users} SET role = ? WHERE name = ?", (role, name))
            ended = self._end_sessions(tx, name)
            self.access_log.append(
                tx, actor=actor, action="role_changed", subject=name, data={"from": row["role"], "to": role}
            )
        return ended

    def reset_password(self, name: str, *, actor: str, password: str | None = None) -> str:
        """Set a new password (a random one unless given); every session and the API token end now.
        Returns the password, to be shown once."""
        if password is None:
            password = self.new_password()
        check_password_rules(password)
        password_hash = self.hasher.hash(password)
        with self.db.transaction(write=True) as tx:
            self._locked(tx, name)
            tx.execute(
                f"UPDATE {self.users} SET password_hash = ?, token_hash = ? WHERE name = ?",
                (password_hash, _revoked(), name),
            )
            self._end_sessions(tx, name)
            self.access_log.append(tx, actor=actor, action="password_reset", subject=name)
        return password

    @staticmethod
    def new_password() -> str:
        """A random password (URL-safe characters), to be shown once."""
        return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)

    def new_token(self, name: str, *, actor: str) -> str:
        """A new API token for the user (shown once); the old one stops working at once."""
        token = secrets.token_urlsafe(32)
        with self.db.transaction(write=True) as tx:
            self._locked(tx, name)
            tx.execute(f"UPDATE {self.users} SET token_hash = ? WHERE name = ?", (token_hash(token), name))
            self.access_log.append(tx, actor=actor, action="token_issued", subject=name)
        return token

    def revoke_tokens(self, name: str, *, actor: str) -> int:
        """End the user's API token and every session now; the sessions ended."""
        with self.db.transaction(write=True) as tx:
            self._locked(tx, name)
            tx.execute(f"UPDATE {self.users} SET token_hash = ? WHERE name = ?", (_revoked(), name))
            ended = self._end_sessions(tx, name)
            self.access_log.append(tx, actor=actor, action="tokens_revoked", subject=name)
        return ended

    def verify_access_log(self, digest: tuple[int, str] | None = None) -> dict:
        """The access log's chain (against a digest kept earlier) and the users' roles and states against it."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(f"SELECT name, role, disabled_at FROM {self.users}").fetchall()
        users = [{"name": r["name"], "role": r["role"], "disabled": r["disabled_at"] is not None} for r in rows]
        return self.access_log.verify(users, digest)

    def _locked(self, tx: Tx, name: str) -> dict:
        """The user's row inside a write transaction (serialized with every other access-log append)."""
        tx.lock(APPEND_LOCK)
        row = None
        if "\x00" not in (name or ""):
            row = tx.execute(f"SELECT name, role, disabled_at FROM {self.users} WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise UnknownUser(name)
        return row

    def _keep_an_admin(self, tx: Tx, row: dict, what: str) -> None:
        """Refuse to disable or demote the last enabled admin (nobody could manage users any more)."""
        if row["role"] != "admin" or row["disabled_at"] is not None:
            return
        admins = tx.scalar(f"SELECT COUNT(*) FROM {self.users} WHERE role = 'admin' AND disabled_at IS NULL")
        if admins <= 1:
            raise UserError("name", f"cannot {what} {row['name']!r}: the last enabled admin", "last_admin")

    # --- browser sessions ---------------------------------------------------------------------

    def open_session(self, name: str, *, idle_seconds: int, lifetime_seconds: int) -> str:
        """A new session for the user; returns its id (for the signed cookie; the table keeps its hash).
        Every session expired by then (anyone's) is deleted in the same transaction."""
        session_id = secrets.token_urlsafe(32)
        now = int(time.time())
        with self.db.transaction(write=True) as tx:
            tx.execute(
                f"DELETE FROM {self.sessions} WHERE last_seen < ? OR created_at < ?",
                (now - idle_seconds, now - lifetime_seconds),
            )
            tx.execute(
                f"INSERT INTO {self.sessions} (id_hash, user_name, created_at, last_seen) VALUES (?, ?, ?, ?)",
                (token_hash(session_id), name, now, now),
            )
        return session_id

    def session_user(self, session_id: str, *, idle_seconds: int, lifetime_seconds: int) -> User | None:
        """The enabled user of a live session, or None (unknown, ended, idle too long or too old: then the
        row is deleted). ``last_seen`` is written at most every ``TOUCH_EVERY`` seconds."""
        if not isinstance(session_id, str) or "\x00" in session_id:
            return None
        key, now = token_hash(session_id), int(time.time())
        with self.db.transaction(write=False) as tx:
            row = tx.execute(
                f"SELECT s.created_at, s.last_seen, u.name, u.role, u.email, u.disabled_at"
                f" FROM {self.sessions} s JOIN {self.users} u ON u.name = s.user_name WHERE s.id_hash = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        expired = now - int(row["last_seen"]) > idle_seconds or now - int(row["created_at"]) > lifetime_seconds
        if expired or row["disabled_at"] is not None:
            self.end_session(session_id)
            return None
        if now - int(row["last_seen"]) >= TOUCH_EVERY:
            with self.db.transaction(write=True) as tx:
                tx.execute(f"UPDATE {self.sessions} SET last_seen = ? WHERE id_hash = ?", (now, key))
        return _user(row)

    def end_session(self, session_id: str) -> None:
        """Sign out: the session's row is deleted, so its cookie is worthless even if it was copied."""
        if not isinstance(session_id, str) or "\x00" in session_id:
            return
        with self.db.transaction(write=True) as tx:
            tx.execute(f"DELETE FROM {self.sessions} WHERE id_hash = ?", (token_hash(session_id),))

    def _end_sessions(self, tx: Tx, name: str) -> int:
        tx.execute(f"DELETE FROM {self.sessions} WHERE user_name = ?", (name,))
        return max(tx.cursor.rowcount or 0, 0)


def session_limits(config: Config) -> dict[str, int]:
    """The idle timeout and absolute lifetime of a browser session, in seconds (keyword arguments of
    :meth:`UserStore.open_session`, :meth:`UserStore.session_user` and :meth:`UserStore.describe`)."""
    return {"idle_seconds": config.session_idle_minutes * 60, "lifetime_seconds": config.session_hours * 3600}


def check_password_rules(password: str) -> None:
    """Refuse (UserError on ``password``) a password too short to keep anyone out, or too long to hash."""
    if len(password) < 8:
        raise UserError("password", "must have at least 8 characters", "password_too_short")
    if len(password) > 1024:
        raise UserError("password", "must have at most 1024 characters", "password_too_long")


def _user(row: dict) -> User:
    return User(row["name"], row["role"], row["email"], row.get("disabled_at") is not None)


def _revoked() -> str:
    return REVOKED + secrets.token_hex(16)
