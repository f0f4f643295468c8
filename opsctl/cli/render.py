"""Drawing results that several commands share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsctl.cli.application import Application
    from opsctl.engine.checklist import ChecklistResult
    from opsctl.runs import RunResult

VERDICTS = {
    "succeeded": "[bold green]✓ succeeded[/]",
    "dry_run": "[bold green]✓ dry run passed[/] (nothing changed)",
    "failed": "[bold red]✗ failed[/]",
    "rolled_back": "[bold yellow]↺ failed and rolled back[/]",
    "rollback_failed": "[bold white on red] ROLLBACK FAILED — needs a human [/]",
}


def print_run_result(application: Application, result: RunResult) -> None:
    """A run's verdict: the summary object that ends its JSON Lines, or two lines for people."""
    out = application.output
    if out.json:
        out.json_line(run_summary(result))
        _github_summary(result)
        return
    from rich.markup import escape

    out.show()
    out.show(f"{VERDICTS.get(result.status, result.status)} {escape(result.summary)}")
    for step in (*result.steps, *result.rollback_steps):
        # Why a rollout failed (stopped tasks, events, last log lines), as the platform driver found it.
        text = (step.detail.get("diagnosis") or {}).get("text") if step.status.value == "failed" else None
        if text:
            out.show(f"[bold]why step {escape(step.id)} failed:[/]")
            for line in str(text).splitlines():
                out.show(f"  {escape(line)}")
    out.show(f"[dim]run {result.run} · exit {int(result.exit_code)} · opsctl audit show --run {result.run}[/]")
    _github_summary(result)


def run_summary(result: RunResult) -> dict[str, Any]:
    """The last JSON line of deploy, rollback, hotpatch and resume (README "JSON output")."""
    return {"event": "run.finished", **result.as_dict(), "ok": result.exit_code == 0}


CHECKLIST_VERDICTS = {
    "passed": ("passed", "green"),
    "warned": ("passed with warnings", "yellow"),
    "failed": ("failed", "bold red"),
}


def print_checklist_result(application: Application, runbook: str, env: str | None, result: ChecklistResult) -> None:
    """``checklist run``'s verdict: the summary object that ends its JSON Lines, or a line or two for people."""
    counts = result.describe_counts()
    word, style = CHECKLIST_VERDICTS[result.status.value]
    out = application.output
    if out.json:
        out.json_line(
            {
                "event": "run.finished",
                "runbook": runbook,
                "env": env,
                **result.as_dict(),
                "exit_code": 0 if result.ok else 1,
                "ok": result.ok,
                "summary": f"{result.title}: {word} ({counts})",
            }
        )
        return
    from rich.markup import escape

    out.show(f"{escape(result.title)}: [{style}]{word}[/] ({counts})")
    failed = [i.id for i in result.items if i.blocks]
    if failed:
        out.show(f"blocking failures: {', '.join(failed)}; fix them and run again")


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
