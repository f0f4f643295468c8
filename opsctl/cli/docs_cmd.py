"""``opsctl docs``: write (or ``--check``) the runbook and checklist pages generated from the YAML.

The pages describe the commands that run each runbook from the commands' own
click definitions (usage, options, help, examples), so a renamed flag shows
up in the docs, and ``--check`` fails CI until they are regenerated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from opsctl.cli.common import app_of

if TYPE_CHECKING:
    from opsctl.docs.model import CommandDoc

# typer runs on click, vendored as typer._click by recent typer and not public there: commands and
# parameters are read by their (stable) click attributes rather than by class.
Command = Any

# Which command runs which runbook (the CLI's knowledge, not the core's).
RUNBOOK_COMMANDS = {"deploy": ("deploy",), "rollback": ("rollback",), "hot-patch": ("hotpatch",)}
_EXAMPLES = re.compile(r"^\s*Examples?:\s*$")


def docs(
    ctx: typer.Context,
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 listing the pages that are out of date."),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for runbooks/ and checklists/ (default: the project folder of opsctl.yaml)."
    ),
) -> None:
    """Generate runbooks/*.md and checklists/README.md from the YAML, so the docs cannot drift.

    One page per runbook (deployment.md, rollback.md, hot-patch.md: purpose,
    when to use, the command, every step with its checklist items, what
    happens on failure, exit codes) and one reference of every checklist.
    Only pages whose text changed are written. Exit 0 when written or
    current, 1 with --check when a page is stale.

    \b
    Examples:
      opsctl docs
      opsctl docs --check
      opsctl docs --out /tmp/opsctl-docs
    """
    from opsctl.docs import render_docs, sync_docs

    application = app_of(ctx)
    project_dir = application.workspace().config.project_dir
    pages = render_docs(project_dir, command_docs(ctx.find_root().command))
    target = out if out is not None else project_dir
    result = sync_docs(pages, target, check=check)
    output = application.output  # not `out`: that is --out
    if output.json:
        output.json_document({**result.as_dict(), "folder": str(target)})
    elif check and result.changed:
        for page in result.changed:
            output.text(f"stale: {target / page}", err=True)
        output.text(f"{len(result.changed)} page(s) out of date: run `opsctl docs` and commit them", err=True)
    else:
        for page in result.changed:
            output.show(f"wrote {target / page}")
        output.show(f"{len(result.unchanged)} page(s) already up to date in {target}")
    raise typer.Exit(0 if result.ok else 1)


def command_docs(root: Command) -> dict[str, CommandDoc]:
    """The command of each runbook, described from its click definition."""
    commands = dict(walk(root))
    return {runbook: describe(path, commands[path]) for runbook, path in RUNBOOK_COMMANDS.items() if path in commands}


def walk(root: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every command and group below ``root``, with its path (``("audit", "verify")``), in listing order."""
    if not hasattr(root, "list_commands"):
        return
    context = typer.Context(root, info_name=" ".join(("opsctl", *path)))
    for name in root.list_commands(context):
        command = root.get_command(context, name)
        if command is None or command.hidden:
            continue
        yield (*path, name), command
        yield from walk(command, (*path, name))


def examples(help_text: str | None) -> list[str]:
    """The ``opsctl ...`` lines under a help text's ``Example:`` / ``Examples:`` heading."""
    found: list[str] = []
    inside = False
    for line in (help_text or "").splitlines():
        if _EXAMPLES.match(line):
            inside = True
        elif inside and line.strip().startswith("opsctl "):
            found.append(line.strip())
        elif inside and line.strip():
            inside = False
    return found


def describe(path: tuple[str, ...], command: Command) -> CommandDoc:
    from opsctl.docs.model import CommandDoc, OptionDoc

    arguments = [p for p in command.params if p.param_type_name == "argument"]
    options = []
    for param in command.params:
        if param.param_type_name == "argument":
            options.append(
                OptionDoc((str(param.name).upper(),), getattr(param, "help", None) or "", required=True, argument=True)
            )
        elif param.param_type_name == "option" and not param.hidden:
            default = param.default if not param.is_flag and not param.multiple and param.default else None
            options.append(
                OptionDoc(
                    tuple(param.opts + param.secondary_opts),
                    param.help or "",
                    required=param.required,
                    repeatable=param.multiple,
                    default=str(default) if default is not None else None,
                )
            )
    required = [
        f"{param.opts[0]} {str(param.name).upper()}"
        for param in command.params
        if param.param_type_name == "option" and param.required
    ]
    usage = " ".join(("opsctl", *path, *(str(a.name).upper() for a in arguments), *required, "[OPTIONS]"))
    summary = (command.help or "").replace("\b", "").strip().split("\n\n")[0]
    return CommandDoc(usage, " ".join(summary.split()), tuple(examples(command.help)), tuple(options))


def register(app: typer.Typer) -> None:
    app.command()(docs)
