"""Sending mail: over SMTP when ``TRACKER_SMTP_URL`` is set, to the log otherwise."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

log = logging.getLogger("tracker.mail")


class MailError(Exception):
    """The message could not be handed to the SMTP server (it stays in the outbox)."""


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str


class Mailer:
    """Hands one message to SMTP (or to the log); raises MailError when the server is unreachable."""

    def __init__(self, smtp_url: str | None, sender: str, timeout: float = 10.0) -> None:
        self.smtp_url = smtp_url
        self.sender = sender
        self.timeout = timeout
        self.logged: list[Mail] = []  # what was "sent" without SMTP, for the operator's log

    def send(self, mail: Mail) -> None:
        message = self._message(mail)
        if not self.smtp_url:
            self.logged.append(mail)
            log.info("mail (no TRACKER_SMTP_URL, not sent) to %s: %s\n%s", ", ".join(mail.to), mail.subject, mail.body)
            return
        url = urlsplit(self.smtp_url)
        try:
            if url.scheme == "smtps":
                client = smtplib.SMTP_SSL(
                    url.hostname or "127.0.0.1",
                    url.port or 465,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(url.hostname or "127.0.0.1", url.port or 25, timeout=self.timeout)
            with client:
                if url.username:
                    client.login(unquote(url.username), unquote(url.password or ""))
                client.send_message(message, from_addr=self.sender, to_addrs=list(mail.to))
        except (OSError, smtplib.SMTPException) as e:
            raise MailError(f"cannot send to {self.smtp_url}: {e}") from e

    def _message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(mail.to)
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="tracker")
        message.set_content(mail.body)
        return message


def recipients(addresses: Sequence[str | None]) -> tuple[str, ...]:
    return tuple(sorted({a for a in addresses if a}))
