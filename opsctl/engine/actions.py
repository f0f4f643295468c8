"""The action registry: dotted names -> functions with a typed ``with:`` model.

An action is ``fn(ctx, params) -> Outcome`` where ``params`` is an instance of
the action's pydantic model (``extra="forbid"``), so the keys a checklist may
write under ``with:`` are exactly the model's fields.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from opsctl.errors import BadInput

if TYPE_CHECKING:
    from pydantic import BaseModel

    from opsctl.engine.context import RunContext
    from opsctl.engine.outcome import Outcome

P = TypeVar("P", bound="BaseModel")
ActionFn = Callable[["RunContext", Any], "Outcome"]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    fn: ActionFn
    params: type[BaseModel]
    mutating: bool
    doc: str

    def required_keys(self) -> list[str]:
        return [n for n, f in self.params.model_fields.items() if f.is_required()]

    def known_keys(self) -> list[str]:
        return [f.alias or n for n, f in self.params.model_fields.items()]


_REGISTRY: dict[str, ActionSpec] = {}
_extra_modules: list[str] = []
_loaded = False


def action(
    name: str, params: type[P], *, mutating: bool = False
) -> Callable[[Callable[[RunContext, P], Outcome]], Callable[[RunContext, P], Outcome]]:
    """Register ``fn`` as the action ``name``; ``mutating`` actions are skipped in dry runs."""

    def register(fn: Callable[[RunContext, P], Outcome]) -> Callable[[RunContext, P], Outcome]:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        _REGISTRY[name] = ActionSpec(name, fn, params, mutating, doc)
        return fn

    return register


def extend(*modules: str) -> None:
    """Add modules outside ``opsctl.actions`` that register actions (plugins, tests)."""
    _extra_modules.extend(m for m in modules if m not in _extra_modules)


def _load() -> None:
    """Import every module of ``opsctl.actions`` (each registers its family) on first lookup.

    Deferred so that `opsctl --help` never pays for them.
    """
    global _loaded
    if not _loaded:
        import opsctl.actions as package

        names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name != "registry")
        for module in (*(f"opsctl.actions.{n}" for n in names), *_extra_modules):
            importlib.import_module(module)
        _loaded = True


def get_action(name: str) -> ActionSpec:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise BadInput(f"unknown action '{name}' (known: {', '.join(sorted(_REGISTRY))})") from None


def all_actions() -> dict[str, ActionSpec]:
    _load()
    return dict(sorted(_REGISTRY.items()))
