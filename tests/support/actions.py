"""Call one registered action the way the executor does: validated ``with:`` model, real context."""

from __future__ import annotations

from typing import Any

from opsctl.engine.actions import get_action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome


def call(ctx: RunContext, name: str, **with_: Any) -> Outcome:
    spec = get_action(name)
    return spec.fn(ctx, spec.params.model_validate(with_))
