"""One invocation's core services: config, redactor, audit log, actor and clock, made once.

The CLI builds a :class:`Workspace` in its root callback (lazily) and asks it
for run contexts; tests build one directly and swap its parts (clock, actor).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.audit.keyed import AuditKey
from opsctl.audit.log import AuditLog, Journal
from opsctl.config import Config, EcsPlatformConfig, find_config, load_config
from opsctl.engine.context import NullObserver, Observer, Prompter, RunContext, utcnow
from opsctl.engine.request import RunRequest
from opsctl.values.redact import Redactor

if TYPE_CHECKING:
    from opsctl.audit.mirror import MirrorSite
    from opsctl.platforms.base import Platform


@dataclass
class Workspace:
    config: Config
    redactor: Redactor
    actor: str
    clock: Callable[[], datetime] = utcnow
    audit: AuditLog = field(init=False)
    # Called with the run id when a run ends, however it ends (the S3 mirror uploads here).
    run_finished_hooks: list[Callable[[str], None]] = field(default_factory=list)
    # One driver per environment, shared by every run and read-only command of this invocation.
    _platforms: dict[str, Platform] = field(default_factory=dict, init=False, repr=False)
    _platforms_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        from opsctl.identity.caller import CallerIdentities

        key = AuditKey.named(self.config.audit.hmac_key_env)
        self.audit = AuditLog(self.config.state_path / "audit.jsonl", self.redactor, self.clock, key=key)
        self.identities = CallerIdentities()
        if self.config.audit.s3 is not None:
            from opsctl.audit.mirror import attach

            attach(self.mirror_site(), self.run_finished_hooks)

    def mirror_site(self) -> MirrorSite:
        """What the S3 audit mirror works with: ``audit.s3``, the state folder, the log, the actor, the clock."""
        from opsctl.audit.mirror import MirrorSite

        return MirrorSite(self.config.audit.s3, self.state_dir, self.audit, self.actor, self.clock)

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

    def platform(self, env_name: str) -> Platform:
        """The driver of ``env_name``'s platform, made on first use (BadInput for an unknown name)."""
        env_config = self.config.environment(env_name)
        with self._platforms_lock:  # probes ask from several threads at once; make one driver, not several
            if env_name not in self._platforms:
                from opsctl.platforms import make_platform

                self._platforms[env_name] = make_platform(env_config, self.redactor)
            return self._platforms[env_name]

    def new_run_id(self) -> str:
        """Sortable by time, unique across hosts: ``r20261127-110102-4f3a9c``."""
        return self.clock().strftime("r%Y%m%d-%H%M%S-") + secrets.token_hex(3)

    def journal(self, run: str, runbook: str, env: str | None, **extra: Any) -> Journal:
        """A writer for one run's events; on AWS environments its first event also says who AWS says we are."""
        credentials = self._aws_credentials(env)
        identify: Callable[[], str | None] | None = None
        if credentials is not None and "caller_arn" not in extra:
            identify = partial(self.identities.arn, *credentials)
        return Journal(self.audit, run, runbook, env, self.actor, extra, identify=identify)

    def identify_early(self, env: str | None) -> None:
        """Start asking AWS who we are for ``env`` now (ECS environments), so the run's first event need not wait."""
        credentials = self._aws_credentials(env)
        if credentials is not None:
            self.identities.start(*credentials)

    def _aws_credentials(self, env: str | None) -> tuple[str | None, str | None, str | None] | None:
        """(region, endpoint, profile) of ``env``'s AWS platform, or None when it is not on AWS."""
        platform = self.config.environments[env].platform if env in self.config.environments else None
        if isinstance(platform, EcsPlatformConfig):
            return platform.region, platform.endpoint_url, platform.profile
        return None

    def context(
        self,
        journal: Journal,
        env_name: str | None,
        *,
        request: RunRequest | None = None,
        params: Mapping[str, Any] | None = None,
        dry_run: bool = False,
        confirmed: frozenset[str] = frozenset(),
        prompter: Prompter | None = None,
        observer: Observer | None = None,
    ) -> RunContext:
        """A run context for ``env_name``: for ``request``, or one built from ``params`` and ``confirmed``.

        Building from ``params`` validates them (BadInput for a malformed image or timeout).
        """
        if env_name is not None:
            self.config.environment(env_name)  # unknown names fail here, listing the known ones
        if request is None:
            request = RunRequest.from_params(params or {}, confirmations=confirmed)
        elif params is not None or confirmed:
            raise TypeError("pass either request or params/confirmed, not both")
        return RunContext(
            config=self.config,
            env_name=env_name,
            run_id=journal.run,
            actor=self.actor,
            journal=journal,
            redactor=self.redactor,
            request=request,
            dry_run=dry_run,
            prompter=prompter,
            observer=observer or NullObserver(),
            clock=self.clock,
            started_at=self.clock(),
            platform_factory=None if env_name is None else partial(self.platform, env_name),
        )
