"""A real OCI registry for tests: Debian's ``docker-registry`` (the CNCF distribution registry) on 127.0.0.1.

Bind the fixtures you use in your test module (there is no shared conftest)::

    from tests.support import registry as registry_support

    oci_registry = registry_support.oci_registry          # open, anonymous
    token_registry = registry_support.token_registry      # `auth: token` with a loopback token server

    def test_resolves(oci_registry: RegistryServer) -> None:
        digest = oci_registry.push_image("hvb", "1.8.0")
        ...

:class:`RegistryServer` starts the binary with a config file in ``tmp_path``
(filesystem storage there too) on a free port and stops it at teardown.
With ``token_auth`` it also serves a token endpoint (``/token``) that signs
ES256 JWTs with a throwaway key whose self-signed certificate the registry
trusts (``rootcertbundle``), and grants pull and push to user ``ci`` with
password :data:`PASSWORD`; anyone else gets 401. Images are pushed over the
registry's HTTP API (blob upload, manifest PUT), so tests need no docker.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.binaries import require_binary
from tests.support.servers import answers, free_port, stop_process, wait_until

USER = "ci"
PASSWORD = "opsctl-registry-test-password"
SERVICE = "opsctl-test-registry"
ISSUER = "opsctl-test-token-server"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class _Signer:
    """An EC P-256 key and its self-signed certificate; signs registry tokens (ES256 JWTs with x5c)."""

    def __init__(self, folder: Path) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.now(UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.bundle = folder / "token-ca.pem"
        self.bundle.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._der = self._cert.public_bytes(serialization.Encoding.DER)

    def token(self, subject: str, access: list[dict[str, Any]]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self._der).decode("ascii")]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": hashlib.sha256(f"{now}{time.monotonic()}".encode()).hexdigest()[:16],
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        der = self._key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class _TokenServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, signer: _Signer) -> None:
        super().__init__(("127.0.0.1", 0), _TokenHandler)
        self.signer = signer
        self.requests: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/token"


class _TokenHandler(BaseHTTPRequestHandler):
    server: _TokenServer

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def do_GET(self) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        auth = self.headers.get("Authorization", "")
        self.server.requests.append({**query, "authorization": auth})
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode("ascii")
        if auth != expected:
            self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
            return
        access = []
        for scope in query.get("scope", "").split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        self._answer(200, {"token": self.server.signer.token(USER, access), "expires_in": 300})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class RegistryServer:
    """``/usr/bin/docker-registry`` on 127.0.0.1 with storage in ``folder``; optionally behind token auth."""

    def __init__(self, binary: str, folder: Path, *, token_auth: bool = False) -> None:
        self.folder = folder
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self._token_server: _TokenServer | None = None
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(folder / "data")}, "delete": {"enabled": True}},
            "http": {"addr": f"127.0.0.1:{self.port}", "secret": "opsctl-tests"},
        }
        if token_auth:
            signer = _Signer(folder)
            self._token_server = _TokenServer(signer)
            threading.Thread(target=self._token_server.serve_forever, daemon=True).start()
            config["auth"] = {
                "token": {
                    "realm": self._token_server.url,
                    "service": SERVICE,
                    "issuer": ISSUER,
                    "rootcertbundle": str(signer.bundle),
                }
            }
        path = folder / "config.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        self._log = (folder / "registry.log").open("wb")
        self._process = subprocess.Popen([binary, "serve", str(path)], stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_ready()

    @property
    def token_requests(self) -> list[dict[str, str]]:
        """What the token server was asked (query and Authorization header), oldest first."""
        return list(self._token_server.requests) if self._token_server else []

    def _wait_ready(self, timeout: float = 20.0) -> None:
        def up() -> bool:
            if self._process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(self.folder / 'registry.log').read_text()}")
            return answers(f"{self.url}/v2/", 401)  # 401: it runs, behind token auth

        wait_until(up, "docker-registry", timeout)

    def stop(self) -> None:
        stop_process(self._process)
        self._log.close()
        if self._token_server is not None:
            self._token_server.shutdown()
            self._token_server.server_close()

    # -- pushing over the HTTP API ---------------------------------------------------

    def _auth(self, repository: str) -> dict[str, str]:
        if self._token_server is None:
            return {}
        query = urllib.parse.urlencode({"service": SERVICE, "scope": f"repository:{repository}:pull,push"})
        basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode("ascii")
        url = f"{self._token_server.url}?{query}"
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {basic}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return {"Authorization": f"Bearer {json.loads(answer.read())['token']}"}

    def _call(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None) -> Any:
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        return urllib.request.urlopen(request, timeout=10)

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        auth = self._auth(repository)
        with self._call("POST", f"{self.url}/v2/{repository}/blobs/uploads/", auth, b"") as started:
            location = started.headers["Location"]
        target = urllib.parse.urljoin(self.url, location)
        target += ("&" if "?" in target else "?") + urllib.parse.urlencode({"digest": digest})
        headers = {**auth, "Content-Type": "application/octet-stream", "Content-Length": str(len(data))}
        with self._call("PUT", target, headers, data) as done:
            done.read()
        return digest

    def push_manifest(self, repository: str, reference: str, manifest: dict[str, Any], media_type: str) -> str:
        """PUT a manifest (or index) under ``reference`` (a tag); returns its digest."""
        body = json.dumps(manifest).encode()
        headers = {**self._auth(repository), "Content-Type": media_type}
        with self._call("PUT", f"{self.url}/v2/{repository}/manifests/{reference}", headers, body) as done:
            done.read()
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def push_image(self, repository: str, tag: str, *, content: str = "", media_type: str = OCI_MANIFEST) -> str:
        """A one-layer image tagged ``tag`` (``content`` makes it distinct); returns its manifest digest."""
        config_type = (
            "application/vnd.oci.image.config.v1+json"
            if media_type == OCI_MANIFEST
            else "application/vnd.docker.container.image.v1+json"
        )
        layer_type = (
            "application/vnd.oci.image.layer.v1.tar"
            if media_type == OCI_MANIFEST
            else "application/vnd.docker.image.rootfs.diff.tar.gzip"
        )
        config = json.dumps({"architecture": "amd64", "os": "linux", "opsctl": content or tag}).encode()
        layer = f"layer of {repository}:{tag} {content}".encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "size": len(config), "digest": self.push_blob(repository, config)},
            "layers": [{"mediaType": layer_type, "size": len(layer), "digest": self.push_blob(repository, layer)}],
        }
        return self.push_manifest(repository, tag, manifest, media_type)

    def push_index(self, repository: str, tag: str, *, media_type: str = OCI_INDEX) -> str:
        """A multi-arch image (linux/amd64 and linux/arm64) tagged ``tag``; returns the index digest."""
        entries = []
        child_type = OCI_MANIFEST if media_type == OCI_INDEX else DOCKER_MANIFEST
        for arch in ("amd64", "arm64"):
            digest = self.push_image(repository, f"{tag}-{arch}", content=arch, media_type=child_type)
            size = len(self._manifest_bytes(repository, digest, child_type))
            entries.append(
                {
                    "mediaType": child_type,
                    "digest": digest,
                    "size": size,
                    "platform": {"os": "linux", "architecture": arch},
                }
            )
        index = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
        return self.push_manifest(repository, tag, index, media_type)

    def _manifest_bytes(self, repository: str, digest: str, media_type: str) -> bytes:
        headers = {**self._auth(repository), "Accept": media_type}
        with self._call("GET", f"{self.url}/v2/{repository}/manifests/{digest}", headers) as answer:
            data: bytes = answer.read()
            return data


@pytest.fixture
def oci_registry(tmp_path: Path) -> Iterator[RegistryServer]:
    """An anonymous registry on 127.0.0.1 (storage in tmp_path), stopped at teardown."""
    binary = require_binary("docker-registry")
    folder = tmp_path / "registry"
    folder.mkdir()
    server = RegistryServer(binary, folder)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def token_registry(tmp_path: Path) -> Iterator[RegistryServer]:
    """A registry behind `auth: token` (user ``ci``, password :data:`PASSWORD`), stopped at teardown."""
    binary = require_binary("docker-registry")
    folder = tmp_path / "token-registry"
    folder.mkdir()
    server = RegistryServer(binary, folder, token_auth=True)
    try:
        yield server
    finally:
        server.stop()
