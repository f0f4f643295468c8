"""``opsctl status``: platform state, lock and recent history of one environment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput, OpsctlError

if TYPE_CHECKING:
    from opsctl.audit.mirror.uploader import Backlog
    from opsctl.audit.query import ReleaseRecord, RunSummary
    from opsctl.locks.base import LockInfo
    from opsctl.oncall.model import OnCall
    from opsctl.platforms.base import Release
    from opsctl.workspace import Workspace

RECENT_RUNS = 10


@dataclass(frozen=True)
class EnvironmentStatus:
    """What runs in an environment, who holds its lock, and what happened there lately."""

    env: str
    platform: str  # the driver's description, or only its kind when the platform could not be read
    current: Release | None  # None when the platform could not say (``platform_error`` says why)
    platform_error: str | None
    warnings: tuple[str, ...]
    last_verified: ReleaseRecord | None
    lock: LockInfo | None
    runs: tuple[RunSummary, ...]  # the last few, oldest first; a run whose process is gone is interrupted
    audit_mirror: Backlog | None  # None when no S3 mirror is configured
    oncall: OnCall | None = None  # who is on call now, when oncall: is configured and could be read
    rollout: dict[str, Any] | None = None  # replicas, pod images, conditions (platforms that keep them)

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` view (its keys and their order are what scripts read)."""
        verified = self.last_verified
        return (
            {
                "env": self.env,
                "current": self.current.as_dict() if self.current else None,
                "warnings": list(self.warnings),
                "platform_error": self.platform_error,
                "platform": self.platform,
                "last_verified": {"id": verified.id, "image": verified.image, "run": verified.run}
                if verified
                else None,
                "lock": {**self.lock.as_dict(), "describe": self.lock.describe()} if self.lock else None,
                "runs": [r.as_dict() for r in self.runs],
                "audit_mirror": self.audit_mirror.as_dict() if self.audit_mirror else None,
            }
            | ({"oncall": self.oncall.as_dict()} if self.oncall else {})
            | (  # only where configured / kept
                {"rollout": self.rollout} if self.rollout is not None else {}
            )
        )


def environment_status(ws: Workspace, env: str) -> EnvironmentStatus:
    """Read the platform (through ``ws.platform``), the lock store and the audit log; change nothing."""
    from opsctl.audit.mirror.uploader import mirror_backlog
    from opsctl.audit.query import load_runs, newest_verified
    from opsctl.locks import make_lock_backend
    from opsctl.runs.stale import Liveness, settle

    ws.config.environment(env)
    current: Release | None = None
    error: str | None = None
    warnings: list[str] = []
    rollout: dict[str, Any] | None = None
    try:
        platform = ws.platform(env)
        described = platform.describe()
        current = platform.current_release()
        warnings = platform.warnings()
        rollout = platform.rollout_facts()
    except BadInput as exc:  # no credentials, no such cluster: the rest of the status still helps
        described = ws.config.environments[env].platform.kind
        error = str(exc)
    runs = load_runs(ws.audit.path, env, last=RECENT_RUNS)  # only those shown: the index reads just them
    try:
        holder = make_lock_backend(ws.config).status(env)
    except OpsctlError as exc:  # a shared lock store that is down must not hide the rest of the status
        holder = None
        warnings = [*warnings, f"lock state unknown: {exc}"]
    else:
        # A run killed without a word (kill -9) is "running" in the log forever; its lock says otherwise.
        runs = settle(runs, Liveness.of(ws.config, holders={env: holder}))
    oncall, problem = _oncall(ws)
    warnings = [*warnings, *problem]
    return EnvironmentStatus(
        env=env,
        platform=described,
        current=current,
        platform_error=error,
        warnings=tuple(warnings),
        last_verified=newest_verified(ws.audit.path, env),
        lock=holder,
        runs=tuple(runs[-RECENT_RUNS:]),
        audit_mirror=mirror_backlog(ws.mirror_site()),
        oncall=oncall,
        rollout=rollout,
    )


def _oncall(ws: Workspace) -> tuple[OnCall | None, list[str]]:
    """Who is on call now; a lookup that fails is a warning (PagerDuty down must not hide the status)."""
    if ws.config.oncall is None:
        return None, []
    from opsctl.oncall.lookup import who_is_on_call

    try:
        return who_is_on_call(ws.config, ws.redactor, ws.clock()), []
    except OpsctlError as exc:
        return None, [f"on-call unknown: {exc}"]
