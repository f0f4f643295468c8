"""What a probe needs to know about its environment: the protocol every health function takes.

A run's :class:`~opsctl.engine.context.RunContext` satisfies it, and so does
:class:`EnvLook`, the ad-hoc look of ``opsctl health ENV``, ``opsctl slo`` and
``opsctl report``, which has no run, no journal and no run state. Functions that read the run's state
(the release being deployed, the pre-deploy baseline) take a RunContext instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from opsctl.config import Config, Environment
    from opsctl.values.redact import Redactor


class ProbeContext(Protocol):
    """An environment to probe, a redactor for what the probes learn, a cancel event and a clock."""

    @property
    def config(self) -> Config:
        """The whole configuration (``slo:`` targets live at the top level)."""
        ...

    @property
    def env_name(self) -> str | None:
        """The environment's name, for messages that say which config key to set."""
        ...

    @property
    def env(self) -> Environment:
        """The environment's config (BadInput when there is none)."""
        ...

    @property
    def redactor(self) -> Redactor:
        """Learns header values and hides every secret from summaries."""
        ...

    @property
    def cancel(self) -> threading.Event:
        """Set on Ctrl-C: every wait and retry in a probe ends early."""
        ...

    @property
    def clock(self) -> Callable[[], datetime]:
        """Now, in UTC (CloudWatch windows, baseline timestamps)."""
        ...


@dataclass(frozen=True)
class EnvLook:
    """A :class:`ProbeContext` outside a run: an environment, a redactor, a clock; no journal, no state."""

    config: Config
    env_name: str
    redactor: Redactor
    clock: Callable[[], datetime]
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def env(self) -> Environment:
        return self.config.environment(self.env_name)
