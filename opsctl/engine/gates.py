"""What a checklist or runbook asks of the person who runs it, known before anything runs.

- the manual items it has, so that a mistyped ``--confirm`` or ``--waive`` id
  is bad input naming the real ones, not a gate that silently stays unconfirmed;
- whether it needs an environment: an item's template reads ``env``, or its
  action reads the environment (``needs_env``), so ``checklist run`` without
  ``--env`` says so instead of failing inside a built-in file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from opsctl.engine.actions import get_action
from opsctl.errors import BadInput

if TYPE_CHECKING:
    from pathlib import Path

    from opsctl.engine.loader import LoadedChecklist, LoadedRunbook
    from opsctl.engine.request import RunRequest

MANUAL = "manual"


def manual_item_ids(checklists: Iterable[LoadedChecklist]) -> list[str]:
    """The ids of the manual items of ``checklists``, in file order, each once."""
    ids = (item.id for loaded in checklists for item in loaded.model.items if item.uses == MANUAL)
    return list(dict.fromkeys(ids))


def runbook_checklists(runbook: LoadedRunbook, project: Path | None) -> list[LoadedChecklist]:
    """The checklists a runbook's steps run, and those of the runbook it rolls back with.

    ``--confirm`` and ``--waive`` apply to the automatic rollback's gates too.
    """
    from opsctl.engine.loader import load_checklist, load_runbook

    names = [s.checklist for s in runbook.model.steps if s.checklist is not None]
    rollback = runbook.model.rollback_runbook
    if rollback is None and any(s.on_failure == "rollback" for s in runbook.model.steps):
        rollback = "rollback"
    if rollback is not None and rollback != runbook.name:
        names += [s.checklist for s in load_runbook(rollback, project).model.steps if s.checklist is not None]
    return [load_checklist(name, project) for name in dict.fromkeys(names)]


def check_gate_ids(request: RunRequest, known: list[str], owner: str) -> None:
    """BadInput for a ``--confirm``/``--waive`` id that is no manual item of ``owner``.

    ``owner`` names where the ids come from, e.g. "the deploy runbook" or "the pre-deploy checklist".
    """
    listed = f"{owner}'s manual items are: {', '.join(known)}" if known else f"{owner} has no manual items"
    for flag, item in request.gate_ids():
        if item not in known:
            raise BadInput(f"unknown manual item '{item}' for {flag}; {listed}")


def check_runbook_gate_ids(request: RunRequest, runbook: LoadedRunbook, project: Path | None) -> None:
    """BadInput for a ``--confirm``/``--waive`` id that no checklist of ``runbook`` has as a manual item."""
    if request.gate_ids():
        known = manual_item_ids(runbook_checklists(runbook, project))
        check_gate_ids(request, known, f"the {runbook.name} runbook")


def needs_environment(checklist: LoadedChecklist) -> bool:
    """Whether an item's ``when``/``with`` reads ``env`` or its action reads the environment."""
    for item in checklist.model.items:
        if get_action(item.uses).needs_env:
            return True
        if item.when is not None and "env" in _variables(_as_template(item.when)):
            return True
        if any("env" in _variables(text) for text in _strings(item.with_)):
            return True
    return False


def require_environment(checklist: LoadedChecklist, env_name: str | None) -> None:
    """BadInput naming ``--env`` when ``checklist`` needs an environment and none was given."""
    if env_name is None and needs_environment(checklist):
        raise BadInput(f"checklist '{checklist.name}' needs an environment: pass --env ENV")


def _as_template(expression: str) -> str:
    text = expression.strip()
    return text if text.startswith("{{") else "{{ " + text + " }}"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _variables(text: str) -> set[str]:
    """The names a template reads from its context (none for plain text or one that does not parse)."""
    if "{{" not in text and "{%" not in text:
        return set()
    from jinja2 import meta
    from jinja2.exceptions import TemplateSyntaxError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    try:
        return set(meta.find_undeclared_variables(ImmutableSandboxedEnvironment().parse(text)))
    except TemplateSyntaxError:
        return set()  # the loader reports syntax errors, naming the file and line
