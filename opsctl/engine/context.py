"""What an action sees while it runs: the run context.

The context is built once per run by the core (never by the CLI layer) and
handed to every action. It knows nothing of typer or rich: a person is
reached only through the :class:`Prompter` protocol, the live view only
through :class:`Observer`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from opsctl.engine.request import RunRequest
from opsctl.engine.state import RunState
from opsctl.values.redact import Redactor

if TYPE_CHECKING:
    from opsctl.audit.log import Journal
    from opsctl.config import Config, Environment
    from opsctl.platforms.base import Platform


class Prompter(Protocol):
    """Asks a person to confirm a manual item. Returns (answer, reason)."""

    def confirm(self, item_id: str, title: str, instructions: str | None) -> tuple[str, str]:
        """answer is "yes", "no" or "skip"; reason is free text (required for skip)."""
        ...

    def type_to_confirm(self, env: str, plan: str) -> bool:
        """Show the plan and ask the person to type the environment's name."""
        ...


class Observer(Protocol):
    """Receives progress so that a view (Rich, plain, JSON) can draw it."""

    def event(self, kind: str, data: dict[str, Any]) -> None: ...


class NullObserver:
    """Discards progress (runs without a view, tests)."""

    def event(self, kind: str, data: dict[str, Any]) -> None:  # noqa: ARG002 - ignores all by design
        return None


def utcnow() -> datetime:
    return datetime.now(UTC)


def unfenced() -> None:
    """The fence of a run that holds no lock (dry runs, checklists): nothing to check."""


@dataclass
class RunContext:
    """Everything a running checklist or runbook step may use.

    ``request`` is what the person asked for (image, reason, confirmations...);
    ``state`` carries values between steps (``release``, ``previous``, ...);
    ``platform()`` asks ``platform_factory`` for the environment's driver on first use.
    ``fence`` raises (``LockLost``) once the run no longer holds its environment's
    lock; whatever changes the environment calls it right before each change
    (the platform drivers before every mutating API call).
    """

    config: Config
    env_name: str | None
    run_id: str
    actor: str
    journal: Journal
    redactor: Redactor = field(default_factory=Redactor)
    request: RunRequest = field(default_factory=RunRequest)
    state: RunState = field(default_factory=RunState)
    dry_run: bool = False
    prompter: Prompter | None = None
    observer: Observer = field(default_factory=NullObserver)
    clock: Callable[[], datetime] = utcnow
    cancel: threading.Event = field(default_factory=threading.Event)
    started_at: datetime = field(default_factory=utcnow)
    platform_factory: Callable[[], Platform] | None = None  # the workspace's, for this environment
    fence: Callable[[], None] = unfenced  # set by the run once it holds the lock
    _platform: Platform | None = field(default=None, repr=False)

    @property
    def env(self) -> Environment:
        if self.env_name is None:
            from opsctl.errors import BadInput

            raise BadInput("this action needs an environment; pass --env ENV")
        return self.config.environments[self.env_name]

    @property
    def params(self) -> dict[str, Any]:
        """The request as journaled and as templates see it (``params.image`` is text here)."""
        return self.request.params()

    @property
    def project_dir(self) -> Path:
        return self.config.project_dir

    @property
    def state_dir(self) -> Path:
        return self.config.state_path

    def platform(self) -> Platform:
        if self._platform is None:
            if self.platform_factory is None:  # the workspace gives one to every context with an environment
                from opsctl.errors import BadInput

                raise BadInput("this action needs an environment; pass --env ENV")
            self._platform = self.platform_factory()
        return self._platform

    def platform_if_made(self) -> Platform | None:
        """The driver if a step already asked for it; never makes one (an interrupted run winds it down)."""
        return self._platform

    def emit(self, kind: str, **data: Any) -> None:
        """Progress for the view (already redacted)."""
        self.observer.event(kind, self.redactor.value(data))
