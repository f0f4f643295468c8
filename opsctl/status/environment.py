"""``opsctl status``: platform state, lock and recent history of one environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput, OpsctlError

if TYPE_CHECKING:
    from opsctl.workspace import Workspace


def environment_status(ws: Workspace, env: str) -> dict[str, Any]:
    from opsctl.actions.platform import release_dict
    from opsctl.audit.mirror.uploader import mirror_backlog
    from opsctl.audit.query import last_verified, load_runs
    from opsctl.locks import make_lock_backend

    ws.config.environment(env)
    ctx = ws.context(ws.journal("status", "status", env), env)
    report: dict[str, Any] = {"env": env, "current": None, "warnings": [], "platform_error": None}
    try:
        platform = ctx.platform()
        report["platform"] = platform.describe()
        report["current"] = release_dict(platform.current_release())
        report["warnings"] = platform.warnings()
    except BadInput as exc:
        report["platform"] = ws.config.environments[env].platform.kind
        report["platform_error"] = str(exc)
    runs = load_runs(ws.audit.path, env)
    verified = last_verified(runs, env)
    report["last_verified"] = {"id": verified.id, "image": verified.image, "run": verified.run} if verified else None
    try:
        holder = make_lock_backend(ws.config).status(env)
    except OpsctlError as exc:  # a shared lock store that is down must not hide the rest of the status
        holder = None
        report["warnings"] = [*report["warnings"], f"lock state unknown: {exc}"]
    report["lock"] = {**holder.as_dict(), "describe": holder.describe()} if holder else None
    report["runs"] = [r.as_dict() for r in runs[-10:]]
    backlog = mirror_backlog(ws)
    report["audit_mirror"] = backlog.as_dict() if backlog else None
    return report
