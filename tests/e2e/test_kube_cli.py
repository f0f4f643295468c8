"""A Kubernetes environment through the real CLI: the stand-in API server, a kubeconfig, the test bot.

The bot serves the tag of the image most ready pods run (what a Service in
front of them would answer), so verification sees what the rollout did.
"""

from __future__ import annotations

import time

import yaml

from tests.e2e.harness import single_error_line, wait_for
from tests.e2e.kube_project import KubeProject, bot, kube_api, project
from tests.support.kube_api import OLD, SIDECAR, KubeApiServer

__all__ = ["bot", "kube_api", "project"]  # fixtures

NEW = "ghcr.io/hvb/bot:1.8.0"


def patches(api: KubeApiServer) -> list[object]:
    """The PATCH bodies that changed the Deployment (not the dry runs)."""
    return [r.body for r in api.calls("PATCH", "/deployments/") if r.query.get("dryRun") != "All"]


def test_deploy_updates_only_the_named_container_and_is_verified(project: KubeProject, kube_api: KubeApiServer) -> None:
    done = project.deploy(NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    assert kube_api.images() == {"bot": NEW, "sidecar": SIDECAR}
    run = project.events()[-1]["run"]
    cause = kube_api.deployment()["metadata"]["annotations"]["kubernetes.io/change-cause"]
    assert cause == f"opsctl run {run}: deploy {NEW}"
    releases = project.json("releases", "staging")
    assert (releases[0]["image"], releases[0]["verdict"]) == (NEW, "verified")
    status = project.json("platform", "status", "staging")
    assert status["replicas"] == {"desired": 2, "updated": 2, "ready": 2, "available": 2}
    assert status["pods"] == {NEW: 2}
    assert [(r["revision"], r["image"], r["verdict"]) for r in status["revisions"]] == [
        (2, NEW, "verified"),
        (1, OLD, "-"),
    ]
    assert project.run("audit", "verify").returncode == 0


def test_image_pull_backoff_fails_names_the_reason_and_rolls_back_to_verified(
    project: KubeProject, kube_api: KubeApiServer
) -> None:
    assert project.deploy(NEW).returncode == 0
    kube_api.cluster.fail_image("missing", "pull")
    bad = "ghcr.io/hvb/bot:1.9.0-missing"

    done = project.deploy(bad)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f'ImagePullBackOff: Back-off pulling image "{bad}"' in done.stdout
    assert kube_api.images()["bot"] == NEW, "rolled back to the verified image"
    assert patches(kube_api)[-1] == {
        "metadata": {
            "annotations": {
                "kubernetes.io/change-cause": f"opsctl run {project.events()[-1]['run']}: rollback to {NEW}"
            }
        },
        "spec": {"template": {"spec": {"containers": [{"name": "bot", "image": NEW}]}}},
    }
    runs = project.json("runs")
    assert runs[0]["status"] == "rolled_back"


def test_rollback_returns_to_the_last_verified_image_not_the_previous_replica_set(
    project: KubeProject, kube_api: KubeApiServer
) -> None:
    assert project.deploy(NEW).returncode == 0
    # Changes made outside opsctl (kubectl set image): never verified.
    kube_api.cluster.set_image("hvb", "hotel-voice-bot", "bot", "ghcr.io/hvb/bot:1.8.5")
    wait_for(lambda: kube_api.ready_image() == "ghcr.io/hvb/bot:1.8.5", what="1.8.5 ready")
    kube_api.cluster.set_image("hvb", "hotel-voice-bot", "bot", "ghcr.io/hvb/bot:1.9.0")
    wait_for(lambda: kube_api.ready_image() == "ghcr.io/hvb/bot:1.9.0", what="1.9.0 ready")

    done = project.run("rollback", "staging", "--yes")

    assert done.returncode == 0, done.stdout + done.stderr
    assert kube_api.images()["bot"] == NEW, "not 1.8.5, the previous ReplicaSet"
    assert "last verified release" in done.stdout
    revisions = project.json("platform", "status", "staging")["revisions"]
    assert [(r["revision"], r["image"]) for r in revisions][:2] == [(5, NEW), (4, "ghcr.io/hvb/bot:1.9.0")]


def test_dry_run_sends_dry_run_all_and_changes_nothing(project: KubeProject, kube_api: KubeApiServer) -> None:
    before = kube_api.deployment()
    done = project.deploy(NEW, "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    sent = kube_api.calls("PATCH", "/deployments/")
    assert sent
    assert all(r.query.get("dryRun") == "All" for r in sent)
    assert kube_api.deployment()["spec"] == before["spec"]
    assert f"+    image: {NEW}" in done.stdout
    assert kube_api.lease("hvb", "opsctl-hvb-staging") is None


def test_two_concurrent_deploys_with_the_lease_lock_one_exits_4_naming_the_holder(
    project: KubeProject, kube_api: KubeApiServer
) -> None:
    project.write(locks=project.lease_locks())
    kube_api.cluster.fail_image("slow", "slow")  # the first deploy takes ~6 s to roll out
    first = project.start(*project.deploy_args("ghcr.io/hvb/bot:1.8.0-slow"))
    try:
        wait_for(lambda: bool(patches(kube_api)), timeout=60, what="the first deploy's patch")
        lease = kube_api.lease("hvb", "opsctl-hvb-staging")
        assert lease is not None
        holder_run = lease["metadata"]["annotations"]["opsctl.dev/run"]
        assert lease["spec"]["holderIdentity"] == f"{holder_run} e2e@example.com"

        second = project.deploy("ghcr.io/hvb/bot:1.9.0")

        assert second.returncode == 4, second.stdout + second.stderr
        line = single_error_line(second.stderr)
        assert line.startswith(f"error: staging is locked by run {holder_run} (deploy) by e2e@example.com on ")
        assert line.endswith("; wait for it to finish, or see `opsctl lock status staging`")
    finally:
        out, err = first.communicate(timeout=90)
    assert first.returncode == 0, out + err
    assert kube_api.images()["bot"] == "ghcr.io/hvb/bot:1.8.0-slow"
    freed = kube_api.lease("hvb", "opsctl-hvb-staging")
    assert freed is not None
    assert not freed["spec"].get("holderIdentity"), "released at the end of the run"
    assert freed["metadata"]["annotations"]["opsctl.dev/generation"] == "1"


def test_kill_9_mid_rollout_then_resume_follows_without_patching_again(
    project: KubeProject, kube_api: KubeApiServer
) -> None:
    kube_api.cluster.fail_image("slow", "slow")
    image = "ghcr.io/hvb/bot:1.8.0-slow"
    proc = project.start(*project.deploy_args(image))
    wait_for(lambda: bool(patches(kube_api)), timeout=60, what="the deploy's patch")
    proc.kill()
    proc.communicate(timeout=10)
    run = project.events()[0]["run"]
    assert [e["status"] for e in project.events() if e["step"] == "run"] == ["started"]

    done = project.run("resume", run)

    assert done.returncode == 0, done.stdout + done.stderr
    assert len(patches(kube_api)) == 1, "the resumed run follows the rollout it started"
    assert kube_api.images()["bot"] == image
    assert f"already names {image}: following its rollout" in done.stdout
    assert project.run("audit", "verify").returncode == 0


def test_kill_9_with_the_lease_lock_then_force_release_and_resume(
    project: KubeProject, kube_api: KubeApiServer
) -> None:
    project.write(locks=project.lease_locks())
    kube_api.cluster.fail_image("slow", "slow")
    proc = project.start(*project.deploy_args("ghcr.io/hvb/bot:1.8.0-slow"))
    wait_for(lambda: bool(patches(kube_api)), timeout=60, what="the deploy's patch")
    proc.kill()
    proc.communicate(timeout=10)
    run = project.events()[0]["run"]

    blocked = project.run("resume", run)
    assert blocked.returncode == 4, blocked.stdout + blocked.stderr
    released = project.run("lock", "release", "staging", "--force", "--id", run)
    assert released.returncode == 0, released.stdout + released.stderr
    assert any(e["step"] == "lock.release" for e in project.events()), "the break is audited"

    done = project.run("resume", run)
    assert done.returncode == 0, done.stdout + done.stderr
    lease = kube_api.lease("hvb", "opsctl-hvb-staging")
    assert lease is not None
    assert lease["metadata"]["annotations"]["opsctl.dev/generation"] == "2"


def test_unknown_context_exits_2_listing_the_contexts(project: KubeProject) -> None:
    project.write(context="hvb-prod")
    done = project.deploy(NEW)
    assert done.returncode == 2, done.stdout + done.stderr
    assert single_error_line(done.stderr) == (
        f"error: kubeconfig context 'hvb-prod' does not exist in {project.kubeconfig} "
        "(contexts: hvb-staging, hvb-other)"
    )


def test_container_not_in_the_template_exits_2_listing_the_names(project: KubeProject, kube_api: KubeApiServer) -> None:
    project.write(container="api")
    done = project.deploy(NEW)
    assert done.returncode == 2, done.stdout + done.stderr
    assert single_error_line(done.stderr) == (
        "error: container 'api' is not in the pod template of deployment hvb/hotel-voice-bot (containers: bot, sidecar)"
    )
    assert patches(kube_api) == []


def test_unreachable_api_server_exits_5_and_changes_nothing(project: KubeProject, kube_api: KubeApiServer) -> None:
    kube_api.stop_listening()
    started = time.monotonic()
    done = project.deploy(NEW)
    assert done.returncode == 5, done.stdout + done.stderr
    line = single_error_line(done.stderr)
    assert line.startswith(f"error: the Kubernetes API server {kube_api.url} (hvb-staging) is unreachable (")
    assert "while trying to get deployments" in line
    assert time.monotonic() - started < 60


def test_rbac_print_is_least_privilege(project: KubeProject) -> None:
    project.write(locks=project.lease_locks())
    done = project.run("platform", "rbac", "--print")
    assert done.returncode == 0, done.stderr
    documents = list(yaml.safe_load_all(done.stdout))
    assert [d["kind"] for d in documents] == ["Role", "RoleBinding"]
    rules = {
        (tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r.get("resourceNames", ()))): r["verbs"]
        for r in documents[0]["rules"]
    }
    assert rules == {
        (("apps",), ("deployments",), ("hotel-voice-bot",)): ["get", "patch"],
        (("apps",), ("replicasets",), ()): ["list"],
        (("",), ("pods",), ()): ["list"],
        (("",), ("pods/log",), ()): ["get"],
        (("coordination.k8s.io",), ("leases",), ()): ["create"],
        (("coordination.k8s.io",), ("leases",), ("opsctl-hvb-staging",)): ["get", "update"],
    }
    assert documents[1]["subjects"] == [{"kind": "ServiceAccount", "name": "opsctl", "namespace": "hvb"}]

    refused = project.run("platform", "rbac")
    assert refused.returncode == 2
    assert single_error_line(refused.stderr) == (
        "error: opsctl does not create RBAC objects (that needs rights a deploy should not have): "
        "run `opsctl platform rbac --print | kubectl apply -f -` as a cluster admin"
    )


def test_status_shows_replicas_pod_images_and_conditions(project: KubeProject, kube_api: KubeApiServer) -> None:
    done = project.deploy(NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    rollout = project.json("status", "staging")["rollout"]
    assert rollout["replicas"] == {"desired": 2, "updated": 2, "ready": 2, "available": 2}
    assert (rollout["pods"], rollout["mixed_images"]) == ({NEW: 2}, False)
    assert {c["type"]: c["status"] for c in rollout["conditions"]} == {"Available": "True", "Progressing": "True"}
    shown = project.run("status", "staging")
    assert shown.returncode == 0, shown.stderr
    assert "  replicas 2 desired, 2 updated, 2 ready, 2 available\n" in shown.stdout
    assert f"  pods     2 on {NEW}\n" in shown.stdout
    assert "  Available=True" in shown.stdout
