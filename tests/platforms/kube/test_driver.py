"""The Kubernetes driver through the unmodified official client against the stand-in API server."""

from __future__ import annotations

import threading
import time

import pytest

from opsctl.errors import BadInput
from opsctl.platforms.base import Release, RolloutStatus
from opsctl.platforms.kube.driver import KubernetesPlatform
from opsctl.platforms.kube.objects import CHANGE_CAUSE, REVISION
from tests.platforms.kube.support import NEW, kube_api, kubeconfig, options, platform
from tests.support.kube_api import OLD, SIDECAR, KubeApiServer

__all__ = ["kube_api", "kubeconfig", "platform"]  # fixtures


def test_current_release_and_describe(platform: KubernetesPlatform) -> None:
    current = platform.current_release()
    assert (current.id, current.image, current.detail["revision"]) == (OLD, OLD, 1)
    assert platform.describe() == "kubernetes deployment hvb/hotel-voice-bot (context hvb-staging)"


def test_deploy_patches_only_the_named_container_and_records_the_run(
    platform: KubernetesPlatform, kube_api: KubeApiServer
) -> None:
    before = kube_api.deployment()
    events: list[str] = []
    result = platform.deploy(NEW, options(events, run_id="r20261130-101500-abcdef"))

    assert result.status is RolloutStatus.STABLE, result.message
    assert result.release is not None
    assert result.release.image == NEW
    after = kube_api.deployment()
    assert kube_api.images() == {"bot": NEW, "sidecar": SIDECAR}
    bot_before, side_before = before["spec"]["template"]["spec"]["containers"]
    bot_after, side_after = after["spec"]["template"]["spec"]["containers"]
    assert side_after == side_before, "the other container is untouched"
    assert {k: v for k, v in bot_after.items() if k != "image"} == {k: v for k, v in bot_before.items() if k != "image"}
    assert after["metadata"]["annotations"][CHANGE_CAUSE] == f"opsctl run r20261130-101500-abcdef: deploy {NEW}"
    assert after["metadata"]["annotations"][REVISION] == "2"
    (patch,) = kube_api.calls("PATCH", "/deployments/")
    assert patch.content_type == "application/strategic-merge-patch+json"
    assert patch.query == {"fieldManager": "opsctl"}
    assert patch.body == {
        "metadata": {"annotations": {CHANGE_CAUSE: f"opsctl run r20261130-101500-abcdef: deploy {NEW}"}},
        "spec": {"template": {"spec": {"containers": [{"name": "bot", "image": NEW}]}}},
    }
    assert kube_api.ready_image() == NEW
    assert events[0] == f"deployment hvb/hotel-voice-bot: container bot -> {NEW}"


def test_plan_is_a_server_side_dry_run_and_changes_nothing(
    platform: KubernetesPlatform, kube_api: KubeApiServer
) -> None:
    before = kube_api.deployment()
    plan = platform.plan(NEW)
    assert plan.summary == (
        f"deployment hvb/hotel-voice-bot: container bot {OLD} -> {NEW} "
        "(the API server accepted it in a server-side dry run)"
    )
    assert f"-    image: {OLD}" in plan.diff
    assert f"+    image: {NEW}" in plan.diff
    assert plan.diff[0] == "--- deployment hvb/hotel-voice-bot pod template (current)"
    (patch,) = kube_api.calls("PATCH")
    assert patch.query["dryRun"] == "All"
    after = kube_api.deployment()
    assert after["spec"] == before["spec"], "a dry run stores nothing"
    assert after["metadata"]["generation"] == before["metadata"]["generation"] == 1
    assert after["metadata"]["annotations"] == before["metadata"]["annotations"]
    assert platform.plan(OLD).summary == (
        f"deployment hvb/hotel-voice-bot already runs {OLD} in container bot; nothing to change"
    )


def test_plan_reports_an_admission_webhook_denial(platform: KubernetesPlatform, kube_api: KubeApiServer) -> None:
    kube_api.denied_images["unsigned"] = "image is not signed"
    with pytest.raises(BadInput) as caught:
        platform.plan("ghcr.io/hvb/bot:1.8.0-unsigned")
    assert str(caught.value) == (
        "the API server rejected the change of deployment hvb/hotel-voice-bot in a server-side dry run: "
        'admission webhook "images.policy.example" denied the request: image is not signed'
    )


def test_image_pull_backoff_fails_within_one_poll_naming_the_reason(
    platform: KubernetesPlatform, kube_api: KubeApiServer
) -> None:
    kube_api.cluster.fail_image("missing", "pull")
    image = "ghcr.io/hvb/bot:1.9.0-missing"
    started = time.monotonic()
    result = platform.deploy(image, options(timeout=30))
    elapsed = time.monotonic() - started

    assert result.status is RolloutStatus.FAILED
    assert result.message.startswith(f"rollout of {image} failed: pod hotel-voice-bot-")
    assert result.message.endswith(f': ImagePullBackOff: Back-off pulling image "{image}"')
    assert result.detail["diagnosis"]["reason"] == "ImagePullBackOff"
    assert elapsed < 3, "fails at the first poll that sees it, not at the progress deadline"
    assert kube_api.ready_image() == OLD, "the old pods keep serving"


def test_crash_loop_shows_the_last_log_lines(platform: KubernetesPlatform, kube_api: KubeApiServer) -> None:
    kube_api.cluster.fail_image("crash", "crash")
    result = platform.deploy("ghcr.io/hvb/bot:2.0.0-crash", options())
    assert result.status is RolloutStatus.FAILED
    assert "CrashLoopBackOff: restarted 1x, last exit code 1; last log lines: starting hotel-voice-bot | " in (
        result.message
    )
    assert result.message.endswith("KeyError: 'OPENAI_API_KEY' | worker exited with code 1")
    (log,) = kube_api.calls("GET", "/log")[:1]
    assert log.query == {"container": "bot", "previous": "True", "tailLines": "20"}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("oom", ": OOMKilled: container bot ran out of memory (restarted 1x)"),
        ("config", ': CreateContainerConfigError: secret "hvb-secrets" not found'),
    ],
)
def test_other_fatal_pod_states(
    platform: KubernetesPlatform, kube_api: KubeApiServer, mode: str, expected: str
) -> None:
    kube_api.cluster.fail_image("bad", mode)
    result = platform.deploy("ghcr.io/hvb/bot:2.0.0-bad", options())
    assert result.status is RolloutStatus.FAILED
    assert expected in result.message


def test_an_unschedulable_rollout_stalls_before_the_timeout(kubeconfig, kube_api: KubeApiServer) -> None:
    from tests.platforms.kube.support import config_for

    kube_api.cluster.fail_image("big", "unschedulable")
    driver = KubernetesPlatform.from_config(config_for(kubeconfig, stall_timeout="1s"))
    started = time.monotonic()
    result = driver.deploy("ghcr.io/hvb/bot:2.0.0-big", options(timeout=30))
    assert result.status is RolloutStatus.FAILED
    assert time.monotonic() - started < 5
    assert result.message.startswith("rollout of ghcr.io/hvb/bot:2.0.0-big failed: stalled: no progress for 1")
    assert "Unschedulable: 0/3 nodes are available: 3 Insufficient cpu." in result.message


def test_progress_deadline_exceeded_fails_at_once(platform: KubernetesPlatform, kube_api: KubeApiServer) -> None:
    with kube_api.cluster.lock:
        kube_api.cluster.objects[("deployments", "hvb", "hotel-voice-bot")]["spec"]["progressDeadlineSeconds"] = 1
    kube_api.cluster.fail_image("slow", "slow")
    result = platform.deploy("ghcr.io/hvb/bot:2.0.0-slow", options(timeout=30))
    assert result.status is RolloutStatus.FAILED
    assert "ProgressDeadlineExceeded" in result.message
    assert "has timed out progressing" in result.message


def test_a_timeout_shorter_than_the_rollout(platform: KubernetesPlatform, kube_api: KubeApiServer) -> None:
    kube_api.cluster.fail_image("slow", "slow")
    result = platform.deploy("ghcr.io/hvb/bot:2.0.0-slow", options(timeout=0.5))
    assert result.status in (RolloutStatus.TIMEOUT, RolloutStatus.FAILED)


def test_a_change_by_someone_else_is_reported_not_followed(
    platform: KubernetesPlatform, kube_api: KubeApiServer
) -> None:
    kube_api.cluster.fail_image("slow", "slow")
    timer = threading.Timer(0.3, kube_api.cluster.set_image, ("hvb", "hotel-voice-bot", "bot", "other:9"))
    timer.start()
    result = platform.deploy("ghcr.io/hvb/bot:2.0.0-slow", options())
    timer.join()
    assert result.status is RolloutStatus.REVERTED
    assert result.message == (
        "deployment hvb/hotel-voice-bot no longer rolls out ghcr.io/hvb/bot:2.0.0-slow: its bot image is now "
        "other:9 (changed by someone else)"
    )


def test_resume_follows_the_rollout_without_patching_again(
    platform: KubernetesPlatform, kube_api: KubeApiServer
) -> None:
    kube_api.cluster.set_image("hvb", "hotel-voice-bot", "bot", NEW)  # the first try of the run patched it
    result = platform.deploy(NEW, options())
    assert result.status is RolloutStatus.STABLE
    assert kube_api.calls("PATCH") == []


def test_a_lost_lock_stops_the_deploy_before_the_patch(platform: KubernetesPlatform, kube_api: KubeApiServer) -> None:
    def fence() -> None:
        raise BadInput("lost the lock on staging")

    with pytest.raises(BadInput, match="lost the lock"):
        platform.deploy(NEW, options(fence=fence))
    assert kube_api.calls("PATCH") == []
    assert kube_api.images()["bot"] == OLD


def test_rollback_patches_the_chosen_image_back_not_the_previous_replica_set(
    platform: KubernetesPlatform, kube_api: KubeApiServer
) -> None:
    assert platform.deploy(NEW, options()).ok
    kube_api.cluster.set_image("hvb", "hotel-voice-bot", "bot", "ghcr.io/hvb/bot:1.8.5")  # not verified
    assert platform.deploy("ghcr.io/hvb/bot:1.9.0", options()).ok

    result = platform.rollback(Release(NEW, NEW), options(run_id="r2"))

    assert result.status is RolloutStatus.STABLE
    assert result.detail["rollback_to"] == NEW
    assert kube_api.images()["bot"] == NEW
    deployment = kube_api.deployment()
    assert deployment["metadata"]["annotations"][CHANGE_CAUSE] == f"opsctl run r2: rollback to {NEW}"
    assert deployment["metadata"]["annotations"][REVISION] == "5", "the old ReplicaSet came back as a new revision"


def test_releases_merge_the_replica_set_revision_history(platform: KubernetesPlatform, kube_api: KubeApiServer) -> None:
    assert platform.deploy(NEW, options(run_id="r1")).ok
    assert platform.deploy("ghcr.io/hvb/bot:1.9.0", options(run_id="r2")).ok
    releases = platform.releases()
    assert [(r.image, r.detail["revision"]) for r in releases] == [
        ("ghcr.io/hvb/bot:1.9.0", 3),
        (NEW, 2),
        (OLD, 1),
    ]
    assert releases[1].detail["change_cause"] == f"opsctl run r1: deploy {NEW}"
    assert platform.find_release("1.8.0") == releases[1]
    assert platform.find_release("revision 1") == releases[2]
    assert platform.find_release("hvb:0.1") is None
    assert platform.can_deploy(Release("x", "not a ref!")) == (False, "not an image reference: 'not a ref!'")


def test_status_facts_and_mixed_images_warning(platform: KubernetesPlatform, kube_api: KubeApiServer) -> None:
    assert platform.warnings() == []
    kube_api.cluster.fail_image("slow", "slow")
    kube_api.cluster.set_image("hvb", "hotel-voice-bot", "bot", "ghcr.io/hvb/bot:2.0.0-slow")
    kube_api.cluster.tick()
    warnings = platform.warnings()
    assert warnings[0] == (
        "pods run mixed images: 2 on ghcr.io/hvb/bot:1.7.0, 2 on ghcr.io/hvb/bot:2.0.0-slow "
        "(a rollout is in progress or stuck)"
    )
    facts = platform.facts()
    assert facts["replicas"] == {"desired": 2, "updated": 2, "ready": 2, "available": 2}
    assert facts["mixed_images"] is True
    assert [c["type"] for c in facts["conditions"]] == ["Available", "Progressing"]
    assert [r["revision"] for r in facts["revisions"]] == [2, 1]
