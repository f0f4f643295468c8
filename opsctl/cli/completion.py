"""Shell completion of opsctl's arguments: environments, checklists, runbooks, runs, incidents, releases.

Install it once with ``opsctl --install-completion`` (bash, zsh, fish,
PowerShell). Each completer below is a Typer ``autocompletion`` callback: it
gets the command's context and the word being typed, and answers
``(value, help)`` pairs, newest first where there is an order (zsh and fish
show the help). Typer hands completers no list of the words typed so far,
so :func:`~opsctl.cli.completion_data.typed_words` reads them from the
shell's variables. The data comes from
:mod:`opsctl.cli.completion_data`, which reads opsctl.yaml and the audit log
without validating or importing anything heavy; whatever goes wrong, a
completer answers nothing rather than print a traceback into the shell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from opsctl.cli import completion_data as data

Completions = list[tuple[str, str]]
DEPLOYING = ("deploy", "rollback", "hot-patch")  # the runbooks that make releases
SHOWN = 50  # at most this many ids per Tab press: a shell asks before listing more


def complete_env(ctx: typer.Context, incomplete: str) -> Completions:
    """Environment names from opsctl.yaml, in the file's order, with their platform."""

    def answer() -> Completions:
        project = _project(ctx)
        if project is None:
            return []
        envs = project.data.get("environments") or {}
        return [(name, _describe_env(envs.get(name))) for name in project.environments if name.startswith(incomplete)]

    return _safely(answer)


def complete_checklist(ctx: typer.Context, incomplete: str) -> Completions:
    """Checklist names: the built-in ones and the project's checklists/."""
    return _safely(lambda: _names("checklists", ctx, incomplete))


def complete_runbook(ctx: typer.Context, incomplete: str) -> Completions:
    """Runbook names: the built-in ones and the project's runbooks/."""
    return _safely(lambda: _names("runbooks", ctx, incomplete))


def complete_run(ctx: typer.Context, incomplete: str) -> Completions:
    """Run ids from the audit log, newest first (of the command's environment, when one is given)."""

    def answer() -> Completions:
        project = _project(ctx)
        if project is None:
            return []
        runs = data.recent_runs(project.audit_log, env=_env_of(ctx, project))
        found = [(r.run, f"{r.runbook} {r.env} · {r.status} · {_when(r.started)}") for r in runs]
        return [item for item in found if item[0].startswith(incomplete)][:SHOWN]

    return _safely(answer)


def complete_incident(ctx: typer.Context, incomplete: str) -> Completions:
    """Incident ids, newest first, each with its severity, state and title."""

    def answer() -> Completions:
        project = _project(ctx)
        if project is None:
            return []
        incidents = data.recent_incidents(project.audit_log)
        found = [(i.id, f"{i.severity} {'resolved' if i.resolved else 'open'}: {i.title}") for i in incidents]
        return [item for item in found if item[0].upper().startswith(incomplete.upper())][:SHOWN]

    return _safely(answer)


def complete_release(ctx: typer.Context, incomplete: str) -> Completions:
    """Verified release ids of the command's environment (all without one), newest first: rollback targets."""

    def answer() -> Completions:
        project = _project(ctx)
        if project is None:
            return []
        found: dict[str, str] = {}
        for r in data.recent_runs(project.audit_log, env=_env_of(ctx, project), limit=500):
            # A release a run verified (it succeeded); a failed run's release is no place to roll back to.
            if r.release and r.status == "succeeded" and r.runbook in DEPLOYING and r.release not in found:
                found[r.release] = f"{r.image or '?'} · {r.env} · {r.runbook} {_when(r.started)}"
        return [(key, text) for key, text in found.items() if key.startswith(incomplete)][:SHOWN]

    return _safely(answer)


def keep_order_in_shells() -> None:
    """Make bash (4.4+) and fish keep the order opsctl gives (newest first) instead of sorting it.

    Typer writes the shell scripts from templates; the option that keeps the
    order is one word in each. If a Typer release changes them, completion
    still works, sorted by the shell.
    """
    try:
        from typer import _completion_classes as classes
        from typer import _completion_shared as shared
    except ImportError:  # pragma: no cover - an older Typer: the shells sort
        return
    edits = {
        "bash": ("complete -o default -F", "complete -o nosort -o default -F"),
        "fish": ("--no-files --arguments", "--no-files --keep-order --arguments"),
    }
    scripts: Any = getattr(shared, "_completion_scripts", {})
    for shell, (old, new) in edits.items():
        if isinstance(scripts.get(shell), str):
            scripts[shell] = scripts[shell].replace(old, new)
    for name, shell in (("BashComplete", "bash"), ("FishComplete", "fish")):
        cls = getattr(classes, name, None)
        template = getattr(cls, "source_template", None)
        if cls is not None and isinstance(template, str):
            old, new = edits[shell]
            cls.source_template = template.replace(old, new)


def _safely(answer: Callable[[], Completions]) -> Completions:
    try:
        return answer()
    except Exception:  # a Tab press must never print a traceback into the shell
        return []


def _project(ctx: typer.Context) -> data.Project | None:
    explicit = data.config_from_args(data.typed_words()) or ctx.find_root().params.get("config")
    return data.find_project(explicit if isinstance(explicit, str) else None)


def _env_of(ctx: typer.Context, project: data.Project) -> str | None:
    """The environment the command line names so far (``rollback ENV``, ``--env ENV``), if any.

    Read from the typed words as well as from the parsed parameters: while an
    option waits for its value (``rollback production --to <Tab>``) click parses none.
    """
    env = ctx.params.get("env")
    if isinstance(env, str) and env:
        return env
    words = data.typed_words()
    for i, word in enumerate(words):
        if word in ("--env", "-e") and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--env="):
            return word.partition("=")[2]
    return next((word for word in words if word in project.environments), None)


def _names(kind: str, ctx: typer.Context, incomplete: str) -> Completions:
    project = _project(ctx)
    own = project.path.parent / kind if project is not None else None
    return [
        (name, "project" if own is not None and (own / f"{name}.yaml").is_file() else "built-in")
        for name in data.file_names(kind, project)
        if name.startswith(incomplete)
    ]


def _describe_env(spec: Any) -> str:
    platform = spec.get("platform") if isinstance(spec, dict) else None
    kind = str(platform.get("kind", "?")) if isinstance(platform, dict) else "?"
    return kind + (" · protected" if isinstance(spec, dict) and spec.get("protected") is True else "")


def _when(ts: str) -> str:
    return ts[:16].replace("T", " ")
