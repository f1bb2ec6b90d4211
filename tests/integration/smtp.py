"""A real SMTP server on 127.0.0.1 for the mail tests (aiosmtpd), collecting what it accepts.

It can simulate an outage two ways: :meth:`SmtpServer.stop` takes the listener down (connections
are refused until :meth:`SmtpServer.start`), and :meth:`SmtpServer.refuse` / :meth:`SmtpServer.accept_only`
make it answer ``451`` to the DATA of the next messages, as a busy or broken relay does.

Use it as a context manager, or through a module fixture::

    @pytest.fixture
    def smtp() -> Iterator[SmtpServer]:
        with SmtpServer() as server:
            yield server
"""

from __future__ import annotations

import email
import email.policy
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from .helpers import free_port

REFUSAL = "451 4.3.0 Mail server temporarily unavailable, try again later"


class Collector:
    """The aiosmtpd handler: keeps accepted envelopes, answers 451 while told to refuse."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refused = 0
        #: how many more messages to answer 451 (-1: every message until told otherwise)
        self._refuse: int = 0
        #: accept this many more messages, then refuse every one (None: no limit)
        self._budget: int | None = None
        #: recipients answered 451 at RCPT (a mailbox temporarily unavailable)
        self.refused_recipients: set[str] = set()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refused_recipients:
            return "451 4.2.1 Mailbox temporarily unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            refuse = self._refuse != 0 or self._budget == 0
            if refuse:
                self.refused += 1
                if self._refuse > 0:
                    self._refuse -= 1
                return REFUSAL
            if self._budget is not None:
                self._budget -= 1
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd controller on a free loopback port, restartable on the same port."""

    def __init__(self) -> None:
        self.hostname = "127.0.0.1"
        self.port = free_port()
        self.handler = Collector()
        self.controller: Controller | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> SmtpServer:
        if self.controller is None:
            self.controller = Controller(self.handler, hostname=self.hostname, port=self.port, ready_timeout=10)
            self.controller.start()
        return self

    def stop(self) -> None:
        """Take the server down: connections to the port are refused until :meth:`start`."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The ``TRACKER_SMTP_URL`` that reaches this server."""
        return f"smtp://{self.hostname}:{self.port}"

    # --- outages ----------------------------------------------------------------------------

    def refuse(self, count: int = -1) -> None:
        """Answer 451 to the next ``count`` messages (every message until :meth:`recover` when -1)."""
        with self.handler._lock:  # noqa: SLF001 - the handler is ours
            self.handler._refuse = count  # noqa: SLF001
            self.handler._budget = None  # noqa: SLF001

    def accept_only(self, count: int) -> None:
        """Accept the next ``count`` messages, then answer 451 to every one until :meth:`recover`."""
        with self.handler._lock:  # noqa: SLF001
            self.handler._refuse = 0  # noqa: SLF001
            self.handler._budget = count  # noqa: SLF001

    def refuse_recipient(self, address: str) -> None:
        """Answer 451 at RCPT for this one address (the others are accepted)."""
        self.handler.refused_recipients.add(address)

    def recover(self) -> None:
        """Accept every message again."""
        with self.handler._lock:  # noqa: SLF001
            self.handler._refuse = 0  # noqa: SLF001
            self.handler._budget = None  # noqa: SLF001

    # --- what arrived -------------------------------------------------------------------------

    @property
    def envelopes(self) -> list[Any]:
        with self.handler._lock:  # noqa: SLF001
            return list(self.handler.envelopes)

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted message, parsed (headers decoded, so a Polish subject reads as written)."""
        return [parse(e.original_content) for e in self.envelopes]

    @property
    def refused(self) -> int:
        return self.handler.refused


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def body_of(message: EmailMessage) -> str:
    """The decoded text body of a message."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no text/plain body"
    return part.get_content()
