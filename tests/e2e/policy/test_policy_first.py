"""Policy before prompts: freeze, approvals and promotion are checked before any gate asks anyone anything."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from opsctl.engine.request import RunRequest
from opsctl.errors import RunFailed
from opsctl.runs import RunOptions, execute
from opsctl.workspace import Workspace
from tests.e2e.policy.support import (
    ACTOR,
    APPROVER,
    CONFIRMS,
    HOLIDAY,
    HOLIDAY_SPAN,
    IN_FREEZE,
    OUTSIDE_FREEZE,
    Project,
    error_line,
    output,
    step_events,
)

FROZEN = (
    f"production is frozen: 'holiday freeze' ({HOLIDAY_SPAN}); only emergency changes "
    "(opsctl hotpatch --incident ID) may go in"
)
FOUR_SKIPS = "s\nno time\n" * 4  # what a person would have typed, had they been asked
PROMPT = "done?"  # the manual item's question in a terminal


class Recording:
    """A person at the terminal who says yes to everything, and remembers what they were asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.typed: list[str] = []

    def confirm(self, item_id: str, title: str, instructions: str | None) -> tuple[str, str]:
        self.asked.append(item_id)
        return "yes", ""

    def type_to_confirm(self, env: str, plan: str) -> bool:
        self.typed.append(env)
        return True


class Clock:
    """The time opsctl sees; a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("dry_run", [False, True], ids=["deploy", "dry-run"])
def test_frozen_production_fails_before_any_prompt(project: Project, dry_run: bool) -> None:
    project.configure(production={"freeze": [HOLIDAY]})
    extra = ("--dry-run",) if dry_run else ()

    result = project.deploy(
        "production", "hvb:1.8.0", *extra, confirms=(), clock=IN_FREEZE, interactive=True, input=FOUR_SKIPS
    )

    assert result.exit_code == 1, output(result)
    assert error_line(result) == f"error: {FROZEN}"
    assert PROMPT not in result.stdout  # nobody was asked a thing
    events = project.events(project.last_run())
    # Not even the plan step ran: the policies come right after the lock, before the first step.
    assert [(e["step"], e["status"]) for e in events] == [("run", "started"), ("run", "error")]
    assert events[-1]["summary"] == FROZEN
    assert project.image("production") == "hvb:1.7.0"


def test_a_missing_approval_fails_before_any_prompt(project: Project) -> None:
    project.configure(production={"requires": {"approvals": 1}})

    result = project.deploy("production", "hvb:1.8.0", confirms=(), interactive=True, input=FOUR_SKIPS)

    assert result.exit_code == 1, output(result)
    assert error_line(result) == (
        "error: production needs 1 approval(s) for a normal change, got 0: pass --approved-by NAME "
        "(someone other than you)"
    )
    assert PROMPT not in result.stdout


def test_the_policies_are_journaled_before_the_first_step(project: Project) -> None:
    project.configure(production={"requires": {"approvals": 1}, "freeze": [HOLIDAY]})

    result = project.deploy("production", "hvb:1.8.0", "--approved-by", APPROVER, clock=OUTSIDE_FREEZE)

    assert result.exit_code == 0, output(result)
    steps = [e["step"] for e in project.events(project.last_run())]
    assert steps.index("policy.approvals") < steps.index("plan")


def test_core_callers_get_the_same_order_and_the_prompter_is_never_called(project: Project) -> None:
    project.configure(production={"freeze": [HOLIDAY]})
    ws = Workspace.load(str(project.config_path), actor=ACTOR, clock=lambda: IN_FREEZE)
    person = Recording()

    with pytest.raises(RunFailed) as caught:
        execute(ws, "deploy", "production", RunRequest.build(image="hvb:1.8.0"), RunOptions(prompter=person))

    assert str(caught.value) == FROZEN
    assert (person.asked, person.typed) == ([], [])


def test_a_freeze_that_begins_while_the_gates_run_still_stops_the_change(project: Project) -> None:
    """The policies run first; the change step looks at the clock again, since time passed."""
    project.configure(production={"freeze": [HOLIDAY]})
    clock = Clock(OUTSIDE_FREEZE)

    class FreezeAfterGates:
        def event(self, kind: str, data: dict[str, Any]) -> None:
            if kind == "step.finished" and data["id"] == "pre-deploy":
                clock.now = IN_FREEZE

    ws = Workspace.load(str(project.config_path), actor=ACTOR, clock=clock)
    request = RunRequest.build(image="hvb:1.8.0", timeout="20s", confirmations=CONFIRMS[1::2])
    person = Recording()

    with pytest.raises(RunFailed) as caught:
        execute(ws, "deploy", "production", request, RunOptions(prompter=person, observer=FreezeAfterGates()))

    assert str(caught.value) == FROZEN
    assert person.typed == []  # stopped before the typed confirmation of the change
    run = project.last_run()
    events = project.events(run)
    (gates,) = [e for e in step_events(events, "pre-deploy") if e.get("kind") == "step" and e["status"] != "started"]
    assert gates["status"] == "warned"  # passed, but for the stakeholders notice (no channel here)
    assert step_events(events, "deploy") == []
    assert (project.run_end(run)["status"], project.run_end(run)["summary"]) == ("error", FROZEN)
    assert project.image("production") == "hvb:1.7.0"
