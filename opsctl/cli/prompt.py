"""Asking a person: manual checklist items and typed confirmations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsctl.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console


class TerminalPrompter:
    """Asks y / n / s (skip, with a reason) for each manual item."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.out = Output.over(console)

    def confirm(self, item_id: str, title: str, instructions: str | None) -> tuple[str, str]:
        from rich.markup import escape
        from rich.prompt import Prompt

        self.out.show(f"[bold]?[/] {escape(title)} [dim]({item_id})[/]")
        if instructions:
            self.out.show(f"  [dim]{escape(instructions.strip())}[/]")
        answer = Prompt.ask("  done?", choices=["y", "n", "s"], default="n", console=self.console)
        if answer == "y":
            return "yes", ""
        if answer == "s":
            reason = ""
            while not reason.strip():
                reason = Prompt.ask("  reason for skipping (recorded in the audit log)", console=self.console)
            return "skip", reason.strip()
        reason = Prompt.ask("  what is missing? (optional)", default="", console=self.console)
        return "no", reason.strip()

    def type_to_confirm(self, env: str, plan: str) -> bool:
        from rich.markup import escape
        from rich.prompt import Prompt

        self.out.show(f"[bold yellow]{escape(env)} is protected.[/] Plan: {escape(plan)}")
        typed = Prompt.ask(f"  type [bold]{escape(env)}[/] to go ahead", console=self.console)
        return typed.strip() == env
