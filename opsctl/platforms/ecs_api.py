"""The ECS calls the driver makes, as plain dicts, with AWS errors turned into one clear line.

Reads go through ``client`` (botocore standard retries); the two mutating
calls go through ``write_client`` (no botocore retries, see
:func:`opsctl.platforms.ecs_aws.mutate`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from opsctl.aws.errors import credential_problem, error_code, error_message, http_status
from opsctl.config import EcsPlatformConfig
from opsctl.errors import BadInput, NeedsHuman
from opsctl.platforms.ecs_taskdef import TaskDef, td_family, td_id, td_revision
from opsctl.values.redact import Redactor

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.type_defs import DeploymentConfigurationTypeDef, ListTaskDefinitionsResponseTypeDef

T = TypeVar("T")

_TASK_PAGES = 5  # ListTasks pages read at most (100 tasks each): far more than one rollout starts


class EcsApi:
    """One service's cluster, seen through boto3."""

    def __init__(
        self, config: EcsPlatformConfig, client: ECSClient, write_client: ECSClient, redactor: Redactor
    ) -> None:
        self.config = config
        self.client = client
        self.write_client = write_client
        self.redactor = redactor
        self.region = config.region or client.meta.region_name

    def read(self, what: str, call: Callable[[], T]) -> T:
        """Run one read; AWS errors become BadInput (fix something) or NeedsHuman (state unknown)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except (BotoCoreError, ClientError) as exc:
            problem = credential_problem(exc)
            if problem is not None:
                raise problem from None
            if error_code(exc) == "ClusterNotFoundException":
                raise BadInput(f"ECS cluster '{self.config.cluster}' not found in region {self.region}") from None
            message = self.redactor.text(error_message(exc))
            if isinstance(exc, ClientError) and 400 <= http_status(exc) < 500:
                raise BadInput(f"ECS {what} failed: {message}") from None
            raise NeedsHuman(f"ECS {what} failed, state unknown: {message}") from None

    def service(self) -> dict[str, Any]:
        """The configured service (DescribeServices); BadInput when it does not exist."""
        cfg = self.config
        answer = self.read(
            "DescribeServices",
            lambda: self.client.describe_services(cluster=cfg.cluster, services=[cfg.service]),
        )
        # A deleted service lingers as INACTIVE (then DRAINING) for a while.
        services = [dict(s) for s in answer.get("services", []) if s.get("status") == "ACTIVE"]
        if not services:
            raise BadInput(f"ECS service '{cfg.service}' not found in cluster '{cfg.cluster}' ({self.region})")
        return services[0]

    def task_definition(self, ref: str) -> TaskDef | None:
        """A described task definition (tags included), or None when ECS knows no such one."""
        from botocore.exceptions import ClientError

        def describe() -> TaskDef | None:
            try:
                answer = self.client.describe_task_definition(taskDefinition=ref, include=["TAGS"])
            except ClientError as exc:
                # ECS answers an unknown family or revision with a ClientException.
                if error_code(exc) in {"ClientException", "InvalidParameterException"}:
                    return None
                raise
            td: TaskDef = dict(answer["taskDefinition"])
            if answer.get("tags"):
                td["tags"] = answer["tags"]
            return td

        return self.read("DescribeTaskDefinition", describe)

    def require_task_definition(self, ref: str) -> TaskDef:
        td = self.task_definition(ref)
        if td is None:
            raise NeedsHuman(f"task definition {td_id(ref)} used by the service cannot be described")
        return td

    def active_arns(self, family: str, limit: int) -> list[str]:
        """ACTIVE revision ARNs of exactly ``family``, newest first."""
        arns: list[str] = []
        token = ""

        def page() -> ListTaskDefinitionsResponseTypeDef:
            if token:
                return self.client.list_task_definitions(
                    familyPrefix=family, status="ACTIVE", sort="DESC", nextToken=token
                )
            return self.client.list_task_definitions(familyPrefix=family, status="ACTIVE", sort="DESC")

        while len(arns) < limit:
            answer = self.read("ListTaskDefinitions", page)
            # familyPrefix is a prefix: "hvb" also lists "hvb-worker".
            arns += [a for a in answer.get("taskDefinitionArns", []) if td_family(a) == family]
            token = answer.get("nextToken", "")
            if not token:
                break
        # Sorted here as well: not every ECS-compatible endpoint honours sort=DESC.
        return sorted(set(arns), key=td_revision, reverse=True)[:limit]

    def task_arns(self, desired_status: str) -> list[str]:
        """Task ARNs of the service with this desired status (``STOPPED`` ones stay listed about an hour)."""
        cfg = self.config
        arns: list[str] = []
        token = ""
        for _ in range(_TASK_PAGES):
            args: dict[str, Any] = {"cluster": cfg.cluster, "serviceName": cfg.service, "desiredStatus": desired_status}
            if token:
                args["nextToken"] = token

            def page(args: dict[str, Any] = args) -> Any:
                return self.client.list_tasks(**args)

            answer = self.read("ListTasks", page)
            arns += answer.get("taskArns", [])
            token = answer.get("nextToken", "")
            if not token:
                break
        return arns

    def describe_tasks(self, arns: list[str]) -> list[dict[str, Any]]:
        """DescribeTasks, 100 ARNs per call (the API's limit)."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(arns), 100):
            chunk = arns[start : start + 100]

            def describe(chunk: list[str] = chunk) -> Any:
                return self.client.describe_tasks(cluster=self.config.cluster, tasks=chunk)

            answer = self.read("DescribeTasks", describe)
            found += [dict(t) for t in answer.get("tasks", [])]
        return found

    def register_keys(self) -> set[str]:
        """The arguments RegisterTaskDefinition accepts (from the client's service model; no call)."""
        shape = self.write_client.meta.service_model.operation_model("RegisterTaskDefinition").input_shape
        return set(shape.members) if shape is not None else set()

    def register(self, body: TaskDef) -> TaskDef:
        """Send RegisterTaskDefinition once (no retries; see ``mutate``)."""
        return dict(self.write_client.register_task_definition(**body)["taskDefinition"])

    def update_service(self, task_definition_arn: str, deployment_configuration: dict[str, Any]) -> dict[str, Any]:
        """Send UpdateService once (no retries; see ``mutate``)."""
        answer = self.write_client.update_service(
            cluster=self.config.cluster,
            service=self.config.service,
            taskDefinition=task_definition_arn,
            deploymentConfiguration=cast("DeploymentConfigurationTypeDef", deployment_configuration),
        )
        return dict(answer["service"])
