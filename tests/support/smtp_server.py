"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the email tests.

``SmtpServer(tls=..., login=...)`` starts aiosmtpd's threaded controller on
a free loopback port:

- ``tls=True``: STARTTLS with a self-signed certificate made here for
  127.0.0.1 (``ca_file`` is its PEM, the client's trust anchor), and the
  server refuses MAIL before STARTTLS (``require_starttls``);
- ``login=(user, password)``: AUTH (PLAIN, LOGIN) required before MAIL;
- ``refuse`` (address -> reply) refuses those recipients at RCPT;
  ``fail_data`` replies to the next DATA commands with the given replies
  (``"451 4.3.0 try again later"``), then accepts.

``messages`` holds each accepted mail: the envelope (sender, recipients) and
the parsed message.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.servers import free_port

USER = "opsctl-mailer"
PASSWORD = "Sm7pPa55w0rd-n0t-f0r-10gs"  # a test secret that must never be printed


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes

    def part(self, subtype: str) -> str:
        """The text of the ``text/<subtype>`` part."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        assert body.get_content_subtype() == subtype, f"no text/{subtype} part"
        return str(body.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by its own key: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "opsctl test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        refused = self.server.refuse.get(address)
        if refused:
            return refused
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.server.lock:
            if self.server.fail_data:
                return self.server.fail_data.pop(0)
            raw = bytes(envelope.original_content or envelope.content)
            message = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(message, EmailMessage)
            self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<free port>; use as a context manager."""

    def __init__(self, folder: Path, *, tls: bool = False, login: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.messages: list[Received] = []
        self.refuse: dict[str, str] = {}
        self.fail_data: list[str] = []
        self.logins: list[str] = []
        self.lock = threading.Lock()
        self.ca_file: Path | None = None
        kwargs: dict[str, Any] = {}
        if tls:
            cert, key = self_signed(folder)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            kwargs.update(tls_context=context, require_starttls=True)
            self.ca_file = cert
        if login is not None:
            kwargs.update(authenticator=self._authenticator(login), auth_required=True, auth_require_tls=tls)
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, server_hostname="smtp.test", **kwargs
        )

    def _authenticator(self, login: tuple[str, str]) -> Any:
        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
            if ok:
                self.logins.append(mechanism)
            return AuthResult(success=ok, handled=False)

        return check

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def addresses(self) -> list[list[str]]:
        return [m.recipients for m in self.messages]
