"""One invocation's core services: config, redactor, audit log, actor and clock, made once.

The CLI builds a :class:`Workspace` in its root callback (lazily) and asks it
for run contexts; tests build one directly and swap its parts (clock, actor).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.audit.log import AuditLog, Journal
from opsctl.config import Config, EcsPlatformConfig, find_config, load_config
from opsctl.engine.context import NullObserver, Observer, Prompter, RunContext, utcnow
from opsctl.values.redact import Redactor

if TYPE_CHECKING:
    from opsctl.engine.checklist import ChecklistResult


@dataclass
class Workspace:
    config: Config
    redactor: Redactor
    actor: str
    clock: Callable[[], datetime] = utcnow
    audit: AuditLog = field(init=False)
    # Called with the run id when a run ends, however it ends (the S3 mirror uploads here).
    run_finished_hooks: list[Callable[[str], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from opsctl.identity.caller import CallerIdentities

        self.audit = AuditLog(self.config.state_path / "audit.jsonl", self.redactor, self.clock)
        self.identities = CallerIdentities()
        if self.config.audit.s3 is not None:
            from opsctl.audit.mirror import attach

            attach(self)

    def run_finished(self, run_id: str) -> None:
        """Tell the hooks that ``run_id`` ended; a hook that fails never fails the run."""
        for hook in self.run_finished_hooks:
            try:
                hook(run_id)
            except Exception as exc:  # the run's outcome stands; the hook reports its own state
                self.audit.append(
                    {
                        "run": run_id,
                        "runbook": "-",
                        "env": "-",
                        "actor": self.actor,
                        "step": "hook",
                        "status": "warned",
                        "summary": f"after-run hook failed: {type(exc).__name__}: {exc}",
                    }
                )

    @classmethod
    def load(
        cls, config_path: str | None = None, *, actor: str | None = None, clock: Callable[[], datetime] = utcnow
    ) -> Workspace:
        from opsctl.identity.actor import resolve_actor

        config = load_config(find_config(explicit=config_path))
        redactor = Redactor.from_env(config.secret_env_names)
        return cls(config, redactor, actor or resolve_actor(), clock)

    @property
    def state_dir(self) -> Path:
        return self.config.state_path

    def new_run_id(self) -> str:
        """Sortable by time, unique across hosts: ``r20261127-110102-4f3a9c``."""
        return self.clock().strftime("r%Y%m%d-%H%M%S-") + secrets.token_hex(3)

    def journal(self, run: str, runbook: str, env: str | None, **extra: Any) -> Journal:
        platform = self.config.environments[env].platform if env in self.config.environments else None
        if isinstance(platform, EcsPlatformConfig) and "caller_arn" not in extra:
            # Who AWS says we are: unlike the actor, no env var can set it. Looked up at the first event.
            def arn() -> str | None:
                return self.identities.arn(platform.region, platform.endpoint_url, platform.profile)

            return _IdentifiedJournal(self.audit, run, runbook, env, self.actor, extra, identify=arn)
        return Journal(self.audit, run, runbook, env, self.actor, extra)

    def context(
        self,
        journal: Journal,
        env_name: str | None,
        *,
        params: dict[str, Any] | None = None,
        dry_run: bool = False,
        confirmed: frozenset[str] = frozenset(),
        prompter: Prompter | None = None,
        observer: Observer | None = None,
    ) -> RunContext:
        if env_name is not None:
            self.config.environment(env_name)  # unknown names fail here, listing the known ones
        return RunContext(
            config=self.config,
            env_name=env_name,
            run_id=journal.run,
            actor=self.actor,
            journal=journal,
            redactor=self.redactor,
            params=dict(params or {}),
            dry_run=dry_run,
            confirmed=confirmed,
            prompter=prompter,
            observer=observer or NullObserver(),
            clock=self.clock,
            started_at=self.clock(),
        )


@dataclass
class _IdentifiedJournal(Journal):
    """A journal that adds the AWS caller ARN (if any) to its extras on its first event."""

    identify: Callable[[], str | None] | None = None

    def event(self, step: str, status: str, **fields: Any) -> dict[str, Any]:
        if self.identify is not None:
            arn, self.identify = self.identify(), None
            if arn:
                self.extra["caller_arn"] = arn
        return super().event(step, status, **fields)


def run_named_checklist(
    ws: Workspace,
    name: str,
    env_name: str | None,
    *,
    params: dict[str, Any] | None = None,
    dry_run: bool = False,
    confirmed: frozenset[str] = frozenset(),
    prompter: Prompter | None = None,
    observer: Observer | None = None,
) -> ChecklistResult:
    """``opsctl checklist run``: load, run and journal one checklist as a run of its own."""
    from opsctl.engine.checklist import run_checklist
    from opsctl.engine.loader import load_checklist
    from opsctl.errors import Interrupted

    if env_name is not None:
        ws.config.environment(env_name)
    loaded = load_checklist(name, ws.config.project_dir)
    journal = ws.journal(ws.new_run_id(), f"checklist:{name}", env_name)
    ctx = ws.context(
        journal, env_name, params=params, dry_run=dry_run, confirmed=confirmed, prompter=prompter, observer=observer
    )
    journal.event("run", "started", dry_run=dry_run, params=ctx.params)
    try:
        result = run_checklist(ctx, loaded)
    except KeyboardInterrupt:
        ctx.cancel.set()
        journal.event("run", "interrupted")
        raise Interrupted(f"interrupted; run {journal.run} is journaled in the audit log") from None
    except Exception as exc:
        journal.event("run", "error", summary=str(exc))
        raise
    journal.event("run", result.status.value, counts=result.counts(), duration_ms=round(result.duration_s * 1000))
    ws.run_finished(journal.run)
    return result
