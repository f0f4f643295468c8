"""The shared TLS context: read once, at the first handshake, and still verifying, against HTTPS on 127.0.0.1."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opsctl.net import bounded
from opsctl.net.bounded import send
from opsctl.net.deadline import Deadline
from opsctl.net.tls import DeferredCaContext, ca_locations, default_context

REPO = Path(__file__).resolve().parents[2]
NOW = datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Authority:
    """A throwaway CA; ``issue`` makes a server certificate for a name or an IP address."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def make(cls, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def issue(self, folder: Path, san: x509.GeneralName) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hvb test server")]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        cert_path, key_path = folder / "server.pem", folder / "server.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_path, key_path


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, Authority]]:
    """An HTTPS server on 127.0.0.1 whose certificate (for the IP address) a test CA issued."""
    authority = Authority.make("opsctl test CA")
    cert, key = authority.issue(tmp_path, x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    server = HTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}/health", authority
    finally:
        server.shutdown()
        server.server_close()


def _fresh() -> DeferredCaContext:
    return DeferredCaContext(ssl.PROTOCOL_TLS_CLIENT).prepare()


def _get(http: httpx.Client, url: str) -> httpx.Response:
    return send(http, "GET", url, deadline=Deadline.after(10.0))


def test_the_ca_bundle_is_read_at_the_first_handshake(
    https: tuple[str, Authority], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, authority = https
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.write(tmp_path / "ca.pem")))
    context = _fresh()
    with bounded.client(timeout=5.0, verify=context) as http:
        assert context.cert_store_stats()["x509_ca"] == 0  # making the client read nothing
        assert _get(http, url).json() == {"status": "ok"}
        assert context.cert_store_stats()["x509_ca"] == 1  # SSL_CERT_FILE, as httpx reads it
        assert _get(http, url).status_code == 200


def test_an_untrusted_certificate_is_still_refused(
    https: tuple[str, Authority], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = https
    stranger = Authority.make("someone else's CA")
    monkeypatch.setenv("SSL_CERT_FILE", str(stranger.write(tmp_path / "other.pem")))
    with bounded.client(timeout=5.0, verify=_fresh()) as http, pytest.raises(httpx.ConnectError) as caught:
        _get(http, url)
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


def test_the_host_name_is_still_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    authority = Authority.make("opsctl test CA")
    cert, key = authority.issue(tmp_path, x509.DNSName("hvb.example.com"))  # not 127.0.0.1
    server = HTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.write(tmp_path / "ca.pem")))
    try:
        with bounded.client(timeout=5.0, verify=_fresh()) as http, pytest.raises(httpx.ConnectError) as caught:
            _get(http, f"https://127.0.0.1:{server.server_port}/health")
        assert "IP address mismatch" in str(caught.value)
    finally:
        server.shutdown()
        server.server_close()


def test_clients_share_the_process_context_unless_given_their_own() -> None:
    with bounded.client(timeout=5.0) as one, bounded.client(timeout=5.0) as two:
        assert one._transport._pool._ssl_context is default_context()  # type: ignore[attr-defined]
        assert two._transport._pool._ssl_context is default_context()  # type: ignore[attr-defined]
    own = ssl.create_default_context()
    with bounded.client(timeout=5.0, verify=own) as three:
        assert three._transport._pool._ssl_context is own  # type: ignore[attr-defined]
    context = default_context()
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_plain_http_clients_never_read_the_bundle() -> None:
    code = (
        "from opsctl.net import bounded\n"
        "from opsctl.net.tls import default_context\n"
        "clients = [bounded.client(timeout=1.0) for _ in range(5)]\n"
        "print(default_context().cert_store_stats()['x509_ca'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "0\n", "")


def test_the_ca_locations_are_httpx_s(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import certifi

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert ca_locations() == (certifi.where(), None)
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    assert ca_locations() == (None, str(tmp_path))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    assert ca_locations() == (str(tmp_path / "ca.pem"), None)
