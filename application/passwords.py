"""Password hashing with a bound on how many argon2 computations run at once, and equal work for every name.

argon2 (the library's defaults) takes 64 MiB of memory for each hash or verification. Without a bound, a
flood of sign-in attempts makes every server thread hash at once (eight threads: half a gigabyte). A
:class:`PasswordHasherGate` lets at most ``slots`` computations run at a time in a process; the others wait a
little and then give up with :class:`PasswordsBusy` (the web answers 503 with ``Retry-After``).

A sign-in with a name that does not exist (or a user with no password) verifies the password against a dummy
hash made with the same parameters, so it costs what a real check costs: the answer's timing does not tell
which names exist.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")

#: argon2 computations at once in one process (each takes ``memory_cost`` KiB, 64 MiB by default).
DEFAULT_SLOTS = 2
#: How long an attempt waits for a free slot before it is refused as busy (seconds).
DEFAULT_WAIT = 10.0


class PasswordsBusy(RuntimeError):
    """Every hashing slot stayed taken for the whole wait: try again shortly."""

    retry_after = 5


class PasswordHasherGate:
    """argon2 hashing and verification, at most ``slots`` at once; a dummy check for unknown names."""

    def __init__(self, slots: int = DEFAULT_SLOTS, *, wait: float = DEFAULT_WAIT, hasher: PasswordHasher | None = None):
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.hasher = hasher or PasswordHasher()
        self.slots = slots
        self.wait = wait
        self._slots = threading.BoundedSemaphore(slots)
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()
        #: password verifications done (dummy ones included)
        self.verifications = 0

    def _run(self, work: Callable[[], T]) -> T:
        if not self._slots.acquire(timeout=self.wait):
            raise PasswordsBusy("too many password checks at once")
        try:
            return work()
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        """The argon2 hash of ``password`` (waits for a slot; PasswordsBusy when none frees up)."""
        return self._run(lambda: self.hasher.hash(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``; with no hash, the same work against a dummy, False."""
        target = password_hash or self._dummy_hash()

        def check() -> bool:
            self.verifications += 1
            try:
                return bool(self.hasher.verify(target, password))
            except (VerificationError, InvalidHashError):
                return False

        matched = self._run(check)
        return matched and password_hash is not None

    def _dummy_hash(self) -> str:
        """A hash of a random secret with the real parameters, made once (no password ever matches it)."""
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self.hash(secrets.token_urlsafe(32))
            return self._dummy
