"""ECS pre-flight: the roles, secrets and log groups the service's task definition names all exist.

The new revision differs from the running one only in its image, so the
running task definition says what the new tasks will need. Nothing here
reads a secret's value: Secrets Manager is asked ``DescribeSecret``, SSM
``DescribeParameters``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from opsctl.aws.errors import error_code, error_message
from opsctl.config import EcsPlatformConfig
from opsctl.errors import Unavailable
from opsctl.platforms.ecs_taskdef import TaskDef, td_id
from opsctl.registry.awsfaults import aws_read
from opsctl.verify.image import Reach
from opsctl.verify.result import Check, Verdict

_MISSING = frozenset({"NoSuchEntity", "NoSuchEntityException", "ResourceNotFoundException", "ParameterNotFound"})
Clients = Callable[[str, str | None], Any]  # (service, region) -> a boto3 client


def make_clients(config: EcsPlatformConfig, reach: Reach) -> Clients:
    """A maker of boto3 clients for the environment's account (its profile and endpoint), cached per region."""
    from opsctl.aws.client import aws_client

    made: dict[tuple[str, str | None], Any] = {}

    def client(service: str, region: str | None) -> Any:
        key = (service, region or config.region)
        if key not in made:
            made[key] = aws_client(
                service, region=key[1], endpoint_url=reach.aws.endpoint_url, profile=reach.aws.profile, retries=3
            )
        return made[key]

    return client


def _guarded(family: str, name: str, what: str, service: str, call: Callable[[], Check]) -> Check:
    """``call()``, with an unreachable service as an ``unavailable`` line and an AWS refusal as ``failed``."""
    from botocore.exceptions import ClientError

    try:
        return aws_read(what, service, call)
    except Unavailable as exc:
        return Check(family, name, Verdict.UNAVAILABLE, str(exc))
    except ClientError as exc:
        code = error_code(exc)
        return Check(family, name, Verdict.FAILED, f"{what}: {service} refused ({code}: {error_message(exc)})")


# -- roles ---------------------------------------------------------------------------


def check_roles(td: TaskDef, clients: Clients, *, needs_execution: str | None) -> list[Check]:
    """The task role and the execution role exist in IAM; an execution role is there when ``needs_execution``."""
    revision = td_id(str(td.get("taskDefinitionArn", "?")))
    checks = []
    for key, label in (("taskRoleArn", "task role"), ("executionRoleArn", "execution role")):
        arn = td.get(key)
        if not arn:
            if key == "executionRoleArn" and needs_execution:
                checks.append(
                    Check("roles", label, Verdict.FAILED, f"{revision} has {needs_execution} but no execution role")
                )
            else:
                checks.append(Check("roles", label, Verdict.PASSED, f"{revision} names no {label}"))
            continue
        checks.append(_role(str(arn), label, revision, clients))
    return checks


def _role(arn: str, label: str, revision: str, clients: Clients) -> Check:
    from botocore.exceptions import ClientError

    name = arn.rsplit("/", 1)[-1]

    def call() -> Check:
        try:
            clients("iam", None).get_role(RoleName=name)
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return Check("roles", arn, Verdict.FAILED, f"{label} {arn} ({revision}) does not exist in IAM")
            raise
        return Check("roles", arn, Verdict.PASSED, f"{label} {name} exists")

    return _guarded("roles", arn, f"reading {label} {name}", "IAM", call)


# -- secrets -------------------------------------------------------------------------


def secret_refs(td: TaskDef) -> Iterator[tuple[str, str, str]]:
    """``(container, variable, valueFrom)`` of every secret the containers reference (and registry credentials)."""
    for container in td.get("containerDefinitions", []):
        cname = str(container.get("name", "?"))
        for secret in container.get("secrets") or []:
            if secret.get("valueFrom"):
                yield cname, str(secret.get("name", "?")), str(secret["valueFrom"])
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            yield cname, "repositoryCredentials", str(credentials)


def check_secrets(td: TaskDef, clients: Clients) -> list[Check]:
    refs = list(secret_refs(td))
    if not refs:
        revision = td_id(str(td.get("taskDefinitionArn", "?")))
        return [Check("secrets", "-", Verdict.PASSED, f"{revision} uses no secrets")]
    return [_secret(container, var, ref, clients) for container, var, ref in refs]


def _secret(container: str, var: str, ref: str, clients: Clients) -> Check:
    from botocore.exceptions import ClientError

    parts = ref.split(":")
    where = f"secret {var} of container {container}"
    if ref.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager":
        secret_id = ":".join(parts[:7])  # without the json-key:version-stage:version-id suffix
        region = parts[3] or None

        def described() -> Check:
            try:
                answer = clients("secretsmanager", region).describe_secret(SecretId=secret_id)
            except ClientError as exc:
                if error_code(exc) in _MISSING:
                    missing = f"{where}: {secret_id} does not exist in Secrets Manager"
                    return Check("secrets", ref, Verdict.FAILED, missing)
                raise
            if answer.get("DeletedDate"):
                return Check("secrets", ref, Verdict.FAILED, f"{where}: {secret_id} is scheduled for deletion")
            return Check("secrets", ref, Verdict.PASSED, f"{where}: {answer.get('Name', secret_id)} exists")

        return _guarded("secrets", ref, f"describing {where}", "Secrets Manager", described)
    region = parts[3] if ref.startswith("arn:") and len(parts) > 3 else None
    name = _parameter_name(ref)

    def parameter() -> Check:
        client = clients("ssm", region or None)
        answer = client.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])
        if not answer.get("Parameters"):
            return Check("secrets", ref, Verdict.FAILED, f"{where}: parameter {name} does not exist in SSM")
        return Check("secrets", ref, Verdict.PASSED, f"{where}: parameter {name} exists")

    return _guarded("secrets", ref, f"describing {where}", "SSM Parameter Store", parameter)


def _parameter_name(ref: str) -> str:
    """``arn:...:parameter/hvb/key`` -> ``/hvb/key``; ``arn:...:parameter/key`` -> ``key``; a name as it is."""
    if not ref.startswith("arn:") or ":parameter/" not in ref:
        return ref
    path = ref.split(":parameter", 1)[1]
    return path if "/" in path[1:] else path[1:]


# -- logs ----------------------------------------------------------------------------


def awslogs(td: TaskDef) -> Iterator[tuple[str, dict[str, str]]]:
    """``(container, options)`` of every container that logs to CloudWatch (``awslogs``)."""
    for container in td.get("containerDefinitions", []):
        config = container.get("logConfiguration") or {}
        if config.get("logDriver") == "awslogs":
            yield str(container.get("name", "?")), dict(config.get("options") or {})


def check_logs(td: TaskDef, clients: Clients) -> list[Check]:
    found = list(awslogs(td))
    if not found:
        revision = td_id(str(td.get("taskDefinitionArn", "?")))
        return [Check("logs", "-", Verdict.NOT_CHECKED, f"{revision} sends no logs to CloudWatch (no awslogs)")]
    return [_log_group(container, options, clients) for container, options in found]


def _log_group(container: str, options: dict[str, str], clients: Clients) -> Check:
    group = options.get("awslogs-group", "")
    region = options.get("awslogs-region") or None
    if not group:
        return Check("logs", "-", Verdict.FAILED, f"container {container} uses awslogs without awslogs-group")

    def described() -> Check:
        answer = clients("logs", region).describe_log_groups(logGroupNamePrefix=group, limit=50)
        if any(g.get("logGroupName") == group for g in answer.get("logGroups", [])):
            return Check("logs", group, Verdict.PASSED, f"log group {group} of container {container} exists")
        if str(options.get("awslogs-create-group", "")).lower() == "true":
            return Check("logs", group, Verdict.PASSED, f"log group {group} will be created (awslogs-create-group)")
        where = f" in {region}" if region else ""
        return Check(
            "logs",
            group,
            Verdict.FAILED,
            f"log group {group}{where} of container {container} does not exist: create it, "
            f"or set awslogs-create-group: 'true'",
        )

    return _guarded("logs", group, f"reading log group {group}", "CloudWatch Logs", described)
