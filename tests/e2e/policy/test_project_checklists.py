"""Policies in opsctl.yaml hold whatever a project's own checklists say: a near-empty pre-deploy switches none off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.policy.support import (
    HOLIDAY,
    HOLIDAY_SPAN,
    IN_FREEZE,
    MINIMAL_PRE_DEPLOY,
    OUTSIDE_FREEZE,
    Project,
    error_line,
    output,
)


@pytest.mark.parametrize(
    ("production", "clock", "message"),
    [
        (
            {"freeze": [HOLIDAY]},
            IN_FREEZE,
            f"production is frozen: 'holiday freeze' ({HOLIDAY_SPAN}); only emergency changes "
            "(opsctl hotpatch --incident ID) may go in",
        ),
        (
            {"requires": {"approvals": 1}},
            OUTSIDE_FREEZE,
            "production needs 1 approval(s) for a normal change, got 0: pass --approved-by NAME (someone other than you)",  # noqa: E501
        ),
        (
            {"requires": {"promoted_from": "staging"}},
            OUTSIDE_FREEZE,
            "hvb:1.8.0 is not promoted from staging: staging never verified it; "
            "run `opsctl deploy staging --image hvb:1.8.0` first",
        ),
    ],
    ids=["freeze", "approvals", "promotion"],
)
def test_a_minimal_project_pre_deploy_does_not_switch_a_policy_off(
    project: Project, production: dict[str, Any], clock: Any, message: str
) -> None:
    project.configure(production=production)
    project.write("checklists/pre-deploy.yaml", MINIMAL_PRE_DEPLOY)

    result = project.deploy("production", "hvb:1.8.0", confirms=(), clock=clock)

    assert result.exit_code == 1, output(result)
    assert error_line(result) == f"error: {message}"
    assert project.image("production") == "hvb:1.7.0"
    events = project.events(project.last_run())
    # The policies run before any gate (issue 13): the project's list never ran, the built-in's neither.
    assert [(e["step"], e["status"]) for e in events] == [("run", "started"), ("run", "error")]
