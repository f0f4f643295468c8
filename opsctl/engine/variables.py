"""The names that ``with:`` templates and ``when:`` expressions can use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsctl.git.repo import LazyGit

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext


def template_context(ctx: RunContext) -> dict[str, Any]:
    """``env``, ``params``, ``release``, ``previous``, ``run``, ``git``, ``service``, ``slo``, ``github``..."""
    env: dict[str, Any] = {"name": ctx.env_name}
    if ctx.env_name is not None:
        env.update(ctx.env.model_dump(by_alias=True, mode="json"))
    return {
        "env": env,
        # The journaled forms (plain dicts and text), so that users' templates keep working.
        "params": ctx.request.params(),
        "release": ctx.state.release,
        "previous": ctx.state.previous,
        "run": {"id": ctx.run_id, "actor": ctx.actor, "dry_run": ctx.dry_run, "state": ctx.state.as_dict()},
        "git": LazyGit(ctx.project_dir),
        "service": ctx.config.service,
        "github": ctx.config.github.model_dump() if ctx.config.github else None,
        "scan": ctx.config.scan.model_dump(mode="json") if ctx.config.scan else None,
        "notify": ctx.config.notify.model_dump(exclude_none=True),
        "slo": ctx.config.slo.model_dump(mode="json"),
    }
