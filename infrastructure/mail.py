"""Sending mail: over SMTP when ``TRACKER_SMTP_URL`` is set, to the log otherwise.

Two kinds of failure, kept apart because the outbox treats them differently:

- :class:`MailError`: the server cannot be reached or answers "try later" (an outage): the message stays
  in the outbox and a later run sends it;
- :class:`MessageRefused` (a subclass): this one message can never be sent as it is (the email library
  refuses a header, the server refuses every recipient or the message with a permanent ``5xx``): the
  outbox sets it aside and goes on with the messages behind it.

No message says the SMTP URL's password: :func:`redacted` is the only form of the URL that is ever shown.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit, urlunsplit

log = logging.getLogger("tracker.mail")

#: Whatever ends a line (what ``str.splitlines`` splits on) and every other control character: never in a header.
_NOT_IN_HEADER = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


class MailError(Exception):
    """The message could not be handed to the SMTP server now (it stays in the outbox)."""


class MessageRefused(MailError):
    """This message cannot be sent as it is (a header or an address refused for good): set it aside."""


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str
    #: a stable ``Message-ID`` (``<left@right>``) for a message that may be sent again; a fresh one when None
    message_id: str | None = None


def redacted(url: str | None) -> str:
    """``url`` with its password (if any) replaced by ``***``: the only form of an SMTP URL ever printed."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            if "@" in url:  # not a URL the parser reads, but credentials may stand before the "@"
                return f"{url.partition(':')[0]}:***@{url.rpartition('@')[2]}"
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not even a URL: say nothing of what it holds
        return "(an unreadable URL)"
    return urlunsplit((parts.scheme, f"{user}:***@{host}{port}", parts.path, parts.query, parts.fragment))


def one_line(value: str) -> str:
    """A header value on one line: line breaks and control characters become one space each run."""
    return _NOT_IN_HEADER.sub(" ", value).strip()


class Mailer:
    """Hands one message to SMTP (or to the log); raises MailError when the server is unreachable and
    MessageRefused when this message cannot be sent."""

    def __init__(self, smtp_url: str | None, sender: str, timeout: float = 10.0) -> None:
        self.smtp_url = smtp_url
        self.sender = sender
        self.timeout = timeout
        self.logged: list[Mail] = []  # what was "sent" without SMTP, for the operator's log

    def __repr__(self) -> str:
        return f"Mailer({redacted(self.smtp_url)!r}, {self.sender!r})"

    def send(self, mail: Mail) -> None:
        message = self.message(mail)
        if not self.smtp_url:
            self.logged.append(mail)
            to, subject = ", ".join(mail.to), message["Subject"]
            log.info("mail (no TRACKER_SMTP_URL, not sent) to %s: %s\n%s", to, subject, mail.body)
            return
        where = redacted(self.smtp_url)
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
                refused = client.send_message(message, from_addr=self.sender, to_addrs=list(mail.to))
        except smtplib.SMTPRecipientsRefused as e:
            codes = [code for code, _ in e.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise MessageRefused(f"{where} refused every recipient: {_said(e.recipients)}") from None
            raise MailError(f"cannot send to {where} now: {_said(e.recipients)}") from None
        except smtplib.SMTPDataError as e:
            if e.smtp_code >= 500:
                raise MessageRefused(f"{where} refused the message: {e.smtp_code} {_text(e.smtp_error)}") from None
            raise MailError(f"cannot send to {where} now: {e.smtp_code} {_text(e.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as e:  # e.g. a non-ASCII address and no SMTPUTF8
            raise MessageRefused(f"{where} cannot take this message: {e}") from None
        except (OSError, smtplib.SMTPException, ValueError) as e:
            raise MailError(f"cannot send to {where}: {_scrub(str(e), self.smtp_url)}") from None
        if refused:
            log.warning("mail: %s refused some recipients: %s", where, _said(refused))

    def message(self, mail: Mail) -> EmailMessage:
        """The message as it goes out; MessageRefused when the email library refuses a header."""
        try:
            message = EmailMessage()
            message["From"] = one_line(self.sender)
            message["To"] = ", ".join(one_line(a) for a in mail.to)
            message["Subject"] = one_line(mail.subject)
            message["Date"] = formatdate(localtime=False)
            message["Message-ID"] = mail.message_id or make_msgid(domain="tracker")
            message.set_content(mail.body)
            message.as_bytes()  # what the library refuses to write, it refuses here, not half-way through SMTP
        except (ValueError, TypeError, LookupError, IndexError) as e:  # header parsing and encoding refusals
            raise MessageRefused(f"the message cannot be written: {e}") from None
        return message


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _said(recipients: dict[str, tuple[int, bytes | str]]) -> str:
    return "; ".join(f"{address}: {code} {_text(text)}" for address, (code, text) in recipients.items())


def _scrub(text: str, url: str | None) -> str:
    """``text`` without the URL's password, should a library have quoted it."""
    password = urlsplit(url).password if url else None
    return text.replace(password, "***") if password else text


def message_id(key: str, sender: str) -> str:
    """A ``Message-ID`` that is the same for the same ``key`` (a reminder's id), on the sender's domain."""
    domain = one_line(sender).rpartition("@")[2].strip("<> ") or "tracker"
    left = re.sub(r"[^A-Za-z0-9.-]", "", key) or "message"
    return f"<{left}@{re.sub(r'[^A-Za-z0-9.-]', '', domain) or 'tracker'}>"


def recipients(addresses: Sequence[str | None]) -> tuple[str, ...]:
    return tuple(sorted({a for a in addresses if a}))
