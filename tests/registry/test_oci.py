"""The OCI distribution client against the real registry on 127.0.0.1 (and respx for faults it cannot make)."""

from __future__ import annotations

import httpx
import pytest
import respx

from opsctl.config.verify import RegistryAccess
from opsctl.errors import BadInput, ExitCode
from opsctl.net.retry import RetryPolicy
from opsctl.registry.hosts import endpoint, is_loopback
from opsctl.registry.model import DOCKER_LIST, OCI_INDEX, ImageNotFound, RegistryDenied, RegistryUnavailable
from opsctl.registry.oci import OciRegistry
from opsctl.registry.resolve import resolve
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor
from tests.support import registry as registry_support
from tests.support.registry import DOCKER_MANIFEST, PASSWORD, RegistryServer, free_port

oci_registry = registry_support.oci_registry
token_registry = registry_support.token_registry

CREDS = {"REG_USER": "ci", "REG_PASSWORD": PASSWORD}
WITH_CREDS = RegistryAccess(username_env="REG_USER", password_env="REG_PASSWORD")


def test_tag_resolves_to_the_pushed_digest(oci_registry: RegistryServer) -> None:
    digest = oci_registry.push_image("team/hvb", "1.8.0")
    found = resolve(ImageRef.parse(f"{oci_registry.host}/team/hvb:1.8.0"), {})
    assert found.digest == digest
    assert found.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert str(found.pinned) == f"{oci_registry.host}/team/hvb:1.8.0@{digest}"
    assert not found.is_index


def test_docker_manifest_and_digest_reference(oci_registry: RegistryServer) -> None:
    digest = oci_registry.push_image("hvb", "1.7.0", media_type=DOCKER_MANIFEST)
    by_digest = resolve(ImageRef.parse(f"{oci_registry.host}/hvb@{digest}"), {})
    assert by_digest.digest == digest
    assert by_digest.media_type == DOCKER_MANIFEST


@pytest.mark.parametrize("media_type", [OCI_INDEX, DOCKER_LIST])
def test_multi_arch_index_names_its_platforms(oci_registry: RegistryServer, media_type: str) -> None:
    digest = oci_registry.push_index("hvb", "1.8.0", media_type=media_type)
    found = resolve(ImageRef.parse(f"{oci_registry.host}/hvb:1.8.0"), {})
    assert found.digest == digest
    assert found.is_index
    assert found.platforms == ("linux/amd64", "linux/arm64")
    assert found.describe() == f"{oci_registry.host}/hvb:1.8.0 -> {digest}, multi-arch index (linux/amd64, linux/arm64)"


def test_missing_tag_names_repository_and_tag(oci_registry: RegistryServer) -> None:
    oci_registry.push_image("hvb", "1.8.0")
    with pytest.raises(ImageNotFound) as caught:
        resolve(ImageRef.parse(f"{oci_registry.host}/hvb:9.9.9"), {})
    assert str(caught.value) == (
        f"{oci_registry.host}/hvb:9.9.9: tag 9.9.9 not found in repository hvb of registry {oci_registry.host}"
    )
    assert caught.value.exit_code is ExitCode.FAILED


def test_token_auth_with_credentials(token_registry: RegistryServer) -> None:
    digest = token_registry.push_image("hvb", "1.8.0")
    redactor = Redactor()
    found = resolve(
        ImageRef.parse(f"{token_registry.host}/hvb:1.8.0"),
        {token_registry.host: WITH_CREDS},
        environ=CREDS,
        redactor=redactor,
    )
    assert found.digest == digest
    asked = token_registry.token_requests[-1]
    assert asked["scope"] == "repository:hvb:pull"
    assert asked["service"] == registry_support.SERVICE
    assert redactor.text(f"pw {PASSWORD}") == "pw ***"


def test_token_auth_without_credentials_says_what_to_set(token_registry: RegistryServer) -> None:
    token_registry.push_image("hvb", "1.8.0")
    with pytest.raises(RegistryDenied) as caught:
        resolve(ImageRef.parse(f"{token_registry.host}/hvb:1.8.0"), {})
    host = token_registry.host
    assert str(caught.value) == (
        f"registry {host} needs credentials to read hvb (HTTP 401; or it does not exist): "
        f"set registries.{host}.username_env and password_env in opsctl.yaml"
    )


def test_token_auth_with_wrong_credentials_names_the_variables(token_registry: RegistryServer) -> None:
    with pytest.raises(RegistryDenied) as caught:
        resolve(
            ImageRef.parse(f"{token_registry.host}/hvb:1.8.0"),
            {token_registry.host: WITH_CREDS},
            environ={"REG_USER": "ci", "REG_PASSWORD": "wrong-password-value"},
        )
    message = str(caught.value)
    assert message == (
        f"registry {token_registry.host} refused the credentials in REG_USER/REG_PASSWORD for hvb (HTTP 401): "
        "check them and their pull permission"
    )
    assert "wrong-password-value" not in message


def test_unset_credential_variable_is_bad_input(token_registry: RegistryServer) -> None:
    with pytest.raises(BadInput) as caught:
        resolve(ImageRef.parse(f"{token_registry.host}/hvb:1.8.0"), {token_registry.host: WITH_CREDS}, environ={})
    assert str(caught.value) == (
        f"environment variable REG_USER is not set (registries.{token_registry.host} names it)"
    )


def test_unreachable_registry_is_unavailable_without_hanging() -> None:
    host = f"127.0.0.1:{free_port()}"
    fast = RetryPolicy(attempts=2, backoff=0.01, connect_timeout=1.0, read_timeout=1.0, sleep=lambda _: None)
    registry = OciRegistry(endpoint(ImageRef.parse(f"{host}/hvb:1"), {}), policy=fast)
    with registry, pytest.raises(RegistryUnavailable) as caught:
        registry.resolve(ImageRef.parse(f"{host}/hvb:1"))
    assert str(caught.value) == (
        f"registry {host} is unreachable: cannot connect to http://{host}/v2/hvb/manifests/1: connection refused"
    )
    assert caught.value.exit_code is ExitCode.UNAVAILABLE


def test_hosts_and_schemes() -> None:
    hub = endpoint(ImageRef.parse("hvb:1"), {})
    assert (hub.host, hub.base_url, hub.repository) == ("docker.io", "https://registry-1.docker.io", "library/hvb")
    ghcr = endpoint(ImageRef.parse("ghcr.io/acme/hvb:1"), {})
    assert (ghcr.base_url, ghcr.repository) == ("https://ghcr.io", "acme/hvb")
    insecure = endpoint(ImageRef.parse("reg.internal:5000/hvb:1"), {"reg.internal:5000": RegistryAccess(insecure=True)})
    assert insecure.base_url == "http://reg.internal:5000"
    assert endpoint(ImageRef.parse("localhost:5000/hvb:1"), {}).base_url == "http://localhost:5000"
    assert is_loopback("127.0.0.2:80")
    assert is_loopback("[::1]:5000")
    assert not is_loopback("10.0.0.1:5000")


# -- faults a real registry does not make (respx, unit level) ---------------------------------------

HOST = "registry.example.test"
MANIFEST_URL = f"https://{HOST}/v2/hvb/manifests/1.8.0"
DIGEST = "sha256:" + "a" * 64


def _client(sleeps: list[float]) -> OciRegistry:
    policy = RetryPolicy(attempts=3, backoff=0.01, budget=10.0, sleep=sleeps.append)
    return OciRegistry(endpoint(ImageRef.parse(f"{HOST}/hvb:1.8.0"), {}), policy=policy, client=httpx.Client())


@respx.mock
def test_429_with_short_retry_after_is_waited_for() -> None:
    ok = httpx.Response(200, headers={"Docker-Content-Digest": DIGEST, "Content-Type": DOCKER_MANIFEST})
    respx.head(MANIFEST_URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), ok])
    sleeps: list[float] = []
    assert _client(sleeps).resolve(ImageRef.parse(f"{HOST}/hvb:1.8.0")).digest == DIGEST
    assert sleeps == [2.0]


@respx.mock
def test_429_with_long_retry_after_is_unavailable_at_once() -> None:
    respx.head(MANIFEST_URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    sleeps: list[float] = []
    with pytest.raises(RegistryUnavailable) as caught:
        _client(sleeps).resolve(ImageRef.parse(f"{HOST}/hvb:1.8.0"))
    assert sleeps == []
    assert str(caught.value) == (
        f"registry {HOST} is rate limiting requests (HTTP 429, Retry-After 3600s); try again later, "
        f"or configure credentials under registries.{HOST} for a higher limit"
    )


@respx.mock
def test_server_errors_are_retried_then_unavailable() -> None:
    route = respx.head(MANIFEST_URL).mock(return_value=httpx.Response(503))
    with pytest.raises(RegistryUnavailable) as caught:
        _client([]).resolve(ImageRef.parse(f"{HOST}/hvb:1.8.0"))
    assert route.call_count == 3
    assert str(caught.value) == f"registry {HOST} answered HTTP 503 for {HOST}/hvb:1.8.0; try again"


@respx.mock
def test_basic_challenge_gets_the_credentials() -> None:
    route = respx.head(MANIFEST_URL).mock(
        side_effect=[
            httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="registry"'}),
            httpx.Response(200, headers={"Docker-Content-Digest": DIGEST, "Content-Type": DOCKER_MANIFEST}),
        ]
    )
    registry = OciRegistry(
        endpoint(ImageRef.parse(f"{HOST}/hvb:1.8.0"), {HOST: WITH_CREDS}),
        environ=CREDS,
        client=httpx.Client(),
    )
    assert registry.resolve(ImageRef.parse(f"{HOST}/hvb:1.8.0")).digest == DIGEST
    assert route.calls[1].request.headers["Authorization"].startswith("Basic ")


@respx.mock
def test_missing_digest_header_falls_back_to_hashing_the_manifest() -> None:
    body = b'{"schemaVersion": 2}'
    respx.head(MANIFEST_URL).mock(return_value=httpx.Response(200, headers={"Content-Type": DOCKER_MANIFEST}))
    respx.get(MANIFEST_URL).mock(
        return_value=httpx.Response(200, content=body, headers={"Content-Type": DOCKER_MANIFEST})
    )
    import hashlib

    found = _client([]).resolve(ImageRef.parse(f"{HOST}/hvb:1.8.0"))
    assert found.digest == "sha256:" + hashlib.sha256(body).hexdigest()
