"""A runbook's references are checked when it loads: a bad one is exit 2 before any platform call.

Found only at rollback time, a bad ``rollback_runbook`` let the deploy go live, fail
verification, and exit 2 with the failed image still running.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.policy.support import Project, error_line, output

DEPLOY = """\
title: Deploy a new image
change_type: normal
rollback_runbook: {rollback}
steps:
  - {{id: plan, title: Plan, uses: platform.plan}}
  - {{id: pre-deploy, title: Pre-deploy gates, checklist: {checklist}}}
  - {{id: deploy, title: Roll out, uses: platform.deploy, on_failure: rollback}}
  - {{id: post-deploy, title: Verify, checklist: post-deploy, when: "not run.dry_run", on_failure: rollback}}
"""
NAME_RULE = "(use letters, digits and dashes, like {example})"


def ecs_state(project: Project) -> dict[str, Any]:
    """What moto's ECS holds for staging: the service's task definition and every registered one."""
    service = project.staging
    client = service.client()
    described = client.describe_services(cluster=service.cluster, services=[service.service])["services"][0]
    return {
        "task_definition": described["taskDefinition"],
        "deployments": [d["taskDefinition"] for d in described["deployments"]],
        "registered": client.list_task_definitions()["taskDefinitionArns"],
    }


@pytest.mark.parametrize(
    ("rollback", "checklist", "message"),
    [
        (
            "does-not-exist",
            "pre-deploy",
            "runbooks/deploy.yaml:3: rollback_runbook: no runbook 'does-not-exist' "
            "(known: deploy, hot-patch, rollback)",
        ),
        (
            "../../etc/passwd",
            "pre-deploy",
            "runbooks/deploy.yaml:3: rollback_runbook: '../../etc/passwd' is not a runbook name "
            + NAME_RULE.format(example="rollback"),
        ),
        (
            "rollback",
            "pre-flight",
            "runbooks/deploy.yaml:6: steps -> 1 -> checklist: no checklist 'pre-flight' (known: "
            "hot-patch-gates, onboarding-ongoing, onboarding-week-1, onboarding-week-2, onboarding-week-3, "
            "post-deploy, pre-deploy, rollback-verify)",
        ),
        (
            "rollback",
            "../../etc/passwd",
            "runbooks/deploy.yaml:6: steps -> 1 -> checklist: '../../etc/passwd' is not a checklist name "
            + NAME_RULE.format(example="pre-deploy"),
        ),
    ],
    ids=["unknown-rollback", "rollback-path", "unknown-checklist", "checklist-path"],
)
def test_a_bad_reference_exits_2_before_any_platform_call(
    project: Project, rollback: str, checklist: str, message: str
) -> None:
    project.write("runbooks/deploy.yaml", DEPLOY.format(rollback=rollback, checklist=checklist))
    before = ecs_state(project)

    result = project.deploy("staging", "hvb:1.8.0")

    assert result.exit_code == 2, output(result)
    assert error_line(result) == f"error: {message}"
    assert project.events() == []  # no run began: nothing was locked, journaled or changed
    assert ecs_state(project) == before
    assert project.image("staging") == "hvb:1.7.0"


def test_the_same_project_runbook_with_good_references_deploys(project: Project) -> None:
    project.write("runbooks/deploy.yaml", DEPLOY.format(rollback="rollback", checklist="pre-deploy"))

    result = project.deploy("staging", "hvb:1.8.0")

    assert result.exit_code == 0, output(result)
    assert project.image("staging") == "hvb:1.8.0"
