"""The ECS driver against a moto server on 127.0.0.1 (the real boto3 HTTP path).

Rollout outcomes moto cannot produce (FAILED, circuit-breaker reverts,
placement failures, throttling, lost answers) are injected with botocore
event handlers on the driver's own clients: requests still travel to moto,
only the answers are rewritten the way real ECS would write them.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from opsctl.config import EcsPlatformConfig
from opsctl.errors import BadInput, NeedsHuman
from opsctl.platforms.base import Release, RolloutOptions, RolloutStatus
from opsctl.platforms.ecs import EcsPlatform
from opsctl.platforms.ecs_taskdef import diff_lines, masked, registrable
from opsctl.values.redact import Redactor
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService, MotoServer, create_ecs_service

# Fixtures come from tests/support (no shared conftest); binding them here makes pytest see them.
moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

SECRET = "sk-live-0123456789abcdef"
NEW_DEPLOYMENT = "ecs-svc/9999000011112222"


def make_platform(svc: EcsService, redactor: Redactor | None = None, **overrides: Any) -> EcsPlatform:
    config = EcsPlatformConfig.model_validate(svc.platform_config(**overrides))
    return EcsPlatform.from_config(config, redactor=redactor)


def fast(**kwargs: Any) -> RolloutOptions:
    kwargs.setdefault("poll_interval", 0.02)
    kwargs.setdefault("timeout", 10.0)
    return RolloutOptions(**kwargs)


def revisions(svc: EcsService, status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE") -> list[str]:
    arns = svc.client().list_task_definitions(familyPrefix=svc.family, status=status)["taskDefinitionArns"]
    return sorted(arn.rsplit("/", 1)[-1] for arn in arns)


def service_now(svc: EcsService) -> dict[str, Any]:
    return dict(svc.client().describe_services(cluster=svc.cluster, services=[svc.service])["services"][0])


def deployment(dep_id: str, td: str, status: str, state: str, running: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": dep_id,
        "status": status,
        "taskDefinition": td,
        "desiredCount": 1,
        "runningCount": running,
        "pendingCount": 1 - running,
        "rolloutState": state,
        "rolloutStateReason": extra.pop("reason", f"ECS deployment {dep_id} {state.lower()}."),
        **extra,
    }


def real_ecs_view(platform: EcsPlatform, edit: Any) -> dict[str, Any]:
    """Make moto's answers look like real ECS during a rollout.

    UpdateService's answer gets a new PRIMARY deployment for the new task
    definition (moto keeps the old record); after that, every DescribeServices
    answer is passed to ``edit(service, poll_number)`` to script the rollout.
    """
    state: dict[str, Any] = {"updated": False, "polls": 0, "old": None}

    def after_update(parsed: dict[str, Any], **_: Any) -> None:
        service = parsed["service"]
        old = service["deployments"][0]
        state.update(updated=True, old=old["taskDefinition"])
        service["deployments"] = [
            deployment(NEW_DEPLOYMENT, service["taskDefinition"], "PRIMARY", "IN_PROGRESS", running=0),
            {**old, "status": "ACTIVE"},
        ]

    def after_describe(parsed: dict[str, Any], **_: Any) -> None:
        if state["updated"] and parsed.get("services"):
            state["polls"] += 1
            edit(parsed["services"][0], state["polls"])

    platform.write_client.meta.events.register("after-call.ecs.UpdateService", after_update)
    platform.client.meta.events.register("after-call.ecs.DescribeServices", after_describe)
    return state


def event(event_id: str, message: str) -> dict[str, Any]:
    return {"id": event_id, "createdAt": datetime.now(UTC), "message": message}


# -- reads ---------------------------------------------------------------------------


def test_current_release_is_the_services_task_definition(ecs_service: EcsService) -> None:
    release = make_platform(ecs_service).current_release()

    assert release.id == "hvb:1"
    assert release.image == "hvb:1.7.0"
    assert release.tag == "1.7.0"
    assert release.detail["arn"] == ecs_service.task_definition_arn
    assert release.detail["status"] == "ACTIVE"


def test_describe_names_the_target(ecs_service: EcsService) -> None:
    assert make_platform(ecs_service).describe() == "ecs hvb-staging/hotel-voice-bot (eu-west-1)"


def test_releases_are_active_revisions_of_the_family_newest_first(ecs_service: EcsService) -> None:
    client = ecs_service.client()
    for tag in ("1.7.1", "1.7.2", "1.8.0"):
        client.register_task_definition(
            family="hvb", containerDefinitions=[{"name": "bot", "image": f"hvb:{tag}", "memory": 256}]
        )
    client.deregister_task_definition(taskDefinition="hvb:3")
    # Another family whose name starts with ours must not leak in (familyPrefix is a prefix).
    client.register_task_definition(
        family="hvb-worker", containerDefinitions=[{"name": "bot", "image": "hvb:9.9.9", "memory": 256}]
    )
    platform = make_platform(ecs_service)

    assert [(r.id, r.image) for r in platform.releases()] == [
        ("hvb:4", "hvb:1.8.0"),
        ("hvb:2", "hvb:1.7.1"),
        ("hvb:1", "hvb:1.7.0"),
    ]
    assert [r.id for r in platform.releases(limit=2)] == ["hvb:4", "hvb:2"]


def test_find_release_by_id_arn_revision_and_image(ecs_service: EcsService) -> None:
    client = ecs_service.client()
    client.register_task_definition(
        family="hvb", containerDefinitions=[{"name": "bot", "image": "hvb:1.8.0", "memory": 256}]
    )
    platform = make_platform(ecs_service)

    assert platform.find_release("hvb:2") == platform.find_release("hvb:1.8.0")
    found = platform.find_release("hvb:2")
    assert found is not None
    assert found.image == "hvb:1.8.0"
    by_arn = platform.find_release(ecs_service.task_definition_arn)
    assert by_arn is not None
    assert by_arn.id == "hvb:1"
    by_revision = platform.find_release("1")
    assert by_revision is not None
    assert by_revision.image == "hvb:1.7.0"
    assert platform.find_release("hvb:99") is None
    assert platform.find_release("hvb:2.0.0") is None


def test_can_deploy_is_false_for_an_inactive_revision(ecs_service: EcsService) -> None:
    client = ecs_service.client()
    client.register_task_definition(
        family="hvb", containerDefinitions=[{"name": "bot", "image": "hvb:1.8.0", "memory": 256}]
    )
    platform = make_platform(ecs_service)
    release = platform.find_release("hvb:2")
    assert release is not None
    assert platform.can_deploy(release) == (True, "")

    client.deregister_task_definition(taskDefinition="hvb:2")

    assert platform.can_deploy(release) == (
        False,
        "task definition hvb:2 is INACTIVE (deregistered); ECS cannot deploy it",
    )
    assert platform.can_deploy(Release(id="hvb:42", image="hvb:0")) == (
        False,
        "task definition hvb:42 does not exist",
    )


def test_warnings_report_more_than_one_deployment(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    assert platform.warnings() == []
    old = ecs_service.task_definition_arn

    def two_deployments(parsed: dict[str, Any], **_: Any) -> None:
        parsed["services"][0]["deployments"] = [
            deployment(NEW_DEPLOYMENT, old.replace(":1", ":2"), "PRIMARY", "IN_PROGRESS", running=0),
            deployment("ecs-svc/1", old, "ACTIVE", "COMPLETED"),
        ]

    platform.client.meta.events.register("after-call.ecs.DescribeServices", two_deployments)

    assert platform.warnings() == [
        "2 deployments in progress on hotel-voice-bot: hvb:2 primary in_progress, hvb:1 active completed"
    ]


# -- input errors: one clear line ----------------------------------------------------------


def test_missing_cluster_names_it_and_the_region(ecs_service: EcsService) -> None:
    with pytest.raises(BadInput) as caught:
        make_platform(ecs_service, cluster="hvb-nope").current_release()
    assert str(caught.value) == "ECS cluster 'hvb-nope' not found in region eu-west-1"


def test_missing_service_names_it_and_the_cluster(ecs_service: EcsService) -> None:
    with pytest.raises(BadInput) as caught:
        make_platform(ecs_service, service="hotel-nope").plan("hvb:1.8.0")
    assert str(caught.value) == "ECS service 'hotel-nope' not found in cluster 'hvb-staging' (eu-west-1)"


def test_missing_container_lists_the_containers(aws: MotoServer) -> None:
    sidecar = {"name": "envoy", "image": "envoy:1.30", "memory": 128}
    svc = create_ecs_service(aws, sidecars=[sidecar])
    with pytest.raises(BadInput) as caught:
        make_platform(svc, container="web").deploy("hvb:1.8.0", fast())
    assert str(caught.value) == (
        "container 'web' is not in task definition hvb:1 (it has: bot, envoy); set platform.container in opsctl.yaml"
    )
    assert revisions(svc) == ["hvb:1"]


def test_missing_credentials_says_how_to_provide_them(ecs_service: EcsService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(BadInput) as caught:
        make_platform(ecs_service).current_release()
    assert str(caught.value) == (
        "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
        "or run `aws sso login`"
    )


def test_no_region_says_where_to_set_it(ecs_service: EcsService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(BadInput) as caught:
        make_platform(ecs_service, region=None)
    assert str(caught.value) == (
        "no AWS region: set platform.region in opsctl.yaml, or AWS_REGION / AWS_DEFAULT_REGION"
    )


def test_endpoint_comes_from_aws_endpoint_url_when_not_configured(ecs_service: EcsService) -> None:
    # The `aws` fixture exports AWS_ENDPOINT_URL; boto3's own handling must apply.
    platform = make_platform(ecs_service, endpoint_url=None)
    assert platform.client.meta.endpoint_url == ecs_service.endpoint_url
    assert platform.current_release().id == "hvb:1"


# -- plan ------------------------------------------------------------------------------


def test_plan_shows_only_the_image_change_and_changes_nothing(aws: MotoServer) -> None:
    svc = create_ecs_service(aws, environment=[{"name": "OPENAI_API_KEY", "value": SECRET}])
    before = service_now(svc)

    plan = make_platform(svc).plan("hvb:1.8.0")

    assert plan.summary == "hvb:1 (hvb:1.7.0) -> new revision of hvb with hvb:1.8.0"
    assert plan.current is not None
    assert plan.current.id == "hvb:1"
    changed = [line for line in plan.diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ['-      "image": "hvb:1.7.0",', '+      "image": "hvb:1.8.0",']
    assert plan.diff[:2] == ("--- hvb:1", "+++ hvb:(new)")
    assert not any(SECRET in line for line in plan.diff)
    assert revisions(svc) == ["hvb:1"]
    assert service_now(svc)["taskDefinition"] == before["taskDefinition"]


def test_shown_task_definitions_mask_environment_values_and_secret_references() -> None:
    body: dict[str, Any] = {
        "family": "hvb",
        "containerDefinitions": [
            {
                "name": "bot",
                "image": "hvb:1.7.0",
                "environment": [{"name": "OPENAI_API_KEY", "value": SECRET}],
                "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/db"}],
            }
        ],
    }
    new = {**body, "family": "hvb2"}

    lines = diff_lines(body, new, "hvb:1", "hvb:(new)", Redactor(), context=50)

    text = "\n".join(lines)
    assert SECRET not in text
    assert "parameter/db" not in text
    assert '"value": "***"' in text
    assert '"valueFrom": "***"' in text
    assert masked(body)["containerDefinitions"][0]["environment"] == [{"name": "OPENAI_API_KEY", "value": "***"}]
    assert body["containerDefinitions"][0]["environment"][0]["value"] == SECRET  # the original is untouched


def test_plan_for_the_running_image_registers_nothing(ecs_service: EcsService) -> None:
    plan = make_platform(ecs_service).plan("hvb:1.7.0")
    assert plan.summary == "hvb:1 already runs hvb:1.7.0; deploy would follow it without a new revision"
    assert plan.diff == ()


# -- deploy ----------------------------------------------------------------------------


def test_deploy_registers_a_revision_with_only_the_image_changed(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)

    result = platform.deploy("hvb:1.8.0", fast())

    assert result.status is RolloutStatus.STABLE
    assert result.release is not None
    assert (result.release.id, result.release.image) == ("hvb:2", "hvb:1.8.0")
    assert result.message == "hvb:2 (hvb:1.8.0) is stable: 1/1 tasks running"
    client = ecs_service.client()
    old = client.describe_task_definition(taskDefinition="hvb:1", include=["TAGS"])
    new = client.describe_task_definition(taskDefinition="hvb:2", include=["TAGS"])
    old_body = registrable(old["taskDefinition"])
    new_body = registrable(new["taskDefinition"])
    assert new_body["containerDefinitions"][0].pop("image") == "hvb:1.8.0"
    assert old_body["containerDefinitions"][0].pop("image") == "hvb:1.7.0"
    assert new_body == old_body
    assert new["tags"] == [{"key": "team", "value": "hvb"}]
    service = service_now(ecs_service)
    assert service["taskDefinition"].endswith("task-definition/hvb:2")
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    assert revisions(ecs_service) == ["hvb:1", "hvb:2"]  # nothing deregistered


def test_deploy_again_follows_instead_of_registering(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    assert platform.deploy("hvb:1.8.0", fast()).ok

    again = platform.deploy("hvb:1.8.0", fast())

    assert again.status is RolloutStatus.STABLE
    assert again.release is not None
    assert again.release.id == "hvb:2"
    assert revisions(ecs_service) == ["hvb:1", "hvb:2"]


def test_resume_reuses_a_revision_registered_before_a_crash(ecs_service: EcsService) -> None:
    # An earlier attempt registered hvb:2 and died before UpdateService.
    client = ecs_service.client()
    source = client.describe_task_definition(taskDefinition="hvb:1", include=["TAGS"])
    body = registrable(source["taskDefinition"])
    body["containerDefinitions"][0]["image"] = "hvb:1.8.0"
    client.register_task_definition(**body, tags=source["tags"])

    result = make_platform(ecs_service).deploy("hvb:1.8.0", fast())

    assert result.ok
    assert result.release is not None
    assert result.release.id == "hvb:2"
    assert result.detail["registered"] is False
    assert revisions(ecs_service) == ["hvb:1", "hvb:2"]


def test_real_ecs_rollout_streams_new_events_and_ends_stable(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    old_event = event("e-old", "(service hotel-voice-bot) has reached a steady state.")

    def before(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("services"):
            parsed["services"][0]["events"] = [old_event]

    platform.client.meta.events.register("after-call.ecs.DescribeServices", before)

    def script(service: dict[str, Any], poll: int) -> None:
        ours, old = service["taskDefinition"], ecs_service.task_definition_arn
        started = event("e1", "(service hotel-voice-bot) has started 1 tasks: (task 1).")
        if poll < 3:
            service["events"] = [started, old_event]
            service["deployments"] = [
                deployment(NEW_DEPLOYMENT, ours, "PRIMARY", "IN_PROGRESS", running=0),
                deployment("ecs-svc/old", old, "ACTIVE", "COMPLETED"),
            ]
        else:
            steady = event("e2", "(service hotel-voice-bot) has reached a steady state.")
            service["events"] = [steady, started, old_event]
            service["deployments"] = [deployment(NEW_DEPLOYMENT, ours, "PRIMARY", "COMPLETED")]

    state = real_ecs_view(platform, script)
    seen: list[str] = []

    result = platform.deploy("hvb:1.8.0", fast(on_event=seen.append))

    assert result.status is RolloutStatus.STABLE
    assert result.detail["deployment_id"] == NEW_DEPLOYMENT
    assert state["polls"] == 3
    assert seen == [
        "(service hotel-voice-bot) has started 1 tasks: (task 1).",
        "(service hotel-voice-bot) has reached a steady state.",
    ]


def test_failed_rollout_is_detected_without_waiting_for_the_timeout(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)

    def script(service: dict[str, Any], poll: int) -> None:
        service["deployments"] = [
            deployment(
                NEW_DEPLOYMENT,
                service["taskDefinition"],
                "PRIMARY",
                "FAILED",
                running=0,
                reason="ECS deployment circuit breaker: tasks failed to start.",
            ),
            deployment("ecs-svc/old", ecs_service.task_definition_arn, "ACTIVE", "COMPLETED"),
        ]

    real_ecs_view(platform, script)
    started = time.monotonic()

    result = platform.deploy("hvb:1.8.0", fast(timeout=60.0))

    assert result.status is RolloutStatus.FAILED
    assert result.message == "ECS rollout of hvb:2 failed: ECS deployment circuit breaker: tasks failed to start."
    assert time.monotonic() - started < 5


def test_circuit_breaker_rollback_is_reported_as_reverted(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    old = ecs_service.task_definition_arn

    def script(service: dict[str, Any], poll: int) -> None:
        ours = service["taskDefinition"]
        service["taskDefinition"] = old  # ECS pointed the service back
        service["deployments"] = [
            deployment("ecs-svc/rollback", old, "PRIMARY", "IN_PROGRESS"),
            deployment(NEW_DEPLOYMENT, ours, "ACTIVE", "FAILED", running=0),
        ]

    real_ecs_view(platform, script)

    result = platform.deploy("hvb:1.8.0", fast(timeout=60.0))

    assert result.status is RolloutStatus.REVERTED
    assert result.message == (
        "ECS rolled the service back to hvb:1 (deployment circuit breaker); hvb:2 did not become stable"
    )
    assert result.release is not None
    assert result.release.id == "hvb:1"


def test_placement_failure_event_fails_the_rollout(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service, redactor=Redactor([SECRET]))
    message = (
        "(service hotel-voice-bot) was unable to place a task because no container instance met all of "
        f"its requirements. token={SECRET}"
    )

    def script(service: dict[str, Any], poll: int) -> None:
        service["events"] = [event("e-place", message)]
        service["deployments"][0] = deployment(
            NEW_DEPLOYMENT, service["taskDefinition"], "PRIMARY", "IN_PROGRESS", running=0
        )

    real_ecs_view(platform, script)
    seen: list[str] = []

    result = platform.deploy("hvb:1.8.0", fast(timeout=60.0, on_event=seen.append))

    shown = message.replace(SECRET, "***")
    assert result.status is RolloutStatus.FAILED
    assert result.message == f"ECS cannot place tasks for hvb:2: {shown}"
    assert seen == [shown]


def test_rollout_that_never_completes_times_out(aws: MotoServer) -> None:
    svc = create_ecs_service(aws, running=0)  # moto keeps this deployment IN_PROGRESS

    result = make_platform(svc).deploy("hvb:1.8.0", fast(timeout=0.3))

    assert result.status is RolloutStatus.TIMEOUT
    assert result.message == "hvb:2 not stable after 300ms (rollout in_progress, 0/1 tasks running)"
    assert result.release is not None
    assert result.release.id == "hvb:2"


def test_cancel_interrupts_promptly(aws: MotoServer) -> None:
    svc = create_ecs_service(aws, running=0)
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    started = time.monotonic()
    try:
        result = make_platform(svc).deploy("hvb:1.8.0", fast(timeout=60.0, poll_interval=5.0, cancel=cancel))
    finally:
        timer.cancel()

    assert result.status is RolloutStatus.INTERRUPTED
    assert result.message == "stopped following hvb:2 (cancelled); ECS continues the rollout by itself"
    assert time.monotonic() - started < 3


# -- careful mutating calls -------------------------------------------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def test_throttled_update_is_retried_and_applied_once(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    calls = {"throttled": 0, "sent": 0}

    def throttle_first(request: Any, **_: Any) -> Any:
        if calls["throttled"] == 0:
            calls["throttled"] += 1
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
            headers: Any = {
                "x-amzn-errortype": "ThrottlingException",
                "content-type": "application/x-amz-json-1.1",
            }
            return AWSResponse(request.url, 400, headers, _Body(body))
        calls["sent"] += 1
        return None  # let the request go to moto

    platform.write_client.meta.events.register("before-send.ecs.UpdateService", throttle_first)
    seen: list[str] = []

    result = platform.deploy("hvb:1.8.0", fast(on_event=seen.append))

    assert result.status is RolloutStatus.STABLE
    assert calls == {"throttled": 1, "sent": 1}
    assert seen == ["updating hotel-voice-bot to hvb:2: throttled by ECS, retrying"]
    assert service_now(ecs_service)["taskDefinition"].endswith("hvb:2")


def test_lost_update_answer_is_checked_not_resent(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    calls = {"update": 0, "describe_after_timeout": 0}

    def deliver_then_time_out(request: Any, **_: Any) -> None:
        calls["update"] += 1
        if calls["update"] == 1:
            URLLib3Session(timeout=10).send(request)  # the update reaches moto ...
            raise ReadTimeoutError(endpoint_url=request.url)  # ... and its answer is lost

    def count_describes(**_: Any) -> None:
        if calls["update"]:
            calls["describe_after_timeout"] += 1

    platform.write_client.meta.events.register("before-send.ecs.UpdateService", deliver_then_time_out)
    platform.client.meta.events.register("before-send.ecs.DescribeServices", count_describes)
    seen: list[str] = []

    result = platform.deploy("hvb:1.8.0", fast(on_event=seen.append))

    assert result.status is RolloutStatus.STABLE
    assert calls["update"] == 1
    assert calls["describe_after_timeout"] >= 1
    assert seen == [
        "updating hotel-voice-bot to hvb:2: no clear answer from ECS (ReadTimeoutError); "
        "checking whether it took effect"
    ]


def test_registration_lost_to_a_server_error_is_not_registered_twice(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    calls = {"register": 0}

    def deliver_then_fail(request: Any, **_: Any) -> Any:
        calls["register"] += 1
        if calls["register"] > 1:
            return None
        URLLib3Session(timeout=10).send(request)
        body = json.dumps({"__type": "ServerException", "message": "internal error"}).encode()
        headers: Any = {"x-amzn-errortype": "ServerException", "content-type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, 500, headers, _Body(body))

    platform.write_client.meta.events.register("before-send.ecs.RegisterTaskDefinition", deliver_then_fail)

    result = platform.deploy("hvb:1.8.0", fast())

    assert result.ok
    assert calls["register"] == 1
    assert revisions(ecs_service) == ["hvb:1", "hvb:2"]


def test_a_rejected_registration_is_one_redacted_line(aws: MotoServer) -> None:
    svc = create_ecs_service(aws)
    platform = make_platform(svc, redactor=Redactor([SECRET]))

    def reject(request: Any, **_: Any) -> Any:
        message = f"Container.environment value {SECRET} is not valid"
        body = json.dumps({"__type": "ClientException", "message": message}).encode()
        headers: Any = {"x-amzn-errortype": "ClientException", "content-type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, 400, headers, _Body(body))

    platform.write_client.meta.events.register("before-send.ecs.RegisterTaskDefinition", reject)

    with pytest.raises(BadInput) as caught:
        platform.deploy("hvb:1.8.0", fast())

    assert str(caught.value) == (
        "registering a new revision of hvb: ECS refused: Container.environment value *** is not valid"
    )
    assert revisions(svc) == ["hvb:1"]


def test_an_update_that_never_lands_is_resent_only_after_looking(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    trace: list[str] = []

    def lose(request: Any, **_: Any) -> None:
        trace.append("update")
        raise ReadTimeoutError(endpoint_url=request.url)  # never reaches moto

    platform.write_client.meta.events.register("before-send.ecs.UpdateService", lose)
    platform.client.meta.events.register(
        "before-send.ecs.DescribeServices", lambda **_: trace.append("describe") if trace else None
    )

    with pytest.raises(NeedsHuman) as caught:
        platform.deploy("hvb:1.8.0", fast())

    assert str(caught.value) == (
        "updating hotel-voice-bot to hvb:2: no clear answer from ECS after 5 attempts and the change "
        "is not visible; check the service in the AWS console"
    )
    assert trace == ["update", "describe"] * 5
    assert service_now(ecs_service)["taskDefinition"].endswith("task-definition/hvb:1")


# -- rollback ------------------------------------------------------------------------------


def test_rollback_puts_back_the_exact_revision(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    assert platform.deploy("hvb:1.8.0", fast()).ok
    previous = platform.find_release("hvb:1")
    assert previous is not None

    result = platform.rollback(previous, fast())

    assert result.status is RolloutStatus.STABLE
    assert result.release is not None
    assert (result.release.id, result.release.image) == ("hvb:1", "hvb:1.7.0")
    assert service_now(ecs_service)["taskDefinition"].endswith("task-definition/hvb:1")
    assert revisions(ecs_service) == ["hvb:1", "hvb:2"]  # no revision registered or removed


def test_rollback_to_an_inactive_revision_is_refused(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    assert platform.deploy("hvb:1.8.0", fast()).ok
    previous = platform.find_release("hvb:1")
    assert previous is not None
    ecs_service.client().deregister_task_definition(taskDefinition="hvb:1")

    with pytest.raises(BadInput) as caught:
        platform.rollback(previous, fast())

    assert str(caught.value) == "cannot roll back to hvb:1: its task definition is INACTIVE (deregistered)"
    assert service_now(ecs_service)["taskDefinition"].endswith("task-definition/hvb:2")
