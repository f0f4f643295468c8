"""One application context per invocation, made in the root callback (STYLE 6).

It holds the output mode, the consoles and (lazily) the core Workspace.
Tests pass their own instance as ``obj=`` to swap parts (clock, actor, tty).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from opsctl.cli.output import Output
    from opsctl.workspace import Workspace


@dataclass
class Application:
    config_path: str | None = None
    json: bool = False
    no_color: bool = False
    debug: bool = False
    interactive: bool | None = None  # None: decided by whether stdin/stdout are terminals
    actor: str | None = None
    clock: Callable[[], datetime] | None = None
    _workspace: Workspace | None = field(default=None, repr=False)
    _console: Console | None = field(default=None, repr=False)
    _err_console: Console | None = field(default=None, repr=False)

    @property
    def is_tty(self) -> bool:
        if self.interactive is not None:
            return self.interactive
        return sys.stdin.isatty() and sys.stdout.isatty()

    @property
    def color(self) -> bool:
        return not self.no_color and "NO_COLOR" not in os.environ

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(no_color=not self.color, highlight=False, soft_wrap=False)
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            from rich.console import Console

            self._err_console = Console(stderr=True, no_color=not self.color, highlight=False)
        return self._err_console

    @property
    def output(self) -> Output:
        """Where this command's output goes, in its mode (human or ``--json``)."""
        from opsctl.cli.output import Output

        return Output(self, json=self.json)

    def workspace(self) -> Workspace:
        if self._workspace is None:
            from opsctl.workspace import Workspace

            kwargs: dict[str, Any] = {"actor": self.actor}
            if self.clock is not None:
                kwargs["clock"] = self.clock
            self._workspace = Workspace.load(self.config_path, **kwargs)
        return self._workspace

    def redact(self, text: str) -> str:
        """Mask secrets in text bound for the terminal, with or without a loaded workspace."""
        if self._workspace is not None:
            return self._workspace.redactor.text(text)
        from opsctl.values.redact import Redactor

        return Redactor.from_env(()).text(text)
