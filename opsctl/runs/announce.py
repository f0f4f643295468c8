"""Tell the configured channels (Slack, PagerDuty, webhook) that a run started or ended."""

from __future__ import annotations

from typing import Any

from opsctl.engine.context import RunContext
from opsctl.engine.runbook import StepResult


def announce(ctx: RunContext, event: str, *, text: str | None = None, **data: Any) -> None:
    """Notify the configured channels; delivery problems are warnings inside send(), never failures.

    ``text``: a free note added to the message (a failed rollout's diagnosis).
    """
    if ctx.dry_run:
        return
    if event.endswith(".started"):
        from opsctl.runs.github_deploy import run_started

        run_started(ctx)  # best effort, like the notifications below
    from opsctl.notify import configured_channels, send

    if configured_channels(ctx):
        before, after = ctx.state.previous or {}, ctx.state.release or {}
        if event.startswith("rollback."):  # a rollback goes from what ran to the release it puts back
            before = ctx.state.attempted or before
        # A deploy's messages name the image it set out to ship, even after a rollback replaced it.
        shipped = ctx.request.image if not event.startswith("rollback.") else None
        duration = (ctx.clock() - ctx.started_at).total_seconds()
        send(
            ctx,
            event,
            {
                "image_before": before.get("image"),
                "image_after": str(shipped) if shipped is not None else after.get("image"),
                "duration": duration,
                "change_type": ctx.journal.extra.get("change_type"),
                "incident": ctx.journal.extra.get("incident"),
                **data,
            },
            text=text,
        )


def announce_end(ctx: RunContext, runbook: str, status: str, summary: str, failed: StepResult | None = None) -> None:
    kind = "rollback" if runbook == "rollback" else "deploy"
    # Why the failed step failed, when its driver diagnosed it (stopped tasks, events, last log lines).
    why = (failed.detail.get("diagnosis") or {}).get("text") if failed is not None else None
    from opsctl.runs.github_deploy import run_finished

    run_finished(ctx, status, summary)  # GitHub Deployments: best effort, journaled, never fails the run
    if status == "succeeded":
        announce(ctx, f"{kind}.succeeded", summary=summary)
    elif status == "rolled_back":
        announce(ctx, f"{kind}.failed", summary=summary, text=why)
        announce(ctx, "rollback.succeeded", summary=summary)
    elif status == "rollback_failed":
        announce(ctx, f"{kind}.failed", summary=summary, text=why)
        announce(ctx, "rollback.failed", summary=summary, text=why)  # PagerDuty: an alert, someone must act
    elif status == "failed":
        announce(ctx, f"{kind}.failed", summary=summary, text=why)
