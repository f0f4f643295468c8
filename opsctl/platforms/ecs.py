"""The AWS ECS driver: one service of one cluster, deployed by task definition revisions.

A deploy registers a new revision of the service's task definition in which
only the configured container's image differs, points the service at it with
the deployment circuit breaker on, and follows that deployment. Revisions are
never deregistered: a rollback may need any of them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from opsctl.config import EcsPlatformConfig
from opsctl.errors import BadInput
from opsctl.platforms.base import (
    DeployPlan,
    Platform,
    Release,
    RolloutOptions,
    RolloutResult,
    RolloutStatus,
    checked_image,
)
from opsctl.platforms.ecs_api import EcsApi
from opsctl.platforms.ecs_aws import Cancelled, make_clients, mutate
from opsctl.platforms.ecs_diagnosis import EcsInspector, LogsClients
from opsctl.platforms.ecs_follow import Follower, Target, event_ids, our_deployment
from opsctl.platforms.ecs_taskdef import (
    TaskDef,
    diff_lines,
    registrable,
    release_of,
    td_family,
    td_id,
    td_revision,
    with_image,
)
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

    from opsctl.platforms.migration import MigrationRequest, MigrationResult

_REVISION_REF = re.compile(r"^(?:(?P<family>[A-Za-z0-9_-]+):)?(?P<revision>\d+)$")
_FIND_SCAN_LIMIT = 100  # how many ACTIVE revisions find_release(image) looks through


class EcsPlatform(Platform):
    """One ECS service. ``client`` reads (with botocore retries); ``write_client``
    registers task definitions and updates the service and should have botocore
    retries disabled (:func:`opsctl.platforms.ecs_aws.make_clients` makes both);
    it defaults to ``client``.
    """

    kind = "ecs"

    def __init__(
        self,
        config: EcsPlatformConfig,
        client: ECSClient,
        *,
        write_client: ECSClient | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.config = config
        self.redactor = redactor or Redactor()
        self.api = EcsApi(config, client, write_client or client, self.redactor)
        self._logs = LogsClients(self.api.region, config.endpoint_url, config.profile)

    @classmethod
    def from_config(cls, config: EcsPlatformConfig, *, redactor: Redactor | None = None) -> EcsPlatform:
        """Make the clients from ``config`` (region, profile, endpoint_url) and the standard AWS chain."""
        client, write_client = make_clients(config.region, config.endpoint_url, config.profile)
        return cls(config, client, write_client=write_client, redactor=redactor)

    def describe(self) -> str:
        return f"ecs {self.config.cluster}/{self.config.service} ({self.api.region})"

    @property
    def client(self) -> ECSClient:
        """The reading client (tests register botocore event handlers on it)."""
        return self.api.client

    @property
    def write_client(self) -> ECSClient:
        """The client for RegisterTaskDefinition and UpdateService."""
        return self.api.write_client

    def _family(self) -> str:
        return td_family(str(self.api.service().get("taskDefinition", "")))

    def _release_or_none(self, ref: str, family: str) -> Release | None:
        """The release for ``ref`` when it is a revision of ``family`` (the service's)."""
        td = self.api.task_definition(ref)
        if td is None or td_family(td.get("taskDefinitionArn", "")) != family:
            return None
        return release_of(td, self.config.container)

    def current_release(self) -> Release:
        service = self.api.service()
        return release_of(self.api.require_task_definition(str(service["taskDefinition"])), self.config.container)

    def releases(self, limit: int = 20) -> list[Release]:
        family = self._family()
        found = (self._release_or_none(arn, family) for arn in self.api.active_arns(family, limit))
        return [r for r in found if r is not None]

    def find_release(self, ref: str) -> Release | None:
        """By ``family:revision`` (or a bare revision), task definition ARN, or image reference.

        ``hvb:12`` is read as revision 12 of family ``hvb`` first (when the
        service's family is ``hvb``), then as an image.
        """
        family = self._family()
        if ref.startswith("arn:"):
            return self._release_or_none(ref, family)
        match = _REVISION_REF.match(ref)
        if match and match["family"] in (None, family):
            found = self._release_or_none(f"{family}:{match['revision']}", family)
            if found is not None:
                return found
        for arn in self.api.active_arns(family, _FIND_SCAN_LIMIT):
            release = self._release_or_none(arn, family)
            if release is not None and release.image == ref:
                return release
        return None

    def can_deploy(self, release: Release) -> tuple[bool, str]:
        ref = str(release.detail.get("arn") or release.id)
        td = self.api.task_definition(ref)
        if td is None:
            return False, f"task definition {td_id(ref)} does not exist"
        status = td.get("status", "UNKNOWN")
        if status != "ACTIVE":
            return False, f"task definition {td_id(ref)} is {status} (deregistered); ECS cannot deploy it"
        return True, ""

    def warnings(self) -> list[str]:
        service = self.api.service()
        found: list[str] = []
        deployments = service.get("deployments", [])
        if len(deployments) > 1:
            names = ", ".join(
                f"{td_id(str(d.get('taskDefinition', '?')))} {str(d.get('status', '?')).lower()}"
                f" {str(d.get('rolloutState', '')).lower()}".rstrip()
                for d in deployments
            )
            found.append(f"{len(deployments)} deployments in progress on {self.config.service}: {names}")
        for deployment in deployments:
            if deployment.get("status") == "PRIMARY" and deployment.get("rolloutState") == "FAILED":
                reason = self.redactor.text(str(deployment.get("rolloutStateReason", "")))
                found.append(f"the last rollout failed: {reason}")
        if service.get("runningCount", 0) < service.get("desiredCount", 0):
            found.append(f"{service.get('runningCount', 0)}/{service.get('desiredCount', 0)} tasks running")
        return found

    # -- plan and changes ----------------------------------------------------------

    def plan(self, image: ImageRef | str) -> DeployPlan:
        image = str(checked_image(image))  # before any call: a malformed image never reaches a task definition
        service = self.api.service()
        td = self.api.require_task_definition(str(service["taskDefinition"]))
        current = release_of(td, self.config.container)
        family = str(td.get("family"))
        if current.image == image:
            summary = f"{current.id} already runs {image}; deploy would follow it without a new revision"
            return DeployPlan(current=current, image=image, summary=summary, detail={"family": family})
        old = registrable(td, self.api.register_keys())
        new = with_image(old, self.config.container, image)
        diff = diff_lines(old, new, current.id, f"{family}:(new)", self.redactor)
        summary = f"{current.id} ({current.image}) -> new revision of {family} with {image}"
        return DeployPlan(current=current, image=image, summary=summary, diff=diff, detail={"family": family})

    def plan_rollback(self, to: Release) -> DeployPlan:
        """The running revision -> ``to``'s exact revision: every field a rollback puts back, not only the image."""
        service = self.api.service()
        td = self.api.require_task_definition(str(service["taskDefinition"]))
        current = release_of(td, self.config.container)
        target = self.api.task_definition(str(to.detail.get("arn") or to.id))
        if target is None:
            raise BadInput(f"cannot roll back to {to.id}: its task definition does not exist")
        keys = self.api.register_keys()
        diff = diff_lines(registrable(td, keys), registrable(target, keys), current.id, to.id, self.redactor)
        summary = f"{current.id} ({current.image}) -> {to.id} ({to.image})"
        detail = {"family": td.get("family")}
        return DeployPlan(current=current, image=to.image, summary=summary, diff=diff, detail=detail)

    def deploy(self, image: ImageRef | str, options: RolloutOptions) -> RolloutResult:
        image = str(checked_image(image))  # before any call: a malformed image never reaches a task definition
        service = self.api.service()
        td = self.api.require_task_definition(str(service["taskDefinition"]))
        current = release_of(td, self.config.container)
        if current.image == image:
            # Resume (or a repeated deploy): the service already points at a
            # revision with this image; follow it rather than add another.
            target = Target(current, previous=None, seen_events=event_ids(service))
            return self._follow(target, options)
        body = with_image(registrable(td, self.api.register_keys()), self.config.container, image)
        try:
            new_td, registered = self._reuse_or_register(body, td, options)
            target = Target(release_of(new_td, self.config.container), current, registered=registered)
            self._point_service_at(target, service, options)
        except Cancelled:
            message = f"cancelled before ECS confirmed the update; the service ran {current.id} before"
            return RolloutResult(RolloutStatus.INTERRUPTED, current, message)
        return self._follow(target, options)

    def rollback(self, to: Release, options: RolloutOptions) -> RolloutResult:
        ref = str(to.detail.get("arn") or to.id)
        td = self.api.task_definition(ref)
        if td is None or td.get("status") != "ACTIVE":
            state = "does not exist" if td is None else f"is {td.get('status')} (deregistered)"
            raise BadInput(f"cannot roll back to {td_id(ref)}: its task definition {state}")
        service = self.api.service()
        previous = release_of(self.api.require_task_definition(str(service["taskDefinition"])), self.config.container)
        target = Target(release_of(td, self.config.container), previous)
        if td_id(str(service.get("taskDefinition", ""))) == target.release.id:
            target.seen_events = event_ids(service)
            return self._follow(target, options)
        try:
            self._point_service_at(target, service, options)
        except Cancelled:
            message = f"cancelled before ECS confirmed the update; the service ran {previous.id} before"
            return RolloutResult(RolloutStatus.INTERRUPTED, previous, message)
        return self._follow(target, options)

    def _reuse_or_register(self, body: TaskDef, source: TaskDef, options: RolloutOptions) -> tuple[TaskDef, bool]:
        """A revision equal to ``body``: one registered after ``source`` by an earlier try, else a new one."""
        family = str(source.get("family"))
        newer = int(source.get("revision", 0))

        def existing() -> TaskDef | None:
            for arn in self.api.active_arns(family, 5):
                if td_revision(arn) <= newer:
                    break
                candidate = self.api.task_definition(arn)
                if candidate is not None and registrable(candidate, body.keys()) == body:
                    return candidate
            return None

        found = existing()
        if found is not None:
            return found, False
        created = mutate(
            f"registering a new revision of {family}",
            lambda: self.api.register(body),
            existing,
            cancel=options.cancel,
            base_delay=min(options.poll_interval, 1.0),
            on_retry=options.on_event,
            redact=self.redactor.text,
            fence=options.fence,
        )
        return created, True

    def _point_service_at(self, target: Target, service: dict[str, Any], options: RolloutOptions) -> None:
        """UpdateService to ``target`` with the circuit breaker on; records our deployment id."""
        cfg = self.config
        target.seen_events = event_ids(service)
        # Keep the service's own percentages and alarms; only force the breaker on.
        deployment_config = {
            **service.get("deploymentConfiguration", {}),
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        }

        def took_effect() -> dict[str, Any] | None:
            now = self.api.service()
            return now if td_id(str(now.get("taskDefinition", ""))) == target.release.id else None

        updated = mutate(
            f"updating {cfg.service} to {target.release.id}",
            lambda: self.api.update_service(target.arn, deployment_config),
            took_effect,
            cancel=options.cancel,
            base_delay=min(options.poll_interval, 1.0),
            on_retry=options.on_event,
            redact=self.redactor.text,
            fence=options.fence,
        )
        deployment = our_deployment(updated, target)
        target.deployment_id = str(deployment["id"]) if deployment and deployment.get("id") else None

    def _follow(self, target: Target, options: RolloutOptions) -> RolloutResult:
        def release_for(arn: str) -> Release | None:
            td = self.api.task_definition(arn)
            return release_of(td, self.config.container) if td is not None else None

        inspector = EcsInspector(
            self.api,
            self.config.container,
            self.redactor,
            logs_client=self._logs,
            log_lines=self.config.log_lines,
        )
        follower = Follower(
            describe=self.api.service,
            release_for=release_for,
            redactor=self.redactor,
            options=options,
            inspector=inspector,
            stall_timeout=self.config.stall_timeout,
        )
        return follower.follow(target)

    def run_migration(self, request: MigrationRequest, options: RolloutOptions) -> MigrationResult:
        """A one-off task of the revision the deploy will use runs the migration (:mod:`.ecs_migrate`)."""
        from opsctl.platforms.ecs_migrate import EcsMigration

        migration = EcsMigration(self.api, self.config, self.redactor, self._reuse_or_register, logs_client=self._logs)
        return migration.run(request, options)

    def close(self) -> None:
        self._logs.close()
        self.api.client.close()
        if self.api.write_client is not self.api.client:
            self.api.write_client.close()
