"""Maturity evidence from the runs in the audit log: recorded deploys, automation from CI, rollback, self-healing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from opsctl.audit.query import RUN_MARK, RunSummary, summarize, window_events
from opsctl.errors import OpsctlError
from opsctl.reports.maturity import Criterion

CHANGES = frozenset({"deploy", "rollback", "hot-patch"})
AUTOMATED_SHARE = 0.8  # of production changes run by a pipeline: "automated deployment pipelines"
HEALED_SHARE = 0.9  # of change failures the automatic rollback repaired without a person
ROLLBACK_RUNBOOKS = ("deploy", "hot-patch")


@dataclass(frozen=True)
class RunFacts:
    """The changes of the window (not dry runs), and which of them a CI pipeline started."""

    changes: tuple[RunSummary, ...]
    from_ci: frozenset[str]


def run_facts(audit_path: Path, start: datetime) -> RunFacts:
    ci: set[str] = set()
    events: list[dict[str, Any]] = []
    for event in window_events(audit_path, (RUN_MARK,), start):
        events.append(event)
        if event.get("status") == "started" and isinstance(event.get("ci"), dict):
            ci.add(str(event.get("run")))
    changes = [r for r in summarize(events) if r.runbook in CHANGES and not r.dry_run and r.started_at >= start]
    return RunFacts(tuple(changes), frozenset(ci))


def recorded(facts: RunFacts, days: str) -> Criterion:
    title = "Deployments follow a recorded procedure"
    if not facts.changes:
        return Criterion(
            "deploys-recorded",
            1,
            title,
            "no evidence",
            f"no deploy, rollback or hot-patch run in the last {days}",
            "deploy with `opsctl deploy ENV --image IMAGE` so every change is a runbook run in the audit log",
        )
    runbooks = sorted({r.runbook for r in facts.changes})
    return Criterion(
        "deploys-recorded",
        1,
        title,
        "met",
        f"{len(facts.changes)} runs of {', '.join(runbooks)} in the last {days}, every step in the audit log",
    )


def automated(facts: RunFacts, production: list[str], all_envs: list[str], days: str) -> Criterion:
    title = "Automated deployment pipelines"
    envs = production or all_envs
    which = f"production ({', '.join(envs)})" if production else "any environment (none is protected)"
    runs = [r for r in facts.changes if r.env in envs]
    if not runs:
        return Criterion(
            "automated-deploys",
            2,
            title,
            "no evidence",
            f"no change to {which} in the last {days}",
            "run deploys from CI (examples/github-actions/deploy.yml) so their share can be measured",
        )
    piped = [r for r in runs if r.run in facts.from_ci]
    share = len(piped) / len(runs)
    evidence = f"{len(piped)} of {len(runs)} changes in {which} ran from CI ({share:.0%}) in the last {days}"
    if share >= AUTOMATED_SHARE:
        return Criterion("automated-deploys", 2, title, "met", evidence)
    return Criterion(
        "automated-deploys",
        2,
        title,
        "not met",
        evidence,
        f"run production changes from the CI pipeline (at least {AUTOMATED_SHARE:.0%}); "
        "opsctl records the pipeline of each run",
    )


def automatic_rollback(project_dir: Path, facts: RunFacts, days: str) -> Criterion:
    """Every deploying runbook (project override or built-in) has a step that rolls back on failure."""
    from opsctl.engine.loader import load_runbook

    title = "Rollback capability: automatic rollback on failure"
    missing, problems = [], []
    for name in ROLLBACK_RUNBOOKS:
        try:
            steps = load_runbook(name, project_dir).model.steps
        except OpsctlError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if not any(step.on_failure == "rollback" for step in steps):
            missing.append(name)
    if problems or missing:
        said = "; ".join(problems + [f"runbooks/{m}.yaml has no step with on_failure: rollback" for m in missing])
        return Criterion(
            "auto-rollback",
            2,
            title,
            "not met",
            said,
            "give the rollout and verification steps `on_failure: rollback` (as the built-in runbooks do)",
        )
    used = sum(1 for r in facts.changes if r.status in ("rolled_back", "rollback_failed"))
    return Criterion(
        "auto-rollback",
        2,
        title,
        "met",
        f"deploy and hot-patch roll back automatically when verification fails; used {used} time(s) in the last {days}",
    )


def self_healing(facts: RunFacts, days: str) -> Criterion:
    title = "Self-healing systems"
    # Changes that failed after their rollout (a gate saying no is the process working, not a failure).
    failed = [r for r in facts.changes if r.runbook != "rollback" and r.status in _FAILED and r.attempted]
    if not failed:
        return Criterion(
            "self-healing",
            3,
            title,
            "no evidence",
            f"no failed change in the last {days} to heal",
            "nothing to do until a change fails; `opsctl demo` shows an automatic rollback",
        )
    healed = [r for r in failed if r.status == "rolled_back"]
    share = len(healed) / len(failed)
    evidence = (
        f"{len(healed)} of {len(failed)} failed changes in the last {days} were repaired by the automatic "
        f"rollback without a person ({share:.0%})"
    )
    if share >= HEALED_SHARE:
        return Criterion("self-healing", 3, title, "met", evidence)
    return Criterion(
        "self-healing",
        3,
        title,
        "not met",
        evidence,
        "look at the failures that needed a person (`opsctl runs --json`): make their checks fail before the "
        "rollout, or their rollback verifiable",
    )


_FAILED = frozenset({"rolled_back", "rollback_failed", "failed", "needs_human"})
