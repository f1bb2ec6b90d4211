"""Users, roles and API tokens: kept apart from the partnerships' log.

Passwords are hashed with argon2; API tokens are random URL-safe strings of
which only the SHA-256 is stored (a token has 256 bits of entropy, so a fast
hash is enough and lets a request find its user with one indexed lookup).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from infrastructure.store import Db

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
        created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {settings} (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL)""",
)


class UserError(ValueError):
    """A user cannot be created as asked; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class User:
    name: str
    role: str
    email: str | None

    def may(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    def __init__(self, db: Db, *, create_tables: bool = True) -> None:
        self.db = db
        self.users = db.table("tracker_users")
        self.settings = db.table("tracker_settings")
        self.hasher = PasswordHasher()
        if create_tables:
            db.run_ddl([s.format(users=self.users, settings=self.settings) for s in DDL])

    def add(self, name: str, role: str, *, email: str | None = None, password: str | None = None) -> str:
        """Create a user; returns the new API token (shown once, stored only hashed)."""
        if not NAME_PATTERN.match(name or ""):
            raise UserError("name", "use 1-64 letters, digits, '.', '_', '@' or '-'")
        if role not in ROLES:
            raise UserError("role", f"must be one of {', '.join(ROLES)}")
        if email is not None and not EMAIL_PATTERN.match(email):
            raise UserError("email", "is not an e-mail address")
        if password is not None and len(password) < 8:
            raise UserError("password", "must have at least 8 characters")
        token = secrets.token_urlsafe(32)
        password_hash = self.hasher.hash(password) if password else None
        with self.db.transaction(write=True) as tx:
            if tx.scalar(f"SELECT COUNT(*) FROM {self.users} WHERE name = ?", (name,)):
                raise UserError("name", f"user {name!r} already exists")
            tx.execute(
                f"INSERT INTO {self.users} (name, role, email, password_hash, token_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, role, email, password_hash, token_hash(token), datetime.now(UTC).isoformat()),
            )
        return token

    def _one(self, where: str, value: str) -> dict | None:
        if "\x00" in value:  # no stored name holds a NUL (PostgreSQL refuses even to compare one)
            return None
        with self.db.transaction(write=False) as tx:
            return tx.execute(
                f"SELECT name, role, email, password_hash FROM {self.users} WHERE {where} = ?", (value,)
            ).fetchone()

    def get(self, name: str) -> User | None:
        row = self._one("name", name)
        return User(row["name"], row["role"], row["email"]) if row else None

    def by_token(self, token: str) -> User | None:
        row = self._one("token_hash", token_hash(token))
        return User(row["name"], row["role"], row["email"]) if row else None

    def check_password(self, name: str, password: str) -> User | None:
        row = self._one("name", name)
        if not row or not row["password_hash"]:
            return None
        try:
            self.hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            return None
        return User(row["name"], row["role"], row["email"])

    def list(self, role: str | None = None) -> list[User]:
        sql, params = f"SELECT name, role, email FROM {self.users}", ()
        if role:
            sql, params = sql + " WHERE role = ?", (role,)
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(sql + " ORDER BY name", params).fetchall()
        return [User(r["name"], r["role"], r["email"]) for r in rows]

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
