"""AWS for tests: one moto server on 127.0.0.1 for the session, reset before each test.

boto3 reaches it through the real HTTP path (``endpoint_url``), never through
patched clients (DESIGN section 7). There is no shared conftest: bind the
fixtures you use in your test module (every fixture a used one depends on
must be bound too; binding by assignment keeps ruff's F401/F811 quiet)::

    from tests.support import moto_server as aws_support
    from tests.support.moto_server import EcsService

    moto_server = aws_support.moto_server
    aws = aws_support.aws
    ecs_service = aws_support.ecs_service

    def test_deploy(ecs_service: EcsService) -> None:
        platform_cfg = ecs_service.platform_config()   # the `platform:` mapping of opsctl.yaml
        client = ecs_service.client()                   # a boto3 ECS client on moto
        ...

Fixtures:

``moto_server`` (session)
    Starts ``moto.server.ThreadedMotoServer`` on 127.0.0.1 with a free port
    and, for the whole session, sets fake credentials (``testing``),
    ``AWS_DEFAULT_REGION`` (eu-west-1), ``MOTO_ECS_SERVICE_RUNNING=1`` and
    ``AWS_EC2_METADATA_DISABLED``, and points the AWS config files at
    /dev/null so no profile of the machine leaks in. Returns a
    :class:`MotoServer` (``endpoint_url``, ``region``, ``reset()``).
``aws`` (function)
    The same server, reset (empty) for this test, with ``AWS_ENDPOINT_URL``
    set so that any boto3 client made without ``endpoint_url`` (the CLI
    reading an opsctl.yaml that has none) talks to moto too.
``ecs_service`` (function)
    ``aws`` plus an ECS cluster ``hvb-staging``, a task definition family
    ``hvb`` (revision 1, container ``bot``, image ``hvb:1.7.0``) and a
    service ``hotel-voice-bot`` with one running task. Returns an
    :class:`EcsService`; ``.endpoint_url`` is the moto URL. For other names,
    images or a service whose rollout never completes, call
    :func:`create_ecs_service` yourself with the ``aws`` fixture.

moto quirks worth knowing: moto fixes a service's running task count when the
service is *created* (from ``MOTO_ECS_SERVICE_RUNNING``; 0 leaves the
deployment IN_PROGRESS forever, see ``create_ecs_service(running=0)``), and
UpdateService changes the service's ``taskDefinition`` but not its
``deployments`` (no new deployment appears; the old record stays PRIMARY).
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from opsctl.sandbox.aws import EcsService as SandboxService

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

REGION = "eu-west-1"
FAKE_ACCESS_KEY = "opsctl-tests-fake-key"  # distinctive: the redactor masks it wherever it appears

# Variables that could send a test to a real account or another profile.
_CLEARED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_ECS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@dataclass(frozen=True)
class MotoServer:
    """A running moto server: where it listens and how to empty it."""

    endpoint_url: str
    region: str = REGION

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def client(self, service: str = "ecs", **config: Any) -> Any:
        """A boto3 client for ``service`` on this server (``config``: botocore Config options)."""
        import boto3
        from botocore.config import Config

        make: Any = boto3.client  # the stubs type one overload per service name
        return make(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=Config(connect_timeout=5, read_timeout=10, **config),
        )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """The session's moto server (see the module docstring), started the way ``opsctl demo`` starts it."""
    from opsctl.sandbox.aws import MotoSandbox

    with pytest.MonkeyPatch.context() as env:
        for name in _CLEARED_ENV:
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY)
        env.setenv("AWS_SECRET_ACCESS_KEY", FAKE_ACCESS_KEY)
        env.setenv("AWS_DEFAULT_REGION", REGION)
        env.setenv("AWS_CONFIG_FILE", os.devnull)
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        env.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
        sandbox = MotoSandbox()  # quiets werkzeug, empties moto, closes its socket on stop
        endpoint_url = sandbox.start()
        try:
            yield MotoServer(endpoint_url=endpoint_url)
        finally:
            sandbox.stop()


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """The moto server, emptied for this test; AWS_ENDPOINT_URL points at it."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    return moto_server


@dataclass(frozen=True)
class EcsService(SandboxService):
    """What :func:`create_ecs_service` made, and how to reach it (``platform_config`` comes from the sandbox)."""

    image: str
    task_definition_arn: str

    def client(self) -> ECSClient:
        """A plain boto3 ECS client on moto (for test setup and assertions)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "ecs",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 2}),
        )


@contextmanager
def _env(name: str, value: str | None) -> Iterator[None]:
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def create_ecs_service(
    server: MotoServer,
    *,
    cluster: str = "hvb-staging",
    service: str = "hotel-voice-bot",
    family: str = "hvb",
    container: str = "bot",
    image: str = "hvb:1.7.0",
    environment: Sequence[Mapping[str, str]] = ({"name": "LOG_LEVEL", "value": "info"},),
    sidecars: Sequence[Mapping[str, Any]] = (),
    tags: Sequence[Mapping[str, str]] = ({"key": "team", "value": "hvb"},),
    desired_count: int = 1,
    running: int | None = None,
) -> EcsService:
    """Create a cluster, a task definition (revision 1) and a service on ``server``.

    ``running`` overrides MOTO_ECS_SERVICE_RUNNING while the service is
    created (the only moment moto reads it): ``running=0`` gives a service
    whose deployment stays IN_PROGRESS, for timeout and cancel tests.
    """
    client = server.client("ecs")
    client.create_cluster(clusterName=cluster)
    containers: list[Any] = [
        {
            "name": container,
            "image": image,
            "memory": 256,
            "essential": True,
            "environment": list(environment),
        },
        *sidecars,
    ]
    td = client.register_task_definition(family=family, containerDefinitions=containers, tags=list(tags))
    arn = td["taskDefinition"]["taskDefinitionArn"]
    with _env("MOTO_ECS_SERVICE_RUNNING", None if running is None else str(running)):
        client.create_service(cluster=cluster, serviceName=service, taskDefinition=arn, desiredCount=desired_count)
    client.close()
    return EcsService(
        endpoint_url=server.endpoint_url,
        region=server.region,
        cluster=cluster,
        service=service,
        container=container,
        family=family,
        image=image,
        task_definition_arn=arn,
    )


@pytest.fixture
def ecs_service(aws: MotoServer) -> EcsService:
    """hvb-staging / hotel-voice-bot running hvb:1.7.0 (task definition hvb:1) on moto."""
    return create_ecs_service(aws)
