"""The values the docs are made of: commands as the CLI describes them, and what a sync did."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OptionDoc:
    """One option or argument of a command, as ``--help`` shows it."""

    flags: tuple[str, ...]  # ("--image", "-i"); an argument: ("ENV",)
    help: str
    required: bool = False
    repeatable: bool = False
    default: str | None = None
    argument: bool = False


@dataclass(frozen=True)
class CommandDoc:
    """A CLI command that runs a runbook: how to call it (from the CLI's own definition)."""

    usage: str  # opsctl deploy ENV [OPTIONS]
    summary: str  # the first line of its help
    examples: tuple[str, ...]
    options: tuple[OptionDoc, ...]


@dataclass(frozen=True)
class DocsResult:
    """Paths (relative to the output folder) that were written or are stale, and those already current."""

    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    check: bool  # True: nothing was written; ``changed`` lists the stale files

    @property
    def ok(self) -> bool:
        return not (self.check and self.changed)

    def as_dict(self) -> dict[str, object]:
        key = "stale" if self.check else "written"
        return {"ok": self.ok, key: list(self.changed), "unchanged": list(self.unchanged)}
