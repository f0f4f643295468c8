"""Run every pre-flight check of one environment for one image, in the order a person reads them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from opsctl.config import Config, EcsPlatformConfig, FlyPlatformConfig
from opsctl.errors import BadInput, NeedsHuman
from opsctl.platforms.base import Platform
from opsctl.registry.resolve import AwsAccess
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor
from opsctl.verify.image import Reach, check_image
from opsctl.verify.result import Check, Verdict, VerifyReport
from opsctl.verify.scan import check_scan

if TYPE_CHECKING:
    from opsctl.platforms.ecs import EcsPlatform
    from opsctl.platforms.ecs_taskdef import TaskDef

ECS_FAMILIES = ("roles", "secrets", "logs")


def verify_environment(
    config: Config,
    env_name: str,
    image: ImageRef,
    *,
    platform: Callable[[], Platform],
    redactor: Redactor,
    environ: Mapping[str, str] | None = None,
) -> VerifyReport:
    """Check ``image`` and ``env_name``'s platform before a change; reads only, never a secret's value.

    ``platform`` makes the environment's driver (ECS: the running task
    definition names the roles, secrets and log groups the new one keeps).
    Families turned off with ``verify: {family: false}`` appear as
    ``not_checked`` lines, so the output says what was left out.
    """
    env = config.environment(env_name)
    families = env.verify
    ecs = env.platform if isinstance(env.platform, EcsPlatformConfig) else None
    reach = _reach(config, env_name, redactor, environ)
    checks: list[Check] = []
    resolved = None
    if families.image:
        check, resolved = check_image(image, reach)
        checks.append(check)
    else:
        checks.append(_off("image", str(image), "image (verify.image: false; the tag is deployed unpinned)"))
    checks.append(check_scan(image, resolved, config.scan, reach, config.project_dir))
    if ecs is not None:
        checks.extend(_ecs_checks(ecs, families.model_dump(), platform, reach))
    elif isinstance(env.platform, FlyPlatformConfig):
        from opsctl.verify.fly import check_app

        checks.append(check_app(env.platform, redactor, environ))
        checks.extend(_off(f, "-", f"{f}: ECS only (this environment runs on fly)") for f in ECS_FAMILIES)
    else:
        kind = env.platform.kind
        checks.extend(_off(f, "-", f"{f}: ECS only (this environment runs on {kind})") for f in ECS_FAMILIES)
    pinned = str(resolved.pinned) if resolved else None
    return VerifyReport(env_name, str(image), tuple(checks), pinned, resolved.digest if resolved else None)


def verify_scan(
    config: Config, env_name: str, image: ImageRef, *, redactor: Redactor, environ: Mapping[str, str] | None = None
) -> Check:
    """The security-scan check alone (the pre-deploy item "Security scan completed").

    ECR findings belong to a digest, so the image is resolved first (reads
    only); with ``verify.image: false`` the tag is judged as given.
    """
    reach = _reach(config, env_name, redactor, environ)
    resolved = check_image(image, reach)[1] if config.environment(env_name).verify.image else None
    return check_scan(image, resolved, config.scan, reach, config.project_dir)


def _reach(config: Config, env_name: str, redactor: Redactor, environ: Mapping[str, str] | None) -> Reach:
    platform = config.environment(env_name).platform
    ecs = platform if isinstance(platform, EcsPlatformConfig) else None
    aws = AwsAccess(ecs.profile, ecs.endpoint_url) if ecs else AwsAccess()
    return Reach(config.registries, aws, ecs.region if ecs else None, environ, redactor)


def _off(family: str, name: str, why: str) -> Check:
    return Check(family, name, Verdict.NOT_CHECKED, why)


def _ecs_checks(
    config: EcsPlatformConfig, families: Mapping[str, bool], platform: Callable[[], Platform], reach: Reach
) -> list[Check]:
    from opsctl.platforms.ecs import EcsPlatform
    from opsctl.verify.ecs import awslogs, check_logs, check_roles, check_secrets, make_clients, secret_refs

    wanted = [f for f in ECS_FAMILIES if families.get(f, True)]
    checks = [_off(f, "-", f"{f} (verify.{f}: false)") for f in ECS_FAMILIES if f not in wanted]
    if not wanted:
        return checks
    driver = platform()
    if not isinstance(driver, EcsPlatform):
        return [*checks, *(_off(f, "-", f"{f}: the platform driver is not ECS") for f in wanted)]
    td = _running_task_definition(driver, config, reach)
    if isinstance(td, str):  # ECS could not be reached: nothing to check the families against
        first, *rest = wanted
        unread = "the running task definition could not be read (ECS is unavailable)"
        lines = [
            Check(first, "-", Verdict.UNAVAILABLE, td),
            *(Check(f, "-", Verdict.UNAVAILABLE, unread) for f in rest),
        ]
        return [*lines, *checks]
    clients = make_clients(config, reach)
    found: list[Check] = []
    if "roles" in wanted:
        needs = [
            what
            for what, present in (
                ("secrets", any(True for _ in secret_refs(td))),
                ("awslogs", any(True for _ in awslogs(td))),
            )
            if present
        ]
        found.extend(check_roles(td, clients, needs_execution=" and ".join(needs) or None))
    if "secrets" in wanted:
        found.extend(check_secrets(td, clients))
    if "logs" in wanted:
        found.extend(check_logs(td, clients))
    return [*found, *checks]


def _running_task_definition(driver: EcsPlatform, config: EcsPlatformConfig, reach: Reach) -> TaskDef | str:
    """The task definition the service runs, or why ECS could not be reached (for an ``unavailable`` line).

    The driver's reads turn every AWS error into BadInput or NeedsHuman ("state
    unknown"), right for a driver that may have changed something. Verify has
    changed nothing yet, so an endpoint that gave no usable answer (connection
    refused, timeout, 5xx, throttling) is exit 5 instead. The driver raises
    with ``from None``, which keeps the AWS error as the exception's context.
    """
    from opsctl.aws.errors import error_message
    from opsctl.registry.awsfaults import unreachable

    try:
        service = driver.api.service()
        return driver.api.require_task_definition(str(service["taskDefinition"]))
    except (BadInput, NeedsHuman) as exc:
        cause = exc.__context__
        if cause is None or not unreachable(cause):
            raise
        what = f"reading the running task definition of {config.cluster}/{config.service}"
        detail = reach.redactor.text(error_message(cause))
        return f"ECS in {driver.api.region} is unavailable ({what}): {detail}; nothing was changed, try again"
