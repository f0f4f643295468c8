"""A checklist's items made ready before any runs: whether each applies, its ``with:`` values, dry-run skips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opsctl.engine.actions import ActionSpec, get_action
from opsctl.engine.context import RunContext
from opsctl.engine.gates import require_environment
from opsctl.engine.inputs import action_params, applies
from opsctl.engine.loader import LoadedChecklist
from opsctl.engine.models import Item
from opsctl.engine.outcome import Outcome
from opsctl.engine.variables import template_context


@dataclass(frozen=True)
class PreparedItem:
    """An item with its action, its validated parameters, and its outcome when that is known without running it."""

    index: int
    item: Item
    spec: ActionSpec
    params: Any  # the action's validated with-model, or None when not run
    decided: Outcome | None  # the outcome known before running: not applicable, or skipped in a dry run
    skip_needs_waiver: bool = False


def prepare_items(ctx: RunContext, checklist: LoadedChecklist, skips_need_waivers: bool) -> list[PreparedItem]:
    """Evaluate ``when`` and render ``with`` for every item before any runs: bad input stops all."""
    # Before any template: without an environment, `env.protected` would be blamed on the file.
    require_environment(checklist, ctx.env_name)
    variables = template_context(ctx)
    prepared = []
    for index, item in enumerate(checklist.model.items):
        spec = get_action(item.uses)
        loc = ("items", index)
        decided: Outcome | None = None
        params = None
        if not applies(checklist.doc, loc, item.when, variables):
            decided = Outcome.not_applicable(f"does not apply (when: {item.when})")
        else:
            params = action_params(checklist.doc, loc, spec, item.uses, with_=item.with_, variables=variables)
        mutates = spec.mutating if item.mutates is None else item.mutates
        if decided is None and ctx.dry_run and mutates:
            decided = Outcome.skipped("dry run: not run because it changes things")
        prepared.append(PreparedItem(index, item, spec, params, decided, skips_need_waivers and item.blocking))
    return prepared
