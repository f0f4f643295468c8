"""``window.announced``: stakeholders were told of this deployment window in advance (``opsctl announce``).

The verdict is :func:`opsctl.notify.windows.judge`: an announcement covering
now passes; a normal change to a protected environment without one fails;
an emergency change for an incident passes and the item records it;
elsewhere, or with no channel to announce on, it warns. The runner enforces
the same rule as a policy (:mod:`opsctl.runs.windows`), so a project's own
checklist without this item cannot skip it.

Then, unless ``notify: false`` or a dry run, the channels are told that the
deploy is starting now (the ``window`` notice that ``notify.window`` sends);
a notice that cannot be delivered never fails the item.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome, Status
from opsctl.notify.windows import Verdict, judge
from opsctl.values.timewindow import iso


class WindowAnnouncedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notify: bool = Field(True, description="also tell the channels that the deploy is starting now")
    text: str | None = Field(None, description="the notice's line (default: the deploy plan's summary)")


def _notice(ctx: RunContext, verdict: Verdict, params: WindowAnnouncedParams) -> tuple[list[dict[str, Any]], str]:
    """Tell the channels the deploy starts now: (deliveries, a problem line or "")."""
    from opsctl.notify import configured_channels, send

    if ctx.dry_run or not params.notify or not configured_channels(ctx):
        return [], ""
    plan = ctx.state.plan
    data: dict[str, Any] = {"summary": params.text or (plan["summary"] or None if plan else None), "phase": "starting"}
    found = verdict.announcement
    if found is not None:
        data.update(
            window_start=iso(found.window.start), window_end=iso(found.window.end), window_text=found.window.text()
        )
    results = send(ctx, "window", data)
    problems = "; ".join(r.summary for r in results if r.status == "warned")
    if problems and not any(r.ok for r in results):
        return [r.as_dict() for r in results], f"the start notice reached nobody: {problems}"
    return [r.as_dict() for r in results], ""


@action("window.announced", WindowAnnouncedParams, needs_env=True)
def window_announced(ctx: RunContext, params: WindowAnnouncedParams) -> Outcome:
    """An `opsctl announce` window covers now: required for a protected env's normal change, else a warning.

    The run policy refuses such a change without one, whatever the checklist says; an emergency change
    passes and is recorded; without a channel to announce on it only warns.
    """
    env = str(ctx.env_name)
    change_type = str(ctx.journal.extra.get("change_type", "normal"))
    image = None if ctx.request.image is None else str(ctx.request.image)
    verdict = judge(
        ctx.config,
        ctx.journal.log,
        env,
        ctx.clock(),
        change_type=change_type,
        incident=ctx.request.incident,
        image=image,
    )
    detail = verdict.detail(change_type=change_type, incident=ctx.request.incident)
    if verdict.status == "failed":
        return Outcome.failed(verdict.summary, **detail)
    deliveries, problem = _notice(ctx, verdict, params)
    if deliveries:
        detail["deliveries"] = deliveries
    status = Status(verdict.status)
    if problem and status is Status.PASSED:
        status = Status.WARNED  # people were told in advance; only today's notice failed
    return Outcome(status, f"{verdict.summary}; {problem}" if problem else verdict.summary, detail)
