"""AWS for the sandbox: moto in server mode on 127.0.0.1, fake credentials, one ECS service.

Everything here talks to 127.0.0.1 only: the process's AWS variables point
every boto3 client at the local moto server with fake credentials, and the
machine's own AWS config files, profiles and instance metadata are switched
off while the sandbox runs (:func:`sandbox_environment` restores them).
moto and boto3 are imported inside functions only (STYLE 8).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opsctl.errors import BadInput
from opsctl.values.imageref import ImageRef

REGION = "eu-west-1"
FAKE_CREDENTIAL = "opsctl-sandbox-fake-key"  # moto takes any; a distinctive value is masked, not a common word
INSTALL_HINT = "opsctl demo needs moto, the sandbox extra: pip install 'opsctl[sandbox]'"
# Variables that could send a request to a real account, another profile or another endpoint.
_CLEARED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CA_BUNDLE",
)


def require_moto() -> None:
    """Raise a one-line BadInput naming the extra to install when moto's server cannot be imported."""
    try:
        from moto.server import ThreadedMotoServer  # noqa: F401 - imported to see that it can be
    except ImportError:
        raise BadInput(INSTALL_HINT) from None


def sandbox_variables(endpoint_url: str) -> dict[str, str]:
    """The AWS variables of the sandbox (also printed by ``opsctl demo --keep`` for a second terminal)."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


@contextmanager
def sandbox_environment(endpoint_url: str) -> Iterator[dict[str, str]]:
    """Point this process's AWS clients at the sandbox; every variable is restored afterwards."""
    values = {**sandbox_variables(endpoint_url), "MOTO_ECS_SERVICE_RUNNING": "1"}
    names = {*values, *_CLEARED, *(n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_"))}
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield values
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class MotoSandbox:
    """``moto.server.ThreadedMotoServer`` on 127.0.0.1, on a free port, emptied when started."""

    def __init__(self) -> None:
        self._server: Any = None
        self.endpoint_url = ""

    def start(self) -> str:
        from moto.server import ThreadedMotoServer

        # Werkzeug adds a stderr handler on its first request log line unless it has one: keep it quiet.
        werkzeug = logging.getLogger("werkzeug")
        werkzeug.setLevel(logging.WARNING)
        if not werkzeug.handlers:
            werkzeug.addHandler(logging.NullHandler())
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self._reset()
        return self.endpoint_url

    def _reset(self) -> None:
        """moto keeps its resources per process: start from nothing, whatever ran before in this process."""
        import httpx

        httpx.post(f"{self.endpoint_url}/moto-api/reset", timeout=10.0, trust_env=False).raise_for_status()

    def stop(self) -> None:
        """Stop serving and close the listening socket (moto's own stop leaves it bound)."""
        server, self._server = self._server, None
        if server is None:
            return
        wsgi = getattr(server, "_server", None)
        server.stop()
        if wsgi is not None:
            wsgi.server_close()


@dataclass(frozen=True)
class EcsService:
    endpoint_url: str
    region: str
    cluster: str
    service: str
    container: str
    family: str

    def platform_config(self, **extra: Any) -> dict[str, Any]:
        """The ``platform:`` mapping of an opsctl.yaml environment for this service."""
        return {
            "kind": "ecs",
            "region": self.region,
            "cluster": self.cluster,
            "service": self.service,
            "container": self.container,
            "endpoint_url": self.endpoint_url,
            **extra,
        }


def ecs_client(endpoint_url: str) -> Any:
    """A plain ECS client on the sandbox, with explicit timeouts and standard retries."""
    return sandbox_client("ecs", endpoint_url)


def sandbox_client(service: str, endpoint_url: str) -> Any:
    """A plain boto3 client of ``service`` on the sandbox, with explicit timeouts and standard retries."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})
    make: Any = boto3.client  # the stubs type one overload per service name
    return make(
        service,
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id=FAKE_CREDENTIAL,
        aws_secret_access_key=FAKE_CREDENTIAL,
        config=config,
    )


def create_ecs_service(
    endpoint_url: str,
    *,
    image: str,
    cluster: str = "hvb-staging",
    service: str = "hotel-voice-bot",
    family: str = "hvb",
    container: str = "bot",
) -> EcsService:
    """A cluster, a task definition (revision 1 runs ``image``) and a service with one running task."""
    client = ecs_client(endpoint_url)
    try:
        client.create_cluster(clusterName=cluster)
        definition = client.register_task_definition(
            family=family,
            containerDefinitions=[
                {
                    "name": container,
                    "image": image,
                    "memory": 256,
                    "essential": True,
                    "environment": [{"name": "LOG_LEVEL", "value": "info"}],
                }
            ],
        )
        arn = definition["taskDefinition"]["taskDefinitionArn"]
        client.create_service(cluster=cluster, serviceName=service, taskDefinition=arn, desiredCount=1)
    finally:
        client.close()
    return EcsService(endpoint_url, REGION, cluster, service, container, family)


class RunningImage:
    """The image the ECS service runs now, read from moto at most every ``ttl`` seconds (thread-safe).

    Called as the demo bot's ``version``: the bot then serves the tag of what
    the platform runs, as a real service would after a rollout.
    """

    def __init__(self, target: EcsService, ttl: float = 0.1) -> None:
        self.target = target
        self.ttl = ttl
        self._client = ecs_client(target.endpoint_url)
        self._lock = threading.Lock()
        self._cached: tuple[float, str, str] = (0.0, "", "")

    def image(self, *, fresh: bool = False) -> str:
        return self._now(fresh)[1]

    def task_definition(self) -> str:
        """The ARN of the task definition the service runs now (read afresh)."""
        return self._now(True)[0]

    def tag(self) -> str:
        """The version the bot reports: the tag, also of a digest-pinned ``repo:tag@sha256:...``."""
        image = self.image()
        ref = ImageRef.try_parse(image)
        return ref.version if ref is not None else image

    def __call__(self) -> str:
        return self.tag()

    def _now(self, fresh: bool) -> tuple[str, str]:
        with self._lock:
            now = time.monotonic()
            if fresh or now - self._cached[0] > self.ttl or not self._cached[2]:
                self._cached = (now, *self._read())
            return self._cached[1], self._cached[2]

    def _read(self) -> tuple[str, str]:
        t = self.target
        service = self._client.describe_services(cluster=t.cluster, services=[t.service])["services"][0]
        definition = self._client.describe_task_definition(taskDefinition=service["taskDefinition"])
        containers = definition["taskDefinition"]["containerDefinitions"]
        return str(service["taskDefinition"]), str(next(c["image"] for c in containers if c["name"] == t.container))

    def close(self) -> None:
        self._client.close()
