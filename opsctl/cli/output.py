"""The one place that writes a command's output to stdout and stderr.

Human text goes through the Rich console; ``--json`` output follows one
convention (README "JSON output"): a query prints one JSON document
(:func:`json_document`), a run prints JSON Lines (:func:`json_line`), one
event per line and last a summary object; an error is one ``error: ...`` line
on stderr, or with ``--json`` one ``{"error": ..., "exit_code": N}`` object.

Streams are looked up at each call (``sys.stdout``, not a saved reference) so
that ``redirect_stdout`` and test runners that swap the streams see the output.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console


def json_document(data: Any) -> None:
    """One JSON document on stdout, indented: the whole answer of a query command."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def json_line(data: Any) -> None:
    """One compact JSON object on one line of stdout: an event of a run, or its summary.

    Flushed at once: a pipe reader (CI, ``jq``) sees each event as it happens.
    """
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def error(message: str, exit_code: int, *, as_json: bool = False) -> None:
    """The one line on stderr that explains a failed command.

    ``error: MESSAGE`` for people; with ``--json`` the same message as
    ``{"error": MESSAGE, "exit_code": N}`` so that a script parses stderr too.
    Control characters in the message (a newline or an escape sequence quoted
    from hostile input or a server's answer) are shown escaped: one line, and
    nothing that reaches the terminal as a command.
    """
    line = json.dumps({"error": message, "exit_code": int(exit_code)}) if as_json else f"error: {_visible(message)}"
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _visible(message: str) -> str:
    """``message`` with each control character as its escape (``\\n``, ``\\x1b``), so that it stays one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)


def text(line: str, *, err: bool = False, end: str = "\n") -> None:
    """Plain text, never read as Rich markup: help, file contents, greppable lines."""
    stream = sys.stderr if err else sys.stdout
    stream.write(line + end)
    stream.flush()


class Consoles(Protocol):
    """Where the Rich consoles come from: the Application, made lazily (Rich costs import time)."""

    @property
    def console(self) -> Console: ...

    @property
    def err_console(self) -> Console: ...


@dataclass(frozen=True)
class _Fixed:
    """One console for both streams (a view drawn into a recording console in tests)."""

    console: Console

    @property
    def err_console(self) -> Console:
        return self.console


@dataclass(frozen=True)
class Output:
    """A command's output: human text, JSON in the command's mode, and its error line.

    ``human_to_stderr`` sends the human text to stderr, for a command whose
    stdout carries only JSON while people watch it work (``opsctl --json demo``).
    """

    consoles: Consoles
    json: bool = False
    human_to_stderr: bool = False

    @classmethod
    def over(cls, console: Console) -> Output:
        """Human output into this one console."""
        return cls(_Fixed(console))

    @property
    def console(self) -> Console:
        """The console human text goes to (also for Rich Live displays and prompts)."""
        return self.consoles.err_console if self.human_to_stderr else self.consoles.console

    def show(self, *objects: Any, **options: Any) -> None:
        """Rich text or renderables (tables, bars), with markup, for people."""
        self.console.print(*objects, **options)

    def rule(self, title: str, **options: Any) -> None:
        """A horizontal rule with a title: separates the steps of a tour."""
        self.console.rule(title, **options)

    def text(self, line: str, *, err: bool = False, end: str = "\n") -> None:
        """Plain text, never markup (see :func:`text`)."""
        text(line, err=err, end=end)

    def json_document(self, data: Any) -> None:
        json_document(data)

    def json_line(self, data: Any) -> None:
        json_line(data)

    def error(self, message: str, exit_code: int) -> None:
        """The error line in this command's mode (plain, or a JSON object with ``--json``)."""
        error(message, exit_code, as_json=self.json)
