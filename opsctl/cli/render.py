"""Drawing results that several commands share."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsctl.cli.application import Application
    from opsctl.runs.run import RunResult

VERDICTS = {
    "succeeded": "[bold green]✓ succeeded[/]",
    "dry_run": "[bold green]✓ dry run passed[/] (nothing changed)",
    "failed": "[bold red]✗ failed[/]",
    "rolled_back": "[bold yellow]↺ failed and rolled back[/]",
    "rollback_failed": "[bold white on red] ROLLBACK FAILED — needs a human [/]",
}


def print_run_result(application: Application, result: RunResult) -> None:
    if application.json:
        sys.stdout.write(json.dumps({"event": "run.finished", **result.as_dict()}, default=str) + "\n")
        _github_summary(result)
        return
    from rich.markup import escape

    console = application.console
    console.print()
    console.print(f"{VERDICTS.get(result.status, result.status)} {escape(result.summary)}")
    console.print(f"[dim]run {result.run} · exit {int(result.exit_code)} · opsctl audit show --run {result.run}[/]")
    _github_summary(result)


def _github_summary(result: RunResult) -> None:
    """In GitHub Actions, append a Markdown summary of the run to the job page."""
    import os

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    lines = [
        f"### opsctl {result.runbook} {result.env}: {result.status}",
        "",
        result.summary,
        "",
        "| step | status | summary |",
        "|---|---|---|",
    ]
    lines.extend(
        f"| {step.id} | {step.status.value} | {step.summary.replace('|', '/')} |"
        for step in (*result.steps, *result.rollback_steps)
    )
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
