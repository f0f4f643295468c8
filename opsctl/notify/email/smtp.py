"""One SMTP session that hands one message to the relay, bounded in time, or a :class:`SmtpProblem`.

- **deadlines**: the connection and each command wait at most ``timeout``
  (the socket's timeout), and the whole session ends by ``deadline``: a
  watchdog shuts the socket down when it passes, so a server that drips one
  byte a second cannot hold a deploy;
- **TLS**: ``starttls`` upgrades the connection before anything else is
  said, and a server that does not offer STARTTLS is refused (nothing is sent
  in the clear by a silent downgrade); ``ssl`` is TLS from the first byte.
  Certificates and the host name are verified (``ca_file`` names a private CA);
- **login** only when credentials are given, after TLS;
- the EHLO name is this host's name, found without DNS.

Which problems may pass if tried again is decided here (:attr:`SmtpProblem.retryable`):
network errors and 4xx replies may; 5xx replies and TLS or certificate problems will not.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from opsctl.net.deadline import Deadline


@dataclass(frozen=True)
class Transport:
    """Where and how to send: the relay, TLS, credentials (already read from their env vars)."""

    host: str
    port: int
    starttls: bool
    ssl: bool
    timeout: float
    ca_file: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


class SmtpProblem(Exception):
    """Why the message was not handed over, in one line; ``retryable`` when trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def send(
    transport: Transport, message: EmailMessage, sender: str, to: Sequence[str], deadline: Deadline
) -> dict[str, str]:
    """Hand ``message`` over for ``to``; the recipients the server refused (address -> its reply), if any.

    Raises SmtpProblem when nobody was handed the message.
    """
    context = ssl.create_default_context(cafile=transport.ca_file)
    timeout = max(0.001, min(transport.timeout, deadline.remaining()))
    hostname = socket.gethostname() or "localhost"  # smtplib's default, getfqdn(), may ask DNS
    smtp = (
        _SmtpSsl(local_hostname=hostname, timeout=timeout, context=context)
        if transport.ssl
        else _Smtp(local_hostname=hostname, timeout=timeout)
    )
    # Armed before connecting: a server that drips its greeting is cut off too.
    watchdog = threading.Timer(deadline.remaining(), _cut, args=(smtp,))
    watchdog.daemon = True
    watchdog.start()
    try:
        smtp.connect(transport.host, transport.port)
        return _session(smtp, transport, context=context, message=message, sender=sender, to=to)
    except SmtpProblem:
        raise
    except Exception as exc:
        raise problem_of(exc, transport, deadline) from None
    finally:
        watchdog.cancel()
        with suppress(Exception):
            smtp.close()


class _Smtp(smtplib.SMTP):
    """smtplib's client, which remembers the host it connects to (Python 3.11 does so only in ``__init__``).

    STARTTLS checks the server's certificate against that name.
    """

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> tuple[int, bytes]:
        self._host = host
        return super().connect(host, port, source_address)


class _SmtpSsl(smtplib.SMTP_SSL):
    """:class:`_Smtp` for implicit TLS: the TLS handshake checks the certificate against the host."""

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> tuple[int, bytes]:
        self._host = host
        return super().connect(host, port, source_address)


def _session(
    smtp: smtplib.SMTP,
    transport: Transport,
    *,
    context: ssl.SSLContext,
    message: EmailMessage,
    sender: str,
    to: Sequence[str],
) -> dict[str, str]:
    smtp.ehlo()
    if transport.starttls:
        if not smtp.has_extn("starttls"):
            raise SmtpProblem(
                f"{transport.where} does not offer STARTTLS; nothing was sent in the clear "
                "(set starttls: false only for a relay on this machine)",
                retryable=False,
            )
        smtp.starttls(context=context)
        smtp.ehlo()
    if transport.username is not None and transport.password is not None:
        if not smtp.has_extn("auth"):
            raise SmtpProblem(f"{transport.where} offers no login (AUTH) but a user is configured", retryable=False)
        smtp.login(transport.username, transport.password)
    refused = smtp.send_message(message, from_addr=sender, to_addrs=list(to))
    with suppress(Exception):  # the message is accepted; a rude goodbye changes nothing
        smtp.quit()
    return {address: _reply(code, text) for address, (code, text) in refused.items()}


def _cut(smtp: smtplib.SMTP) -> None:
    """The deadline passed: shut the socket so that the blocked read returns at once."""
    sock = getattr(smtp, "sock", None)
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(said.split())}".strip()


def problem_of(exc: Exception, transport: Transport, deadline: Deadline) -> SmtpProblem:
    """An exception of the session in one line, and whether trying again may help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException):
        return _refusal(exc, transport.where)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SmtpProblem(f"{transport.where}: {exc}", retryable=False)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SmtpProblem(
            f"the certificate of {transport.where} is not trusted ({exc.verify_message}); "
            "set notify.email.ca_file to the CA that signed it",
            retryable=False,
        )
    if isinstance(exc, ssl.SSLError):
        return SmtpProblem(f"TLS with {transport.where} failed ({exc.reason or type(exc).__name__})", retryable=False)
    if deadline.expired:
        return SmtpProblem(f"{transport.where} did not finish within {deadline.seconds:.0f}s", retryable=True)
    return _network(exc, transport)


def _refusal(exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException, where: str) -> SmtpProblem:
    """The server said no: 4xx may pass later, 5xx will not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        replies = "; ".join(sorted({_reply(code, text) for code, text in exc.recipients.values()}))
        return SmtpProblem(f"{where} refused every recipient ({replies})", retryable=all(400 <= c < 500 for c in codes))
    stage = {
        smtplib.SMTPAuthenticationError: "refused the login",
        smtplib.SMTPSenderRefused: "refused the sender",
        smtplib.SMTPDataError: "refused the message",
        smtplib.SMTPHeloError: "refused the greeting",
        smtplib.SMTPConnectError: "refused the connection",
    }.get(type(exc), "answered")
    reply = _reply(exc.smtp_code, exc.smtp_error)
    return SmtpProblem(f"{where} {stage} ({reply})", retryable=400 <= exc.smtp_code < 500)


def _network(exc: Exception, transport: Transport) -> SmtpProblem:
    """A network problem: worth another try."""
    where = transport.where
    timed_out = isinstance(exc, TimeoutError) or (
        isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, TimeoutError)
    )
    if timed_out:
        return SmtpProblem(f"{where} did not answer within {transport.timeout:.0f}s", retryable=True)
    if isinstance(exc, ConnectionRefusedError):
        return SmtpProblem(f"{where}: connection refused", retryable=True)
    if isinstance(exc, socket.gaierror):
        return SmtpProblem(f"cannot resolve {transport.host}", retryable=True)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SmtpProblem(f"{where} closed the connection", retryable=True)
    if isinstance(exc, OSError):
        return SmtpProblem(f"{where}: {exc.strerror or type(exc).__name__}", retryable=True)
    return SmtpProblem(f"{where}: {type(exc).__name__}: {exc}", retryable=False)
