"""What the doc templates see: runbooks, their steps and their checklists as plain dicts, from the YAML.

Everything a page says about a procedure comes from here (the YAML files, the
action registry's one-line docs, the policy rules) or from the CLI's own
command definitions; the templates only add the prose around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.values.durations import format_duration

if TYPE_CHECKING:
    from opsctl.docs.model import CommandDoc
    from opsctl.engine.loader import LoadedChecklist, LoadedRunbook
    from opsctl.engine.models import Item, Step

# The seed links these names (runbooks/deployment.md ...); other runbooks get NAME.md.
DOC_NAMES = {"deploy": "deployment", "rollback": "rollback", "hot-patch": "hot-patch"}

CHANGE_TYPES = {
    "standard": "Standard change (low risk, pre-approved): no approver or promotion check, and freeze windows "
    "do not stop it.",
    "normal": "Normal change (medium risk, needs approval): the environment's `requires.approvals` and "
    "`requires.promoted_from` in opsctl.yaml apply, and a freeze window refuses it.",
    "emergency": "Emergency change (high risk, expedited): tied to an incident; no approver or promotion check; "
    "a freeze window lets it through and the audit log records that it did.",
}

# `when:` conditions the built-ins use, in words; any other is shown as written.
CONDITIONS = {
    "not run.dry_run": "skipped in dry runs",
    "github is not none": "only when `github:` is configured in opsctl.yaml",
    "github is none": "only when `github:` is not configured in opsctl.yaml",
    "env.protected": "protected environments only",
    "env.git.tag_pattern": "only when the environment sets `git.tag_pattern`",
}

EXIT_CODES = (
    (0, "success: the change is verified (or the dry run passed)"),
    (1, "the runbook failed: a gate or a verification failed (and any automatic rollback succeeded)"),
    (2, "bad input: usage, config, checklist or runbook file (one line says what and where)"),
    (3, "needs a human: the automatic rollback failed, or the platform is in an unknown state"),
    (4, "the environment is locked by another run (the message names who and since when)"),
    (5, "a service opsctl needs (the signed S3 audit record) is unavailable before any change; nothing changed"),
    (130, "interrupted (Ctrl-C or SIGTERM): the run is journaled; continue it with `opsctl resume RUN`"),
)


def duration(seconds: float) -> str:
    """``30s``, ``5m``, ``1h30m`` as people write them in the YAML; odd values as format_duration renders them."""
    whole = int(seconds)
    if whole != seconds or whole < 1:
        return format_duration(seconds)
    for unit, size in (("h", 3600), ("m", 60)):
        if whole >= size and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s" if whole < 60 else format_duration(seconds)


def doc_path(runbook: str) -> str:
    return f"runbooks/{DOC_NAMES.get(runbook, runbook)}.md"


def condition(when: str | None) -> str | None:
    if when is None:
        return None
    return CONDITIONS.get(when.strip(), f"only when `{when.strip()}` is true")


def runbook_context(
    loaded: LoadedRunbook, checklists: Mapping[str, LoadedChecklist], command: CommandDoc | None
) -> dict[str, Any]:
    from opsctl.engine.actions import get_action

    model = loaded.model
    steps = []
    changed = False  # has an earlier step changed anything? (what a failure here leaves behind)
    for number, step in enumerate(model.steps, start=1):
        action = get_action(step.uses) if step.uses else None
        mutates = step.mutates if step.mutates is not None else bool(action and action.mutating)
        steps.append(
            {
                "number": number,
                "id": step.id,
                "title": step.title,
                "when": step.when,
                "condition": condition(step.when),
                "on_failure": step.on_failure,
                "after_change": changed,
                "changes_things": mutates,
                "timeout": duration(step.timeout) if step.timeout else None,
                "action": _action(step.uses, action.doc if action else "", mutates) if step.uses else None,
                "checklist": checklist_context(checklists[step.checklist]) if step.checklist else None,
                "with": _with(step),
            }
        )
        changed = changed or mutates
    rollback = model.rollback_runbook
    return {
        "name": loaded.name,
        "path": doc_path(loaded.name),
        "source": f"runbooks/{loaded.source.path.name}",
        "title": model.title,
        "description": model.description.strip(),
        "change_type": model.change_type,
        "change_type_text": CHANGE_TYPES[model.change_type],
        "rollback": {"name": rollback, "doc": Path(doc_path(rollback)).name} if rollback else None,
        "command": command,
        "steps": steps,
        "exit_codes": EXIT_CODES,
    }


def checklist_context(loaded: LoadedChecklist, used_by: tuple[str, ...] = ()) -> dict[str, Any]:
    from opsctl.engine.actions import get_action

    model = loaded.model
    return {
        "name": loaded.name,
        "source": f"checklists/{loaded.source.path.name}",
        "title": model.title,
        "description": model.description.strip(),
        "used_by": used_by,
        "items": [_item(item, get_action(item.uses).doc) for item in model.items],
    }


def actions_context(checklists: list[LoadedChecklist], runbooks: list[LoadedRunbook]) -> list[dict[str, Any]]:
    """Every action the files use, once, with what it checks or does."""
    from opsctl.engine.actions import get_action

    names = {item.uses for c in checklists for item in c.model.items}
    names |= {step.uses for r in runbooks for step in r.model.steps if step.uses}
    return [_action(name, get_action(name).doc, get_action(name).mutating) for name in sorted(names)]


def _action(name: str, doc: str, mutates: bool) -> dict[str, Any]:
    return {"name": name, "doc": doc, "changes_things": mutates}


def _item(item: Item, doc: str) -> dict[str, Any]:
    instructions = item.with_.get("instructions") if item.uses == "manual" else None
    retry = item.retry
    return {
        "id": item.id,
        "title": item.title,
        "uses": item.uses,
        "doc": doc,
        "blocking": item.blocking,
        "when": item.when,
        "condition": condition(item.when),
        "manual": item.uses == "manual",
        "instructions": " ".join(str(instructions).split()) if instructions else None,
        "retry": f"{retry.count} x, every {duration(retry.interval)}" if retry.count else None,
        "timeout": duration(item.timeout) if item.timeout else None,
        "needs": tuple(item.needs),
        "with": {k: v for k, v in item.with_.items() if k != "instructions"},
    }


def _with(step: Step) -> dict[str, Any]:
    return dict(step.with_)
